-- 0007: the point-of-care results feed (web/api/poct): access tokens,
-- result versions, walk-in encounters, order states, device status, QC,
-- signed webhooks, HL7 v2 delivery to a LIS and the code-mapping table.
-- Timestamps are unix seconds (INTEGER, UTC); 0 = unset.

-- What the analyser said about the sample and the patient, verbatim, so a
-- LIS can match a result this appliance could not. A correction is a new
-- row: prev_id names the version it replaces, whose superseded_at is set.
ALTER TABLE observations ADD COLUMN specimen_id   TEXT    NOT NULL DEFAULT '';
ALTER TABLE observations ADD COLUMN patient_text  TEXT    NOT NULL DEFAULT '';
ALTER TABLE observations ADD COLUMN version       INTEGER NOT NULL DEFAULT 1;
ALTER TABLE observations ADD COLUMN prev_id       INTEGER REFERENCES observations(id);
ALTER TABLE observations ADD COLUMN superseded_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX observations_specimen ON observations(org_id, specimen_id) WHERE specimen_id <> '';
CREATE INDEX observations_encounter ON observations(org_id, appointment_id) WHERE appointment_id IS NOT NULL;

-- A walk-in encounter is an appointment opened at an instrument station.
ALTER TABLE appointments ADD COLUMN walk_in_station TEXT NOT NULL DEFAULT '';

-- An order's state follows its results: ordered, partial, resulted.
ALTER TABLE sample_orders ADD COLUMN state      TEXT    NOT NULL DEFAULT 'ordered';
ALTER TABLE sample_orders ADD COLUMN source     TEXT    NOT NULL DEFAULT 'page'; -- page, api, host-query
ALTER TABLE sample_orders ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

-- Bearer tokens of the POCT API, one organisation each. Only a hash is kept.
CREATE TABLE poct_tokens (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL UNIQUE,
    secret_hash  TEXT    NOT NULL,
    created_by   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX poct_tokens_org ON poct_tokens(org_id, id);

-- The last known state of each device, written when it changes (the port
-- manager) and when a message reports firmware or serial number.
CREATE TABLE device_status (
    device_id       INTEGER PRIMARY KEY REFERENCES devices(id),
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    state           TEXT    NOT NULL DEFAULT 'unknown', -- connected, disconnected, error, unknown
    port            TEXT    NOT NULL DEFAULT '',
    since           INTEGER NOT NULL DEFAULT 0,
    last_message_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    last_error_at   INTEGER NOT NULL DEFAULT 0,
    firmware        TEXT    NOT NULL DEFAULT '',
    serial_number   TEXT    NOT NULL DEFAULT '',
    qc_state        TEXT    NOT NULL DEFAULT 'none', -- none, ok, warning, failed
    qc_at           INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX device_status_org ON device_status(org_id);

-- Control material targets (mean and SD) per device, analyte, lot and level.
CREATE TABLE qc_targets (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    device_id  INTEGER NOT NULL REFERENCES devices(id),
    code       TEXT    NOT NULL,
    lot        TEXT    NOT NULL,
    level      TEXT    NOT NULL DEFAULT '',
    mean       REAL    NOT NULL,
    sd         REAL    NOT NULL CHECK (sd > 0),
    unit       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (org_id, device_id, code, lot, level)
);

-- One QC measurement, with the Westgard rules it violated (space separated).
CREATE TABLE qc_runs (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    device_id      INTEGER NOT NULL REFERENCES devices(id),
    observation_id INTEGER UNIQUE REFERENCES observations(id),
    code           TEXT    NOT NULL,
    lot            TEXT    NOT NULL DEFAULT '',
    level          TEXT    NOT NULL DEFAULT '',
    value_text     TEXT    NOT NULL,
    unit           TEXT    NOT NULL DEFAULT '',
    z              REAL,              -- (value - mean) / sd; NULL without a target or a number
    rules          TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL,  -- accepted, warning, rejected, not-evaluated
    measured_at    INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX qc_runs_series ON qc_runs(org_id, device_id, code, lot, level, measured_at, id);

-- Signed webhooks of the POCT API.
CREATE TABLE poct_webhooks (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT    NOT NULL UNIQUE,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    url         TEXT    NOT NULL,
    events      TEXT    NOT NULL, -- space separated
    secret      TEXT    NOT NULL, -- HMAC key, shown to the client once
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX poct_webhooks_org ON poct_webhooks(org_id, active);

-- One body to POST to one webhook. The body is built when the event is
-- read, so every retry sends the same bytes.
CREATE TABLE poct_deliveries (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    webhook_id      INTEGER NOT NULL REFERENCES poct_webhooks(id),
    event_id        INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    body            BLOB    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending', -- pending, delivered, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX poct_deliveries_due ON poct_deliveries(status, next_attempt_at);
CREATE INDEX poct_deliveries_org ON poct_deliveries(org_id, id);

-- LIS destinations for HL7 v2 ORU^R01 over MLLP.
CREATE TABLE lis_destinations (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    name          TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    port          INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    tls           INTEGER NOT NULL DEFAULT 0,
    hl7_version   TEXT    NOT NULL DEFAULT '2.5.1',
    send          TEXT    NOT NULL DEFAULT 'result', -- result: each final result; encounter: each completed encounter
    matched_only  INTEGER NOT NULL DEFAULT 0,
    receiving_app TEXT    NOT NULL DEFAULT '',
    receiving_facility TEXT NOT NULL DEFAULT '',
    removed_at    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX lis_destinations_name ON lis_destinations(org_id, name) WHERE removed_at = 0;

-- Every ORU^R01 built for a destination, with its control id (MSH-10),
-- kept byte for byte, and the state of its delivery. (destination, key)
-- is unique: re-reading the outbox never queues a message twice.
CREATE TABLE lis_messages (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    destination_id  INTEGER NOT NULL REFERENCES lis_destinations(id),
    dedup_key       TEXT    NOT NULL, -- what the message is about: result:ID, correction:ID:EVENT, encounter:ID
    kind            TEXT    NOT NULL, -- result, correction, encounter
    control_id      TEXT    NOT NULL UNIQUE,
    message         BLOB    NOT NULL,
    observations    INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL DEFAULT 'pending', -- pending, acked, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL DEFAULT 0,
    ack_code        TEXT    NOT NULL DEFAULT '',
    ack             BLOB,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    acked_at        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (destination_id, dedup_key)
);
CREATE INDEX lis_messages_due ON lis_messages(status, next_attempt_at);
CREATE INDEX lis_messages_org ON lis_messages(org_id, id);

-- The code-mapping table, versioned: each change publishes a new version
-- holding the whole table; messages name the version they used.
CREATE TABLE code_map_versions (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    version    INTEGER NOT NULL,
    note       TEXT    NOT NULL DEFAULT '',
    created_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, version)
);
CREATE TABLE code_map_entries (
    version_id  INTEGER NOT NULL REFERENCES code_map_versions(id),
    device_code TEXT    NOT NULL,
    system      TEXT    NOT NULL, -- NPU, LOINC
    code        TEXT    NOT NULL,
    display     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (version_id, device_code, system)
) WITHOUT ROWID;

-- Organisations whose fleet an admin of another organisation may see
-- (a distributor serving several clinics).
CREATE TABLE fleet_grants (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, org_id)
) WITHOUT ROWID;
