package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clinicbox/clinicbox/store/internal/journal"
)

// Read audits go through a journal: an append-only file beside the
// database (<db>-reads.NNNNNNNN, internal/journal). AuditRead appends the
// row with one write(2) and returns: the row then survives a crash of the
// process (kill -9 included), and the journal's syncer fsyncs it within
// journal.SyncDelay (50 ms), the most a power cut can lose. A mover takes
// the rows in large batches into audit_log through the writer, chaining
// their hashes in journal order, and stores the journal position it
// reached in the same transaction (audit_journal_cursor), so a row is moved
// exactly once across crashes. Open replays the journal from that position
// before the store serves. Whoever reads audit_log moves what is waiting
// first (flushReadAudits), so nothing seems missing.
//
// Before, each GET waited for its row's commit through the single writer;
// with the journal it waits for one write(2) (BENCHMARKS.md).
const (
	readMoveAt   = 8192    // rows waiting that wake the mover before its tick
	readRotateAt = 4 << 20 // bytes: a journal file this long is replaced at the next move
	readReplayAt = 16384   // rows per write when replaying at Open
)

// defaultReadMoveEvery is how often the mover looks (Store.readMoveEvery).
const defaultReadMoveEvery = 250 * time.Millisecond

// readJournal is the store's read-audit journal and the rows in it that
// are not in audit_log yet.
type readJournal struct {
	j *journal.Journal

	mu      sync.Mutex
	pending []journaledRead // appended, not moved yet, in journal order
	closed  bool

	moveMu sync.Mutex // one move at a time
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

type journaledRead struct {
	e   AuditEntry
	end journal.Pos // just past its record
}

// openReadJournal replays the journal into audit_log and starts the mover.
// When another process owns the journal (a command-line tool beside the
// server), this store's reads go through the writer instead (s.rj nil).
func (s *Store) openReadJournal(ctx context.Context) error {
	j, err := journal.Open(s.db.Path() + "-reads")
	if errors.Is(err, journal.ErrLocked) {
		s.log.Info("read audits go through the writer: another process owns the journal")
		return nil
	}
	if err != nil {
		return err
	}
	var from journal.Pos
	if err := s.r.QueryRowContext(ctx, `SELECT file_seq, file_off FROM audit_journal_cursor`).
		Scan(&from.File, &from.Off); err != nil {
		j.Close(false)
		return fmt.Errorf("read audit journal: %w", err)
	}
	var replay []journaledRead
	err = j.Replay(from, func(rec []byte, end journal.Pos) error {
		e, err := decodeReadAudit(rec)
		if err != nil {
			return fmt.Errorf("read audit journal at %d:%d: %w", end.File, end.Off, err)
		}
		replay = append(replay, journaledRead{e: e, end: end})
		return nil
	})
	if err != nil {
		j.Close(false)
		return err
	}
	seq, err := j.Start(from.File)
	if err != nil {
		j.Close(false)
		return err
	}
	// Everything replayed is before the new file: once it is moved, the
	// cursor can point at the new file's start and the old files can go.
	for len(replay) > 0 {
		n := min(len(replay), readReplayAt)
		upTo := replay[n-1].end
		if n == len(replay) {
			upTo = journal.Pos{File: seq}
		}
		if err := s.moveReads(ctx, replay[:n], upTo); err != nil {
			j.Close(false)
			return err
		}
		replay = replay[n:]
	}
	if err := j.Release(journal.Pos{File: seq}); err != nil {
		s.log.Error("read audit journal", "err", err)
	}
	rj := &readJournal{j: j, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	s.rj = rj
	go s.readMover(rj)
	return nil
}

// readMover moves journal rows into audit_log every s.readMoveEvery, or
// sooner when readMoveAt rows wait.
func (s *Store) readMover(rj *readJournal) {
	defer close(rj.done)
	t := time.NewTicker(s.readMoveEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-rj.kick:
		case <-rj.stop:
			return
		}
		if err := s.flushReadAudits(context.Background()); err != nil {
			s.log.Error("read audit journal", "err", err)
		}
	}
}

// add appends e to the journal. ErrClosed means the store is
// closing: the caller writes the row another way.
func (rj *readJournal) add(e AuditEntry) error {
	rec := encodeReadAudit(make([]byte, 0, 128), &e)
	rj.mu.Lock()
	if rj.closed {
		rj.mu.Unlock()
		return journal.ErrClosed
	}
	end, err := rj.j.Append(rec)
	if err != nil {
		rj.mu.Unlock()
		return err
	}
	rj.pending = append(rj.pending, journaledRead{e: e, end: end})
	n := len(rj.pending)
	rj.mu.Unlock()
	if n == readMoveAt {
		select {
		case rj.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// flushReadAudits moves every read audit appended so far from the journal
// into audit_log. Whatever reads audit_log calls it first.
func (s *Store) flushReadAudits(ctx context.Context) error {
	rj := s.rj
	if rj == nil {
		return nil
	}
	rj.moveMu.Lock()
	defer rj.moveMu.Unlock()
	rj.mu.Lock()
	batch := rj.pending[:len(rj.pending):len(rj.pending)]
	rj.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if end := rj.j.End(); end.Off >= readRotateAt {
		// Later rows go to a new file; this one is deleted once a move
		// has passed it.
		if err := rj.j.Rotate(); err != nil {
			s.log.Error("read audit journal", "err", err)
		}
	}
	upTo := batch[len(batch)-1].end
	if err := s.moveReads(ctx, batch, upTo); err != nil {
		return err
	}
	rj.mu.Lock()
	rj.pending = append([]journaledRead(nil), rj.pending[len(batch):]...)
	rj.mu.Unlock()
	return rj.j.Release(upTo)
}

// moveReads writes rows to audit_log and moves the cursor to upTo, in one
// transaction: a crash leaves either both or neither.
func (s *Store) moveReads(ctx context.Context, rows []journaledRead, upTo journal.Pos) error {
	es := make([]AuditEntry, len(rows))
	for i := range rows {
		es[i] = rows[i].e
	}
	err := s.write(ctx, func(tx *txn) error {
		if err := tx.appendAudits(es); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE audit_journal_cursor SET file_seq = ?, file_off = ?`, upTo.File, upTo.Off)
		return err
	})
	if err != nil {
		return fmt.Errorf("move read audits: %w", err)
	}
	return nil
}

// closeReadJournal stops the mover, moves the last rows and closes the
// journal (deleting its files when everything was moved).
func (s *Store) closeReadJournal() error {
	rj := s.rj
	if rj == nil {
		return nil
	}
	close(rj.stop)
	<-rj.done
	rj.mu.Lock()
	rj.closed = true // from here AuditRead goes through the writer
	rj.mu.Unlock()
	err := s.flushReadAudits(context.Background())
	return errors.Join(err, rj.j.Close(err == nil))
}

// The journal record of a read audit: a format byte, then the numbers as
// varints and the strings with their lengths.
const readAuditFormat = 1

func encodeReadAudit(b []byte, e *AuditEntry) []byte {
	b = append(b, readAuditFormat)
	for _, n := range []int64{e.OrgID, e.UserID, e.PatientID, unix(e.CreatedAt)} {
		b = binary.AppendVarint(b, n)
	}
	for _, s := range []string{e.Actor, e.Action, e.Entity, e.EntityID, e.Detail, e.RemoteAddr} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

var errBadReadAudit = errors.New("not a read audit record of this version")

func decodeReadAudit(b []byte) (AuditEntry, error) {
	var e AuditEntry
	if len(b) == 0 || b[0] != readAuditFormat {
		return e, errBadReadAudit
	}
	b = b[1:]
	var created int64
	for _, p := range []*int64{&e.OrgID, &e.UserID, &e.PatientID, &created} {
		v, n := binary.Varint(b)
		if n <= 0 {
			return e, errBadReadAudit
		}
		*p, b = v, b[n:]
	}
	for _, p := range []*string{&e.Actor, &e.Action, &e.Entity, &e.EntityID, &e.Detail, &e.RemoteAddr} {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return e, errBadReadAudit
		}
		*p, b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	if len(b) != 0 {
		return e, errBadReadAudit
	}
	e.CreatedAt = fromUnix(created)
	return e, nil
}
