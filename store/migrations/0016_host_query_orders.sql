-- 0016: an analyser's host query for a sample nobody labelled creates an
-- order (state 'requested', source 'host-query'). The sample may belong to
-- no known patient yet, so an order's patient becomes optional: it is set
-- when the sample is known, or later when the sample's results are matched.
-- SQLite cannot drop NOT NULL in place: the table is rebuilt with the same
-- rows, ids and indexes (no table references sample_orders).
CREATE TABLE sample_orders_new (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    sample_id      TEXT    NOT NULL,
    patient_id     INTEGER REFERENCES patients(id),
    appointment_id INTEGER REFERENCES appointments(id),
    station        TEXT    NOT NULL DEFAULT '',
    tests          TEXT    NOT NULL DEFAULT '', -- test codes, space separated, as the analyser names them
    priority       TEXT    NOT NULL DEFAULT 'R',
    created_by     INTEGER REFERENCES users(id),
    created_at     INTEGER NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'ordered', -- requested, ordered, partial, resulted
    source         TEXT    NOT NULL DEFAULT 'page',    -- page, api, host-query
    updated_at     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sample_orders_new (id, uuid, org_id, sample_id, patient_id, appointment_id, station, tests, priority,
    created_by, created_at, state, source, updated_at)
SELECT id, uuid, org_id, sample_id, patient_id, appointment_id, station, tests, priority,
    created_by, created_at, state, source, updated_at FROM sample_orders;
DROP TABLE sample_orders;
ALTER TABLE sample_orders_new RENAME TO sample_orders;
CREATE UNIQUE INDEX sample_orders_sample ON sample_orders(org_id, sample_id);
CREATE INDEX sample_orders_patient ON sample_orders(org_id, patient_id);
