-- 0009: visit documentation. Note templates get versions (editing one adds a
-- version; a note keeps the version it was started with), waiting rooms name
-- the template their appointments' notes start from, and a note has a life of
-- its own: draft, signed (locked), with addenda as the only later change.
-- Answers and comments stay in visit_note_responses and visit_note_comments,
-- the rows the telehealth API reads and writes, so page and API share them.

ALTER TABLE visit_note_templates ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

CREATE TABLE visit_note_template_versions (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    template_id INTEGER NOT NULL REFERENCES visit_note_templates(id),
    version     INTEGER NOT NULL,
    flow_json   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  INTEGER REFERENCES users(id),
    UNIQUE (template_id, version)
);
INSERT INTO visit_note_template_versions (org_id, template_id, version, flow_json, created_at)
    SELECT org_id, id, 1, flow_json, created_at FROM visit_note_templates;

ALTER TABLE waiting_rooms ADD COLUMN note_template_id INTEGER REFERENCES visit_note_templates(id);

-- One note per appointment and template. status: draft or signed.
-- revision counts changes, so signing can refuse a note that changed
-- between reading it (to print its summary) and signing it.
CREATE TABLE visit_notes (
    id                    INTEGER PRIMARY KEY,
    uuid                  TEXT    NOT NULL UNIQUE,
    org_id                INTEGER NOT NULL REFERENCES orgs(id),
    appointment_id        INTEGER NOT NULL REFERENCES appointments(id),
    template_id           INTEGER NOT NULL REFERENCES visit_note_templates(id),
    template_version      INTEGER NOT NULL,
    status                TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed')),
    revision              INTEGER NOT NULL DEFAULT 0,
    signed_at             INTEGER NOT NULL DEFAULT 0,
    signed_by             INTEGER REFERENCES users(id),
    signer                TEXT    NOT NULL DEFAULT '',
    summary_attachment_id INTEGER REFERENCES attachments(id),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    UNIQUE (appointment_id, template_id)
);
CREATE INDEX visit_notes_org ON visit_notes(org_id, appointment_id);

-- Notes answered before versions existed were written with version 1.
INSERT INTO visit_notes (uuid, org_id, appointment_id, template_id, template_version, created_at, updated_at)
    SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a'
                 || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
           org_id, appointment_id, template_id, 1, MIN(answered_at), MAX(answered_at)
    FROM visit_note_responses GROUP BY org_id, appointment_id, template_id;

-- Corrections to a signed note: never an edit, always an addendum.
CREATE TABLE visit_note_addenda (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    note_id        INTEGER NOT NULL REFERENCES visit_notes(id),
    user_id        INTEGER REFERENCES users(id),
    author         TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX visit_note_addenda_note ON visit_note_addenda(note_id, id);

