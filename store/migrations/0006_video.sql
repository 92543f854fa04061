-- Video visits: a third participant's link (interpreter, relative) and the
-- chat kept with the visit.
ALTER TABLE appointments ADD COLUMN guest_token TEXT NOT NULL DEFAULT '';
CREATE INDEX appointments_guest_token ON appointments(guest_token);

CREATE TABLE visit_chat_messages (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    author_role    TEXT    NOT NULL, -- provider, patient, guest
    author_name    TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    created_at     INTEGER NOT NULL  -- unix seconds
);
CREATE INDEX visit_chat_messages_appointment ON visit_chat_messages(org_id, appointment_id, id);
