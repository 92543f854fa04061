// Package journal is an append-only file of records beside the database,
// for rows that must survive a crash of the process the moment they are
// written but are moved into the database later, in large batches.
//
// Append is one write(2) on a file opened with O_APPEND: once it returns,
// the record is in the kernel's page cache, which a killed process (kill -9
// included) cannot lose. A syncer fsyncs the file at most SyncDelay later,
// so a power cut can lose at most that window. Each record carries its
// length and a CRC-32C, so a torn tail (a record cut by a power cut or by a
// kill in the middle of a write) is recognised and ignored on replay.
//
// The journal is a numbered series of files (base.00000001, ...); a
// position (Pos) is a file number and the byte offset just past a record.
// The consumer stores the position it reached in its own transaction and
// hands it to Release, which deletes the files before it. Rotate starts a
// new file so that consumed ones can go. One process owns the journal at a
// time (an flock on base.lock); Open answers ErrLocked to a second one.
//
// It knows nothing of what the records hold.
package journal
