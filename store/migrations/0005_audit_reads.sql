-- 0005: reads in the audit log are indexed by patient in bulk, not row by row.
--
-- Reads are most of the audit log (every API read of a patient writes one).
-- Kept in audit_patient, each read of a random patient dirtied a random page
-- of that index, and writing those pages cost more than the rest of the read.
-- Now audit_patient holds only the other actions; reads reach a patient's
-- history through audit_read_index, which the store fills in large batches
-- sorted by patient (so a page is written once per batch, not once per row).
-- Reads newer than audit_read_cursor.last_id are not in the index yet and are
-- found by scanning that tail.
DROP INDEX audit_patient;
CREATE INDEX audit_patient ON audit_log(org_id, patient_id, id) WHERE action <> 'read';

CREATE TABLE audit_read_index (
    org_id     INTEGER NOT NULL,
    patient_id INTEGER NOT NULL,
    audit_id   INTEGER NOT NULL,
    PRIMARY KEY (org_id, patient_id, audit_id)
) WITHOUT ROWID;

-- Every read with id <= last_id is in audit_read_index.
CREATE TABLE audit_read_cursor (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL
);

INSERT INTO audit_read_index (org_id, patient_id, audit_id)
    SELECT org_id, patient_id, id FROM audit_log WHERE action = 'read' AND patient_id IS NOT NULL;
INSERT INTO audit_read_cursor (id, last_id) SELECT 1, COALESCE(MAX(id), 0) FROM audit_log;
