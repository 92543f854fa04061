-- 0012: remote patient monitoring (enrollments, alert rules and alerts, time
-- tracking), the monitoring API's refresh tokens, staff TOTP second factor
-- and per-organisation settings (API plan, MFA policy).

-- Per-organisation settings. A missing row means the defaults.
CREATE TABLE org_settings (
    org_id            INTEGER PRIMARY KEY REFERENCES orgs(id),
    api_plan          TEXT    NOT NULL DEFAULT 'standard' CHECK (api_plan IN ('standard', 'enterprise')),
    require_admin_mfa INTEGER NOT NULL DEFAULT 0,
    updated_at        INTEGER NOT NULL
);

-- Monitoring readings are rows of observations like any other: metric_key
-- names the metric definition (built-in or org-defined), value_num is the
-- numeric value (value_text keeps it as sent), external_device is the home
-- device's own identifier. A duplicate submission (same patient, metric,
-- device and time) finds the first row instead of adding a second.
ALTER TABLE observations ADD COLUMN metric_key TEXT;
ALTER TABLE observations ADD COLUMN value_num REAL;
ALTER TABLE observations ADD COLUMN external_device TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX observations_reading ON observations(org_id, patient_id, metric_key, external_device, measured_at)
    WHERE metric_key IS NOT NULL;
CREATE INDEX observations_metric ON observations(org_id, patient_id, metric_key, measured_at)
    WHERE metric_key IS NOT NULL;

-- Metric definitions an organisation adds to the built-in catalogue.
CREATE TABLE metric_definitions (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    key         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    unit        TEXT    NOT NULL, -- UCUM
    unit_names  TEXT    NOT NULL DEFAULT '', -- other spellings accepted, comma separated
    code_system TEXT    NOT NULL DEFAULT '',
    code        TEXT    NOT NULL DEFAULT '',
    min_value   REAL,
    max_value   REAL,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, key)
);

CREATE TABLE enrollments (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    patient_id     INTEGER NOT NULL REFERENCES patients(id),
    program        TEXT    NOT NULL CHECK (program IN ('RPM', 'RTM', 'CCM')),
    status         TEXT    NOT NULL CHECK (status IN ('ACTIVE', 'PAUSED', 'ENDED')),
    conditions     TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings (ICD-10 codes or text)
    devices        TEXT    NOT NULL DEFAULT '[]', -- JSON array of device identifiers
    care_team      TEXT    NOT NULL DEFAULT '[]', -- JSON array of user ids
    start_date     TEXT    NOT NULL, -- YYYY-MM-DD
    end_date       TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX enrollments_patient ON enrollments(org_id, patient_id);

-- Rules an enrollment's readings are checked against.
--   threshold:  count readings of metric_key with value <op> threshold within
--               window_seconds raise an alert;
--   no-reading: no reading of any metric for window_seconds raises one.
CREATE TABLE alert_rules (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    enrollment_id  INTEGER NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL CHECK (kind IN ('threshold', 'no-reading')),
    metric_key     TEXT    NOT NULL DEFAULT '',
    operator       TEXT    NOT NULL DEFAULT '' CHECK (operator IN ('', '>', '>=', '<', '<=')),
    threshold      REAL    NOT NULL DEFAULT 0,
    count          INTEGER NOT NULL DEFAULT 1,
    window_seconds INTEGER NOT NULL,
    severity       TEXT    NOT NULL CHECK (severity IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW')),
    active         INTEGER NOT NULL DEFAULT 1, -- 0: removed from the enrollment (its alerts stay)
    created_at     INTEGER NOT NULL
);
CREATE INDEX alert_rules_enrollment ON alert_rules(enrollment_id);

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT    NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    enrollment_id   INTEGER NOT NULL REFERENCES enrollments(id),
    patient_id      INTEGER NOT NULL REFERENCES patients(id),
    rule_id         INTEGER NOT NULL REFERENCES alert_rules(id),
    severity        TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('OPEN', 'RESOLVED')),
    message         TEXT    NOT NULL,
    raised_at       INTEGER NOT NULL,
    resolved_at     INTEGER NOT NULL DEFAULT 0,
    resolved_by     INTEGER REFERENCES users(id),
    resolution_note TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alerts_org ON alerts(org_id, status, raised_at);
CREATE INDEX alerts_rule ON alerts(rule_id, status);

-- The readings that raised an alert (or joined it while it stayed open).
CREATE TABLE alert_observations (
    alert_id       INTEGER NOT NULL REFERENCES alerts(id),
    observation_id INTEGER NOT NULL REFERENCES observations(id),
    PRIMARY KEY (alert_id, observation_id)
) WITHOUT ROWID;

-- Monitoring time a clinician spent on an enrollment.
CREATE TABLE time_entries (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT    NOT NULL UNIQUE,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    enrollment_id INTEGER NOT NULL REFERENCES enrollments(id),
    user_id       INTEGER REFERENCES users(id),
    started_at    INTEGER NOT NULL,
    seconds       INTEGER NOT NULL CHECK (seconds BETWEEN 1 AND 86400),
    interactive   INTEGER NOT NULL DEFAULT 0, -- an interactive communication with the patient
    note          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX time_entries_enrollment ON time_entries(org_id, enrollment_id, started_at);

-- Refresh tokens of the monitoring API. Only a hash of each token is kept.
-- A family is one sign-in: each refresh replaces its token with the next;
-- presenting a replaced token again revokes the whole family.
CREATE TABLE refresh_families (
    id         TEXT    PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL DEFAULT 0,
    revoked_why TEXT   NOT NULL DEFAULT ''
);
CREATE TABLE refresh_tokens (
    hash       TEXT    PRIMARY KEY,
    family_id  TEXT    NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

-- Staff TOTP second factor (RFC 6238). The secret must be readable to check
-- codes; last_step is the newest time step accepted, so a code is never
-- accepted twice. confirmed_at = 0 while enrolment awaits its first code.
CREATE TABLE user_totp (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret       TEXT    NOT NULL,
    confirmed_at INTEGER NOT NULL DEFAULT 0,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
-- One-time recovery codes, stored as SHA-256 hashes.
CREATE TABLE user_recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash    TEXT    NOT NULL,
    used_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, hash)
) WITHOUT ROWID;
