// Package store is the clinic model and its persistence in one SQLite file.
//
// Every exported method that changes data runs in one transaction that also
// appends the matching event (the transactional outbox) and, for patient data,
// an audit row. Every query is scoped to an organisation: an id that belongs
// to another organisation is simply not found.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is the clinic database. It has one writer connection, fed by a
// group-commit loop, and a pool of reader connections.
type Store struct {
	path string
	w    *sql.DB
	wtx  *sql.Conn  // the connection the write loop's transactions run on
	wc   *stmtCache // the writer's prepared statements
	r    *stmtCache // the reader pool, through prepared statements
	now  func() time.Time
	log  *slog.Logger

	writes chan *writeReq
	stop   chan struct{}
	done   chan struct{}

	subMu sync.Mutex
	subs  map[chan struct{}]struct{}

	reads     readQueue
	indexStop chan struct{}
	indexDone chan struct{}

	cachesMu sync.Mutex
	caches   []*PatientCache

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
	s := &Store{
		path:      path,
		now:       time.Now,
		log:       slog.Default(),
		writes:    make(chan *writeReq, 256),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		subs:      map[chan struct{}]struct{}{},
		reads:     readQueue{full: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})},
		indexStop: make(chan struct{}),
		indexDone: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	// synchronous=FULL: an acknowledged write is on disk. Group commit keeps
	// that affordable under concurrent load.
	params := url.Values{}
	params.Set("_foreign_keys", "on")
	params.Set("_journal_mode", "WAL")
	params.Set("_synchronous", "FULL")
	params.Set("_busy_timeout", "5000")
	params.Set("_txlock", "immediate")
	w := sql.OpenDB(newConnector("file:"+path+"?"+params.Encode(), writerPragmas))
	// Writes are serialised by the one write loop, not by the pool. The pool
	// has a second connection so that a statement can be prepared (for the
	// statement cache) while the loop's transaction holds the first.
	w.SetMaxOpenConns(2)
	w.SetMaxIdleConns(2)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	rp := url.Values{}
	rp.Set("_foreign_keys", "on")
	rp.Set("_busy_timeout", "5000")
	rp.Set("mode", "ro")
	r := sql.OpenDB(newConnector("file:"+path+"?"+rp.Encode(), readerPragmas))
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	// The write loop keeps one connection for itself. Taking any free one
	// from the pool alternated between the two, and each connection's page
	// cache was then outdated by the other's last commit.
	wtx, err := w.Conn(ctx)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.w, s.wtx, s.wc, s.r = w, wtx, newStmtCache(w), newStmtCache(r)
	go s.writeLoop()
	go s.auditLoop()
	go s.auditIndexLoop()
	return s, nil
}

// writerPragmas are set on each writer connection (the driver's DSN does
// not cover them).
//
//   - temp_store=MEMORY: the savepoint (sub-)journal of each write in a
//     group-commit batch stays in memory. In a file it cost a pwrite per
//     page first touched in each savepoint: ~18 % of the writer's time.
var writerPragmas = []string{
	"PRAGMA temp_store = MEMORY",
}

// readerPragmas are set on each reader connection.
//
//   - mmap_size: readers map the database file instead of copying each
//     page they miss into their own page cache with a read call (a lookup
//     of one patient measured 25 % faster). The writer keeps ordinary
//     I/O, so no write goes through the mapping.
var readerPragmas = []string{
	"PRAGMA mmap_size = 268435456",
}

// connector opens connections of the sqlite3 driver and runs pragmas on
// each new one, without registering a driver name globally.
type connector struct {
	dsn     string
	pragmas []string
	drv     *sqlite3.SQLiteDriver
}

func newConnector(dsn string, pragmas []string) *connector {
	c := &connector{dsn: dsn, pragmas: pragmas}
	c.drv = &sqlite3.SQLiteDriver{ConnectHook: func(conn *sqlite3.SQLiteConn) error {
		for _, p := range c.pragmas {
			if _, err := conn.Exec(p, nil); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	}}
	return c
}

// Connect opens one connection.
func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver is the sqlite3 driver.
func (c *connector) Driver() driver.Driver { return c.drv }

// Close stops the writer, flushes pending audit rows and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.reads.stop)
		<-s.reads.done
		close(s.indexStop)
		<-s.indexDone
		close(s.stop)
		<-s.done
		s.closeErr = errors.Join(s.r.Close(), s.wtx.Close(), s.wc.Close())
	})
	return s.closeErr
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now().UTC() }

// Ready reports whether the database answers and every migration is applied.
func (s *Store) Ready(ctx context.Context) error {
	var v int
	if err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	want, err := latestMigration()
	if err != nil {
		return err
	}
	if v != want {
		return fmt.Errorf("ready: schema at version %d, want %d", v, want)
	}
	return nil
}

// Backup writes a consistent copy of the database to dest while the store
// keeps serving (VACUUM INTO reads one snapshot).
func (s *Store) Backup(ctx context.Context, dest string) error {
	if _, err := s.r.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %q: name must start with a number and _", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{v, e.Name(), string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

func latestMigration() (int, error) {
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	return len(ms), nil
}

// migrate applies, in order and each in its own transaction, the migrations
// newer than PRAGMA user_version.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var current int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("migrate: database is at version %d, newer than this binary (%d)", current, len(ms))
	}
	for _, m := range ms[current:] {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// Tx is one write: the SQL transaction and the single timestamp shared by
// every row and event it writes.
type Tx struct {
	*sql.Tx
	Now    time.Time
	ctx    context.Context
	cache  *stmtCache
	batch  *txBatch
	events int
}

// txBatch is what the writes of one group-commit transaction share.
type txBatch struct {
	// stmts are the cached statements bound to this transaction, so that
	// each is bound once per batch rather than once per call.
	stmts map[string]*sql.Stmt
	// auditHash is the hash of the newest audit row written in this
	// transaction (valid when auditKnown): the next row chains to it
	// without reading it back. The transaction holds SQLite's write lock,
	// so no other connection can append in between.
	auditHash  string
	auditKnown bool
	// patients are the ids this transaction wrote: their cached answers
	// are dropped once it commits.
	patients []int64
}

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

// write runs fn in a transaction on the writer connection. Concurrent writes
// are grouped into one SQLite transaction (each in its own SAVEPOINT, so one
// failing write rolls back alone) and share one fsync.
func (s *Store) write(ctx context.Context, fn func(*Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stop:
		return errors.New("store closed")
	}
	// Once queued, always wait for the answer: fn may be running, and the
	// caller must not read what fn writes before it is done. A request
	// whose context ends before its turn is skipped by the writer.
	return <-req.done
}

const maxBatch = 64

func (s *Store) writeLoop() {
	defer close(s.done)
	for {
		var first *writeReq
		select {
		case first = <-s.writes:
		case <-s.stop:
			// Drain what was queued before stop.
			for {
				select {
				case r := <-s.writes:
					s.commitBatch([]*writeReq{r})
				default:
					return
				}
			}
		}
		batch := []*writeReq{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		s.commitBatch(batch)
	}
}

func (s *Store) commitBatch(reqs []*writeReq) {
	ctx := context.Background()
	now := s.Now()
	sqlTx, err := s.wtx.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range reqs {
			r.done <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	b := &txBatch{stmts: map[string]*sql.Stmt{}}
	if len(reqs) == 1 {
		// A write alone needs no SAVEPOINT: if it fails, the whole
		// transaction is rolled back.
		s.commitOne(sqlTx, b, now, reqs[0])
		return
	}
	results := make([]error, len(reqs))
	events := 0
	for i, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		tx := &Tx{Tx: sqlTx, Now: now, ctx: r.ctx, cache: s.wc, batch: b}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			results[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		// A write rolled back to its savepoint must not leave the audit
		// chain pointing at a row that no longer exists.
		hash, known := b.auditHash, b.auditKnown
		err := runWrite(r.fn, tx)
		if err != nil {
			b.auditHash, b.auditKnown = hash, known
			if _, rbErr := tx.Exec("ROLLBACK TO w"); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
		} else {
			events += tx.events
		}
		if _, relErr := tx.Exec("RELEASE w"); relErr != nil && err == nil {
			err = relErr
		}
		results[i] = err
	}
	err = sqlTx.Commit()
	s.dropPatients(b.patients)
	if err != nil {
		for _, r := range reqs {
			r.done <- fmt.Errorf("commit: %w", err)
		}
		return
	}
	for i, r := range reqs {
		r.done <- results[i]
	}
	if events > 0 {
		s.notify()
	}
}

// commitOne runs a write that has the transaction to itself.
func (s *Store) commitOne(sqlTx *sql.Tx, b *txBatch, now time.Time, r *writeReq) {
	if err := r.ctx.Err(); err != nil {
		sqlTx.Rollback()
		r.done <- err
		return
	}
	tx := &Tx{Tx: sqlTx, Now: now, ctx: r.ctx, cache: s.wc, batch: b}
	if err := runWrite(r.fn, tx); err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		r.done <- err
		return
	}
	err := sqlTx.Commit()
	s.dropPatients(b.patients)
	if err != nil {
		r.done <- fmt.Errorf("commit: %w", err)
		return
	}
	r.done <- nil
	if tx.events > 0 {
		s.notify()
	}
}

func runWrite(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(tx)
}

// Subscribe returns a channel that receives a signal (coalesced) whenever
// new events are committed, and a function to stop listening.
func (s *Store) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.subMu.Lock()
	s.subs[ch] = struct{}{}
	s.subMu.Unlock()
	return ch, func() {
		s.subMu.Lock()
		delete(s.subs, ch)
		s.subMu.Unlock()
	}
}

func (s *Store) notify() {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
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
