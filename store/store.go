package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/clinicbox/clinicbox/store/internal/sqlite"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is the clinic database. Writes go through one group-commit writer
// (see internal/sqlite); reads use a pool of read-only connections.
type Store struct {
	db  *sqlite.DB
	r   *sqlite.Reader
	now func() time.Time
	log *slog.Logger

	rj            *readJournal               // read audits, through the journal (auditjournal.go)
	readMoveEvery time.Duration              // how often journal rows are moved into audit_log
	reads         *sqlite.Riders[AuditEntry] // read audits when another process owns the journal
	stopIndex     func()                     // stops the audit read index loop

	feed feed // the outbox as a feed of changes (changes.go)

	rules ruleCache // the writer's threshold rules per patient

	closeOnce sync.Once
	closeErr  error
}

// Option configures Open.
type Option func(*Store)

// WithClock makes every transaction take its time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithLogger sets the logger used for background work.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// Open opens (creating if needed) the database at path and applies any
// pending migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now, log: slog.Default(), feed: feed{poll: DefaultEventPoll},
		readMoveEvery: defaultReadMoveEvery}
	for _, o := range opts {
		o(s)
	}
	dir, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, path, dir, s.now)
	if err != nil {
		return nil, err
	}
	s.db, s.r = db, db.Reader()
	s.cleanSpools()
	s.reads = sqlite.NewRiders(db, s.writeReadAudits)
	if err := s.openReadJournal(ctx); err != nil {
		s.stopIndex = func() {}
		s.Close()
		return nil, err
	}
	s.stopIndex = s.startAuditIndex()
	if err := s.reindexPatientTerms(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the background loops, flushes pending writes and audit rows,
// stops the writer and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopFeed()
		s.stopIndex()
		s.closeErr = errors.Join(s.closeReadJournal(), s.db.Close())
	})
	return s.closeErr
}

// Path is the database file.
func (s *Store) Path() string { return s.db.Path() }

// WritesRun counts the writes this store has run (each a turn of the
// single writer, most with an fsync): tests of a background consumer tell
// by it that a pass wrote nothing.
func (s *Store) WritesRun() uint64 { return s.db.WritesRun() }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now().UTC() }

// Ready reports whether the database answers and every migration is applied.
func (s *Store) Ready(ctx context.Context) error {
	if s.rj != nil {
		if err := s.rj.j.SyncErr(); err != nil {
			return fmt.Errorf("ready: the read audit journal cannot be synced: %w", err)
		}
	}
	return s.db.Ready(ctx)
}

// Backup writes a consistent copy of the database to dest while the store
// keeps serving.
// Read audits still in the journal are moved into the database first.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if err := s.flushReadAudits(ctx); err != nil {
		return err
	}
	return s.db.Backup(ctx, dest)
}

// Subscribe returns a channel that receives a signal (coalesced) whenever
// new events are committed, and a function to stop listening.
func (s *Store) Subscribe() (<-chan struct{}, func()) { return s.db.Subscribe() }

// ConsumerGap is the shortest time between two signals of
// SubscribeConsumer.
const ConsumerGap = 25 * time.Millisecond

// SubscribeConsumer is Subscribe for a background consumer of the outbox
// (webhook and LIS workers, the live-page hub, the device manager): a lone
// commit signals at once, a stream of commits at most once per
// ConsumerGap. Each signal costs such a consumer a few reads; under a
// stream of API writes, signalled on every group commit, those reads were
// a large part of each write's CPU (BENCHMARKS.md, "Nothing got slower").
// A client streaming events (the events API) subscribes unpaced.
func (s *Store) SubscribeConsumer() (<-chan struct{}, func()) {
	return s.db.SubscribeEvery(ConsumerGap)
}

// txn is one write of the model: the engine's transaction (Exec, Query,
// QueryRow, and Now, the one timestamp of every row and event it writes)
// plus the model's own bookkeeping (Event, Audit). Only
// store code sees it: a face asks for a named operation instead.
type txn struct {
	*sqlite.Tx
	s *Store
}

// write runs fn as one write transaction; concurrent writes share one
// commit (see sqlite.DB.Write).
func (s *Store) write(ctx context.Context, fn func(tx *txn) error) error {
	return s.db.Write(ctx, func(t *sqlite.Tx) error { return fn(&txn{Tx: t, s: s}) })
}

// unix converts a time to the stored convention (0 = unset).
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// fromUnix is the inverse of unix.
func fromUnix(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(v, 0).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
