-- 0018: read audits reach audit_log through an append-only journal beside
-- the database (store/auditjournal.go). Each move of journal rows into
-- audit_log stores, in the same transaction, the journal position it
-- reached, so that after a crash the journal is replayed from there and no
-- row is moved twice or lost.
CREATE TABLE audit_journal_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    file_seq INTEGER NOT NULL, -- the journal file (base.NNNNNNNN) ...
    file_off INTEGER NOT NULL  -- ... and the byte offset just past the last row moved
);
INSERT INTO audit_journal_cursor (id, file_seq, file_off) VALUES (1, 0, 0);
