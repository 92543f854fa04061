-- 0011: OAuth2 clients (client credentials) for the FHIR, key-value,
-- reporting and event APIs; the key-value store; an index for searching a
-- patient's observations by code and date. Timestamps are unix seconds (UTC).

-- An API client issued to one organisation with the scopes it may ask for
-- (space separated, e.g. "system/*.read kv.write"). Only a hash of the
-- secret is kept: the secret is shown once, when the client is issued.
CREATE TABLE oauth_clients (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    client_id    TEXT    NOT NULL UNIQUE,
    secret_hash  TEXT    NOT NULL,
    kind         TEXT    NOT NULL, -- fhir: FHIR and the key-value, reporting and event APIs
    name         TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,
    created_by   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX oauth_clients_org ON oauth_clients(org_id, id);

-- Access tokens: short-lived, carrying the scopes granted (a subset of the
-- client's). Only a hash of the token is kept.
CREATE TABLE oauth_tokens (
    token_hash TEXT    PRIMARY KEY,
    client_id  INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    scopes     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oauth_tokens_expiry ON oauth_tokens(expires_at);

-- Key-value store: configuration that does not fit the clinical model.
-- version grows by one at every write and is the entity tag.
CREATE TABLE kv_entries (
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    namespace    TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    value        BLOB    NOT NULL,
    content_type TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, namespace, key)
) WITHOUT ROWID;

-- FHIR Observation search: patient + code + date is an index range scan.
CREATE INDEX observations_patient_code ON observations(org_id, patient_id, code, measured_at);
