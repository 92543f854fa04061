package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// DB is one SQLite file: one writer connection, fed by a group-commit
// loop, and a pool of reader connections.
type DB struct {
	path       string
	now        func() time.Time
	migrations []Migration
	w          *sql.DB
	wconn      *sql.Conn  // the connection the write loop's transactions run on
	wc         *stmtCache // the writer's prepared statements
	r          *Reader    // the reader pool, through prepared statements
	rdsn       string     // the reader connections' DSN

	writes chan *writeReq
	stop   chan struct{}
	done   chan struct{}

	subMu sync.Mutex
	subs  map[*subscriber]struct{}

	ridersMu sync.Mutex
	riders   []rider       // queues of rows that ride the next transaction
	rideKick chan struct{} // riders are waiting and the writer may be idle

	relaxed     bool        // the writer connection is at synchronous=NORMAL (write loop only)
	dataVersion int64       // PRAGMA data_version at the last transaction (write loop only)
	outside     uint64      // counts changes of dataVersion (write loop only)
	unsynced    atomic.Bool // a relaxed commit has not been fsynced yet
	syncKick    chan struct{}
	syncDone    chan struct{}
	syncErr     atomic.Value  // the last fsync error (string), for Ready
	writesRun   atomic.Uint64 // Write and WriteRelaxed calls the write loop ran

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database at path, applies the
// migrations in dir (files named NNNN_name.sql) that are newer than the
// file, and starts the write loop. now is the clock every write takes its
// timestamp from.
func Open(ctx context.Context, path string, migrations fs.FS, now func() time.Time) (*DB, error) {
	ms, err := ReadMigrations(migrations)
	if err != nil {
		return nil, err
	}
	db := &DB{
		path:       path,
		now:        now,
		migrations: ms,
		writes:     make(chan *writeReq, 256),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		subs:       map[*subscriber]struct{}{},
		syncKick:   make(chan struct{}, 1),
		rideKick:   make(chan struct{}, 1),
		syncDone:   make(chan struct{}),
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
	if err := migrate(ctx, w, ms); err != nil {
		w.Close()
		return nil, err
	}
	rp := url.Values{}
	rp.Set("_foreign_keys", "on")
	rp.Set("_busy_timeout", "5000")
	rp.Set("mode", "ro")
	// A reader connection is used by one goroutine at a time (database/sql
	// hands it out so; cancelling calls sqlite3_interrupt, which needs no
	// lock), so it needs none of SQLite's serialized mode, which took the
	// connection's mutex around every column of every row: 18 % of reading
	// a patient's 50 observations, a sixth off its CPU without it.
	rp.Set("_mutex", "no")
	db.rdsn = "file:" + path + "?" + rp.Encode()
	r := sql.OpenDB(newConnector(db.rdsn, readerPragmas))
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	// The write loop keeps one connection for itself. Taking any free one
	// from the pool alternated between the two, and each connection's page
	// cache was then outdated by the other's last commit.
	wconn, err := w.Conn(ctx)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.w, db.wconn, db.wc, db.r = w, wconn, newStmtCache(w), &Reader{c: newStmtCache(r)}
	go db.writeLoop()
	go db.syncLoop()
	return db, nil
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
//   - mmap_size = 0: readers read pages with pread into their own cache,
//     not through a mapping of the file. In WAL mode a reader that starts
//     a transaction after any commit drops its page cache and, when it
//     maps the file, unmaps all of it (SQLite guards against a file that
//     changed under the mapping): with a commit every millisecond (read
//     audits, group commits) each lookup then paid an munmap of the whole
//     database, a new mmap and a page fault per page it touched. Profiled
//     under GET load, that was most of the server's CPU (page-table and
//     TLB work in the kernel, btreeInitPage on freshly faulted pages), and
//     turning the mapping off gave 3.7x the GETs/s (BENCHMARKS.md).
var readerPragmas = []string{
	"PRAGMA mmap_size = 0",
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

// Close stops the write loop (after the writes already queued) and closes
// the connections.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.stop)
		<-db.done
		<-db.syncDone
		db.closeErr = errors.Join(db.r.close(), db.wconn.Close(), db.wc.close())
	})
	return db.closeErr
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Now is the clock's time, in UTC.
func (db *DB) Now() time.Time { return db.now().UTC() }

// Reader is the pool of read-only connections.
func (db *DB) Reader() *Reader { return db.r }

// Ready reports whether the database answers and every migration is applied.
func (db *DB) Ready(ctx context.Context) error {
	var v int
	if err := db.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	if want := len(db.migrations); v != want {
		return fmt.Errorf("ready: schema at version %d, want %d", v, want)
	}
	if msg, _ := db.syncErr.Load().(string); msg != "" && db.unsynced.Load() {
		return fmt.Errorf("ready: the WAL cannot be synced: %s", msg)
	}
	return nil
}

// Backup writes a consistent copy of the database to dest while writes go
// on (VACUUM INTO reads one snapshot).
func (db *DB) Backup(ctx context.Context, dest string) error {
	if _, err := db.r.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return nil
}

// Subscribe returns a channel that receives a signal (coalesced) whenever a
// write that called Tx.Notify commits, and a function to stop listening.
func (db *DB) Subscribe() (<-chan struct{}, func()) { return db.SubscribeEvery(0) }

// SubscribeEvery is Subscribe with signals at least gap apart: the first
// commit after a quiet gap signals at once, and the commits that follow
// within gap are gathered into one signal at the gap's end. A background
// consumer that reads the outbox on every signal then reads it at most once
// per gap under a stream of writes, instead of once per group commit, and
// still answers at once to a lone write. The pacing runs on timers alone: it
// schedules work and records no time, so the injected clock has no part in
// it (a test clock that stands still must not hold signals back).
func (db *DB) SubscribeEvery(gap time.Duration) (<-chan struct{}, func()) {
	s := &subscriber{ch: make(chan struct{}, 1), gap: gap}
	db.subMu.Lock()
	db.subs[s] = struct{}{}
	db.subMu.Unlock()
	return s.ch, func() {
		db.subMu.Lock()
		delete(db.subs, s)
		s.gone = true
		if s.timer != nil {
			s.timer.Stop()
			s.timer = nil
		}
		db.subMu.Unlock()
	}
}

// subscriber is one Subscribe call's channel and pacing (under subMu).
type subscriber struct {
	ch      chan struct{}
	gap     time.Duration
	timer   *time.Timer // runs while a gap is open: a signal was sent less than gap ago
	pending bool        // a commit came during the open gap: signal at its end
	gone    bool        // unsubscribed
}

func (s *subscriber) signal() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

func (db *DB) notify() {
	db.subMu.Lock()
	defer db.subMu.Unlock()
	for s := range db.subs {
		switch {
		case s.gap <= 0:
			s.signal()
		case s.timer == nil:
			s.signal()
			s.timer = time.AfterFunc(s.gap, func() { db.gapEnded(s) })
		default:
			s.pending = true
		}
	}
}

// gapEnded sends the signal gathered during s's gap, which opens the next
// gap, or closes the gap when nothing came.
func (db *DB) gapEnded(s *subscriber) {
	db.subMu.Lock()
	defer db.subMu.Unlock()
	if s.gone {
		return
	}
	if !s.pending {
		s.timer = nil
		return
	}
	s.pending = false
	s.signal()
	s.timer.Reset(s.gap)
}
