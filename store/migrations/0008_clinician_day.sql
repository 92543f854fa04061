-- 0008: what the clinician's day needs: who moved an appointment to which
-- status and why, each user's and organisation's language, and the
-- organisation's outgoing mail server for visit-link e-mails.

CREATE TABLE appointment_status_history (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    from_status    TEXT    NOT NULL, -- '' when the appointment was created
    to_status      TEXT    NOT NULL,
    reason         TEXT    NOT NULL DEFAULT '',
    user_id        INTEGER,          -- NULL for API clients and visit links
    actor          TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL  -- unix seconds
);
CREATE INDEX appointment_status_history_appt ON appointment_status_history(org_id, appointment_id, id);

-- '' = follow the organisation.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE orgs ADD COLUMN language TEXT NOT NULL DEFAULT 'en';

-- The password is kept readable: the appliance must present it to the mail
-- server. It is never shown again in the admin pages.
CREATE TABLE org_mail_settings (
    org_id     INTEGER PRIMARY KEY REFERENCES orgs(id),
    host       TEXT    NOT NULL DEFAULT '',
    port       INTEGER NOT NULL DEFAULT 587,
    username   TEXT    NOT NULL DEFAULT '',
    password   TEXT    NOT NULL DEFAULT '',
    from_addr  TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);
