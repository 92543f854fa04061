-- 0002: instruments (devices, raw message log, stations, sample orders),
-- instrument API clients and tokens, and patient files (what instruments
-- send). Timestamps are unix seconds (INTEGER, UTC); 0 = unset.

-- A device is a configured port plus a protocol driver. It is found by its
-- port path, or by the USB serial number of its adapter (which survives
-- re-plugging into another socket), or it listens on a TCP address (HL7 over
-- MLLP). removed_at > 0 hides it; its messages and observations stay.
CREATE TABLE devices (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT    NOT NULL UNIQUE,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    name        TEXT    NOT NULL,
    protocol    TEXT    NOT NULL CHECK (protocol IN ('astm', 'hl7', 'line')),
    port_path   TEXT    NOT NULL DEFAULT '', -- /dev/ttyUSB0, COM3, a stable /dev/serial/by-id link
    usb_serial  TEXT    NOT NULL DEFAULT '', -- USB serial number of the adapter
    tcp_addr    TEXT    NOT NULL DEFAULT '', -- HOST:PORT to listen on (HL7/MLLP over TCP)
    baud        INTEGER NOT NULL DEFAULT 9600,
    data_bits   INTEGER NOT NULL DEFAULT 8,
    parity      TEXT    NOT NULL DEFAULT 'none', -- none, odd, even, mark, space
    stop_bits   TEXT    NOT NULL DEFAULT '1',    -- 1, 1.5, 2
    station     TEXT    NOT NULL DEFAULT '',     -- the device group a clinician works at
    options     TEXT    NOT NULL DEFAULT '',     -- driver options, key=value;key=value
    active      INTEGER NOT NULL DEFAULT 1,
    removed_at  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX devices_name ON devices(org_id, name) WHERE removed_at = 0;
CREATE INDEX devices_station ON devices(org_id, station);

-- Every message a device sent (or we sent it), byte for byte, stored before
-- it is acknowledged. status: received (stored, not yet ingested), ingested,
-- failed (error says why; an admin can re-run ingestion), ignored (nothing
-- to ingest: an empty or aborted transfer, a query answered), sent (ours).
CREATE TABLE device_messages (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    device_id     INTEGER NOT NULL REFERENCES devices(id),
    direction     TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    protocol      TEXT    NOT NULL,
    kind          TEXT    NOT NULL DEFAULT '', -- results, qc, query, query-reply, ack, aborted, ...
    raw           BLOB    NOT NULL,
    received_at   INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'received'
                  CHECK (status IN ('received', 'ingested', 'failed', 'ignored', 'sent')),
    error         TEXT    NOT NULL DEFAULT '',
    patient_ref   TEXT    NOT NULL DEFAULT '', -- identifiers the message named, for the unmatched queue
    patient_id    INTEGER REFERENCES patients(id),
    observations  INTEGER NOT NULL DEFAULT 0,  -- how many it produced at the last ingestion
    ingest_runs   INTEGER NOT NULL DEFAULT 0,
    ingested_at   INTEGER NOT NULL DEFAULT 0,
    reply_to      INTEGER REFERENCES device_messages(id) -- for direction 'out'
);
CREATE INDEX device_messages_device ON device_messages(org_id, device_id, id);
CREATE INDEX device_messages_status ON device_messages(org_id, status, id);

-- Samples labelled for a patient, so that a result (or a host query) that
-- names only the sample id finds its patient, and a query gets its orders.
CREATE TABLE sample_orders (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    sample_id      TEXT    NOT NULL,
    patient_id     INTEGER NOT NULL REFERENCES patients(id),
    appointment_id INTEGER REFERENCES appointments(id),
    station        TEXT    NOT NULL DEFAULT '',
    tests          TEXT    NOT NULL DEFAULT '', -- test codes, space separated, as the analyser names them
    priority       TEXT    NOT NULL DEFAULT 'R',
    created_by     INTEGER REFERENCES users(id),
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX sample_orders_sample ON sample_orders(org_id, sample_id);
CREATE INDEX sample_orders_patient ON sample_orders(org_id, patient_id);

-- The patient a clinician selected at a station: results that name nobody
-- go to this patient until the selection is cleared or expires.
CREATE TABLE station_selections (
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    station     TEXT    NOT NULL,
    patient_id  INTEGER NOT NULL REFERENCES patients(id),
    selected_by INTEGER REFERENCES users(id),
    selected_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, station)
);

-- Instrument integrations API clients (client credentials). Only a hash of
-- the secret is kept: the secret is shown once, when the client is issued.
CREATE TABLE instrument_clients (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    client_id    TEXT    NOT NULL UNIQUE,
    secret_hash  TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    created_by   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX instrument_clients_org ON instrument_clients(org_id, name);

-- Access tokens (10 minutes). Only a hash of the token is kept.
CREATE TABLE instrument_tokens (
    token_hash TEXT    PRIMARY KEY,
    client_id  INTEGER NOT NULL REFERENCES instrument_clients(id) ON DELETE CASCADE,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX instrument_tokens_expiry ON instrument_tokens(expires_at);

-- Files in a patient's record: what instruments send (an ECG PDF posted
-- through the instrument API). The bytes live in the database: one file is
-- one backup. (Questionnaire documents of the telehealth API live in
-- patient_documents, 0003.)
CREATE TABLE patient_files (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    patient_id     INTEGER NOT NULL REFERENCES patients(id),
    appointment_id INTEGER REFERENCES appointments(id),
    title          TEXT    NOT NULL DEFAULT '', -- e.g. the measurement type
    measured_at    INTEGER NOT NULL DEFAULT 0,
    filename       TEXT    NOT NULL,
    content_type   TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    data           BLOB    NOT NULL,
    source         TEXT    NOT NULL,            -- instrument-api, upload, ...
    source_ref     TEXT    NOT NULL DEFAULT '', -- who sent it (client name, user email)
    created_at     INTEGER NOT NULL
);
CREATE INDEX patient_files_patient ON patient_files(org_id, patient_id, created_at);
