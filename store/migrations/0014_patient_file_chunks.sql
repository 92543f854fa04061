-- Large patient files are stored as chunks of at most 256 KiB each, written
-- one by one from a spool file on disk, so that neither the server nor SQLite
-- ever holds a whole upload in memory (mattn/go-sqlite3 offers no
-- incremental blob I/O). patient_files.data is then empty; the file's bytes
-- are its chunks in seq order. Small files keep their bytes in data.
CREATE TABLE patient_file_chunks (
    file_id INTEGER NOT NULL REFERENCES patient_files(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (file_id, seq)
);
