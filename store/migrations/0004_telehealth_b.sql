-- 0004: telehealth API part B: webhooks and their durable deliveries, encounter
-- reports (encrypted zip blobs), report presets, locations (geolocations),
-- care locations (rooms/beds with an FMS device) and assistance requests.
-- Timestamps are unix seconds (UTC); 0 = unset.

-- A webhook of the telehealth API. The encryption key is kept as issued: the
-- appliance needs it to encrypt every payload (it is a shared secret, not a
-- password, so it cannot be stored hashed).
CREATE TABLE webhooks (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    endpoint       TEXT    NOT NULL,
    events_json    TEXT    NOT NULL DEFAULT '[]',
    encryption_key TEXT    NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deactivated_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhooks_org ON webhooks(org_id, active);

-- One row per (webhook, event) to deliver. data_json is the payload's "data"
-- member (ids only, e.g. {"patientId":12}); the body is encrypted afresh (new
-- salt and IV) at each attempt, so no ciphertext is kept.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    webhook_id      INTEGER NOT NULL REFERENCES webhooks(id),
    event_id        INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    subject_type    TEXT    NOT NULL,
    subject_id      INTEGER NOT NULL,
    data_json       TEXT    NOT NULL DEFAULT '{}',
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0, -- HTTP status of the last attempt (0 = no answer)
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_org ON webhook_deliveries(org_id, id);

-- Report presets: which columns an encounter report holds (the API's presetId).
CREATE TABLE report_presets (
    id           INTEGER PRIMARY KEY,
    uuid         TEXT    NOT NULL UNIQUE,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    name         TEXT    NOT NULL,
    columns_json TEXT    NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

-- Encounter reports ordered through the API. Only the encrypted zip is
-- stored; neither the password nor the plain CSV ever is.
CREATE TABLE encounter_reports (
    id           INTEGER PRIMARY KEY,
    uuid         TEXT    NOT NULL UNIQUE,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    preset_id    INTEGER NOT NULL REFERENCES report_presets(id),
    from_at      INTEGER NOT NULL,
    to_at        INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    error        TEXT    NOT NULL DEFAULT '',
    row_count    INTEGER NOT NULL DEFAULT 0,
    zip          BLOB,
    created_at   INTEGER NOT NULL,
    completed_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX encounter_reports_org ON encounter_reports(org_id, id);
CREATE INDEX encounter_reports_status ON encounter_reports(status);

-- Locations ("geolocations" of the FMS): a site of the organisation. The
-- perfect-answer API names one by geolocation_id and its visits go to the
-- location's waiting room.
CREATE TABLE locations (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT    NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    name            TEXT    NOT NULL,
    geolocation_id  TEXT    NOT NULL, -- a UUID, as the perfect-answer API requires
    waiting_room_id INTEGER REFERENCES waiting_rooms(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (org_id, geolocation_id),
    UNIQUE (org_id, name)
);

-- Care locations: a room or bed with its FMS device (camera cart, robot),
-- found by building/floor/room/bed, department/room/bed or device serial.
-- Lookups compare lower-cased, trimmed values (the *_key columns).
CREATE TABLE care_locations (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    location_id    INTEGER REFERENCES locations(id),
    name           TEXT    NOT NULL,
    building       TEXT    NOT NULL DEFAULT '',
    floor          TEXT    NOT NULL DEFAULT '',
    department     TEXT    NOT NULL DEFAULT '',
    room           TEXT    NOT NULL DEFAULT '',
    bed            TEXT    NOT NULL DEFAULT '',
    device_serial  TEXT    NOT NULL DEFAULT '',
    device_type    TEXT    NOT NULL DEFAULT 'robot',
    status         TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    availability   TEXT    NOT NULL DEFAULT 'offline' CHECK (availability IN ('online', 'offline')),
    patient_id     INTEGER REFERENCES patients(id), -- the patient now in this bed
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (org_id, name)
);
CREATE UNIQUE INDEX care_locations_device ON care_locations(org_id, device_serial) WHERE device_serial <> '';
CREATE INDEX care_locations_place ON care_locations(org_id, lower(building), lower(floor), lower(room));
CREATE INDEX care_locations_dept ON care_locations(org_id, lower(department), lower(room));
CREATE INDEX care_locations_patient ON care_locations(org_id, patient_id);

-- Assistance requests (virtual nursing and sitting). At most one open
-- ('incomplete') request per care location.
CREATE TABLE assistance_requests (
    id               INTEGER PRIMARY KEY,
    uuid             TEXT    NOT NULL UNIQUE,
    org_id           INTEGER NOT NULL REFERENCES orgs(id),
    care_location_id INTEGER NOT NULL REFERENCES care_locations(id),
    patient_id       INTEGER REFERENCES patients(id),
    status           TEXT    NOT NULL CHECK (status IN ('incomplete', 'complete', 'cancelled')),
    assigned_to      INTEGER REFERENCES users(id),
    from_api         INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX assistance_requests_open ON assistance_requests(care_location_id) WHERE status = 'incomplete';
CREATE INDEX assistance_requests_org ON assistance_requests(org_id, id);
