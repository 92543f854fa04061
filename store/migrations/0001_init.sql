-- 0001: the clinic model. Timestamps are unix seconds (INTEGER, UTC) unless a
-- column name ends in _text, which holds a value verbatim as a client sent it.

CREATE TABLE orgs (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    slug           TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    linking_secret TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT    NOT NULL UNIQUE,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'clinician', 'frontdesk')),
    password_hash TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER NOT NULL DEFAULT 0,
    last_login_at INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id, name);

-- Server-side sessions: deleting a row really signs the browser out.
CREATE TABLE sessions (
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    data         BLOB    NOT NULL,
    remote_addr  TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE patients (
    id                 INTEGER PRIMARY KEY, -- the SPID of the telehealth API
    uuid               TEXT    NOT NULL UNIQUE,
    org_id             INTEGER NOT NULL REFERENCES orgs(id),
    external_id        TEXT,                -- the client's own patient id
    mrn                TEXT    NOT NULL DEFAULT '',
    hsid               TEXT    NOT NULL DEFAULT '',
    national_id        TEXT    NOT NULL DEFAULT '', -- e.g. a Danish CPR number
    account_number     TEXT    NOT NULL DEFAULT '',
    first_name         TEXT    NOT NULL DEFAULT '',
    middle_name        TEXT    NOT NULL DEFAULT '',
    last_name          TEXT    NOT NULL DEFAULT '',
    names_json         TEXT    NOT NULL DEFAULT '[]',
    birth_date         TEXT    NOT NULL DEFAULT '', -- YYYY-MM-DD
    gender             TEXT    NOT NULL DEFAULT '',
    marital_status     TEXT    NOT NULL DEFAULT '',
    telecom_json       TEXT    NOT NULL DEFAULT '[]',
    contacts_json      TEXT    NOT NULL DEFAULT '[]',
    address_json       TEXT    NOT NULL DEFAULT '[]',
    preferred_language TEXT    NOT NULL DEFAULT '',
    race               TEXT    NOT NULL DEFAULT '',
    ethnicity          TEXT    NOT NULL DEFAULT '',
    active             INTEGER NOT NULL DEFAULT 1,
    deceased           INTEGER NOT NULL DEFAULT 0,
    deceased_at_text   TEXT    NOT NULL DEFAULT '',
    family_member      INTEGER NOT NULL DEFAULT 0,
    linked_by_email    INTEGER NOT NULL DEFAULT 0,
    email_group_type   TEXT    NOT NULL DEFAULT '',
    email_group_name   TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX patients_external ON patients(org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX patients_mrn ON patients(org_id, mrn) WHERE mrn <> '';
CREATE INDEX patients_hsid ON patients(org_id, hsid) WHERE hsid <> '';
CREATE INDEX patients_national ON patients(org_id, national_id) WHERE national_id <> '';
CREATE INDEX patients_name ON patients(org_id, last_name COLLATE NOCASE, first_name COLLATE NOCASE, id);

-- Search terms (lower-cased name parts and identifiers), so that a prefix
-- search is an index range scan even with 100,000 patients. sort_name
-- ("last first", lower-cased) lets a page of results be ordered from this
-- table alone, without reading every matching patient row.
CREATE TABLE patient_terms (
    org_id     INTEGER NOT NULL,
    term       TEXT    NOT NULL,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    sort_name  TEXT    NOT NULL,
    PRIMARY KEY (org_id, term, patient_id)
) WITHOUT ROWID;
CREATE INDEX patient_terms_patient ON patient_terms(patient_id, term);

CREATE TABLE waiting_rooms (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT    NOT NULL UNIQUE,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    name          TEXT    NOT NULL,
    service_line  TEXT    NOT NULL DEFAULT '',
    service_type  TEXT    NOT NULL DEFAULT '',
    slot_duration INTEGER NOT NULL DEFAULT 900, -- seconds
    hours_json    TEXT    NOT NULL DEFAULT '{}',
    timezone      TEXT    NOT NULL DEFAULT 'UTC',
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE appointments (
    id              INTEGER PRIMARY KEY, -- the SAID of the telehealth API
    uuid            TEXT    NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    patient_id      INTEGER NOT NULL REFERENCES patients(id),
    waiting_room_id INTEGER NOT NULL REFERENCES waiting_rooms(id),
    provider_id     INTEGER REFERENCES users(id),
    start_at        INTEGER NOT NULL,
    duration        INTEGER NOT NULL CHECK (duration BETWEEN 1 AND 86400),
    reasons_json    TEXT    NOT NULL DEFAULT '[]',
    status          TEXT    NOT NULL,
    video_call_id   TEXT    NOT NULL DEFAULT '',
    video_status    TEXT    NOT NULL DEFAULT '',
    external_id     TEXT,
    account_number  TEXT    NOT NULL DEFAULT '',
    episode_id      INTEGER,
    patient_token   TEXT    NOT NULL UNIQUE,
    provider_token  TEXT    NOT NULL UNIQUE,
    arrived_at      INTEGER NOT NULL DEFAULT 0,
    started_at      INTEGER NOT NULL DEFAULT 0,
    completed_at    INTEGER NOT NULL DEFAULT 0,
    cancelled_at    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX appointments_room_day ON appointments(org_id, waiting_room_id, start_at);
CREATE INDEX appointments_start ON appointments(org_id, start_at);
CREATE INDEX appointments_patient ON appointments(patient_id, start_at);
CREATE INDEX appointments_external ON appointments(org_id, external_id) WHERE external_id IS NOT NULL;

-- Every measured value, whatever brought it in, carried verbatim.
CREATE TABLE observations (
    id               INTEGER PRIMARY KEY,
    uuid             TEXT    NOT NULL UNIQUE,
    org_id           INTEGER NOT NULL REFERENCES orgs(id),
    patient_id       INTEGER REFERENCES patients(id),
    appointment_id   INTEGER REFERENCES appointments(id),
    device_id        INTEGER,
    source           TEXT    NOT NULL, -- serial, instrument-api, monitoring, poct, manual
    message_id       INTEGER,          -- the raw message it came from, if any
    category         TEXT    NOT NULL DEFAULT '',
    code_system      TEXT    NOT NULL DEFAULT '',
    code             TEXT    NOT NULL,
    display          TEXT    NOT NULL DEFAULT '',
    value_text       TEXT    NOT NULL DEFAULT '',
    unit             TEXT    NOT NULL DEFAULT '',
    reference_range  TEXT    NOT NULL DEFAULT '',
    flags            TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT '',
    measured_at_text TEXT    NOT NULL DEFAULT '',
    measured_at      INTEGER NOT NULL DEFAULT 0, -- parsed from measured_at_text when possible
    is_qc            INTEGER NOT NULL DEFAULT 0,
    operator         TEXT    NOT NULL DEFAULT '',
    instrument       TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL
);
CREATE INDEX observations_patient ON observations(org_id, patient_id, measured_at);
CREATE INDEX observations_device ON observations(org_id, device_id, created_at);

-- The transactional outbox: written in the same transaction as the change.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL,
    type         TEXT    NOT NULL,
    subject_type TEXT    NOT NULL,
    subject_id   INTEGER NOT NULL,
    payload      TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL
);
CREATE INDEX events_org ON events(org_id, id);

-- Where each durable consumer of the outbox has got to.
CREATE TABLE event_cursors (
    consumer TEXT    PRIMARY KEY,
    last_id  INTEGER NOT NULL
);

-- Append-only, hash-chained: each row's hash covers the previous row's hash.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    user_id     INTEGER,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL DEFAULT '',
    patient_id  INTEGER,
    detail      TEXT    NOT NULL DEFAULT '',
    remote_addr TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE INDEX audit_org ON audit_log(org_id, id);
CREATE INDEX audit_patient ON audit_log(org_id, patient_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
