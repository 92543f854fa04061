-- 0003: telehealth API part A (api keys, episodes of care, visit notes,
-- attachments, patient documents). Timestamps are unix seconds (UTC).

-- API keys of the telehealth face. The secret is stored as its SHA-256:
-- keys are 32 random bytes, so a fast hash is as strong as a slow one.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL UNIQUE, -- public part of the key, for lookup
    secret_hash  TEXT    NOT NULL,        -- hex SHA-256 of the whole key
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_org ON api_keys(org_id, id);

-- Episodes of care: a patient's course of treatment that appointments can
-- belong to (appointments.episode_id points here).
CREATE TABLE episodes (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT    NOT NULL UNIQUE, -- the API's episode id
    org_id            INTEGER NOT NULL REFERENCES orgs(id),
    patient_id        INTEGER NOT NULL REFERENCES patients(id),
    name              TEXT    NOT NULL,
    type              TEXT    NOT NULL,
    from_date         TEXT    NOT NULL, -- YYYY-MM-DD
    to_date           TEXT    NOT NULL DEFAULT '', -- YYYY-MM-DD or ''
    status            TEXT    NOT NULL CHECK (status IN ('planning', 'waitlist', 'active', 'onhold', 'finished', 'canceled')),
    objective         TEXT    NOT NULL DEFAULT '',
    reason_incomplete TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX episodes_patient ON episodes(org_id, patient_id, id);
CREATE INDEX appointments_episode ON appointments(org_id, episode_id) WHERE episode_id IS NOT NULL;

-- Visit note templates: a flow of sections holding questions, as JSON
-- {"sections":[{"title":"...","questions":[{"id":"uuid","text":"...","type":"..."}]}]}.
-- Every organisation gets the default templates on first use (see
-- store/visitnote.go), so organisations created later get them too.
CREATE TABLE visit_note_templates (
    id         INTEGER PRIMARY KEY,
    uuid       TEXT    NOT NULL UNIQUE,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    name       TEXT    NOT NULL,
    flow_json  TEXT    NOT NULL DEFAULT '{"sections":[]}',
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

-- One answer (a list of values) per appointment, template and question.
CREATE TABLE visit_note_responses (
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    template_id    INTEGER NOT NULL REFERENCES visit_note_templates(id),
    question_id    TEXT    NOT NULL,
    value_json     TEXT    NOT NULL DEFAULT '[]',
    answered_at    INTEGER NOT NULL,
    PRIMARY KEY (appointment_id, template_id, question_id)
) WITHOUT ROWID;

CREATE TABLE visit_note_comments (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    template_id    INTEGER NOT NULL REFERENCES visit_note_templates(id),
    user_id        INTEGER REFERENCES users(id),
    author         TEXT    NOT NULL DEFAULT '', -- the user's email when posted
    message        TEXT    NOT NULL,
    posted_at      INTEGER NOT NULL
);
CREATE INDEX visit_note_comments_appt ON visit_note_comments(appointment_id, id);

-- Files attached to an appointment; the bytes live in the database.
-- Deleting clears the bytes and keeps the row (deleted = 1) for the record.
CREATE TABLE attachments (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    title          TEXT    NOT NULL,
    mime_type      TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    data           BLOB,
    deleted        INTEGER NOT NULL DEFAULT 0,
    uploaded_at    INTEGER NOT NULL,
    deleted_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attachments_appt ON attachments(org_id, appointment_id, id);

-- Documents (questionnaires) added to a patient's record.
CREATE TABLE patient_documents (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    patient_id     INTEGER NOT NULL REFERENCES patients(id),
    name           TEXT    NOT NULL,
    date_time      INTEGER NOT NULL, -- unix seconds as the client sent it
    responses_json TEXT    NOT NULL DEFAULT '[]', -- [{"question":"...","response":"..."}]
    created_at     INTEGER NOT NULL
);
CREATE INDEX patient_documents_patient ON patient_documents(org_id, patient_id, id);
