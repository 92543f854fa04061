package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// Tx is one write: its part of the SQL transaction and the single
// timestamp shared by every row it writes.
type Tx struct {
	tx    *sql.Tx
	Now   time.Time // from the DB's clock, once per transaction
	ctx   context.Context
	cache *stmtCache
	batch *batch
	// notify is set by Notify: the write changed what subscribers watch.
	notify bool
	// undo is what to do to in-memory batch state if this write is rolled
	// back to its savepoint, newest first.
	undo []func()
	// outside is DB.outside when the transaction began.
	outside uint64
}

// OutsideWrites is a number that changes whenever another connection (a
// command-line tool or another process on the same file) has committed
// since the writer's previous transaction. What the writer keeps in memory
// about the database must be dropped when it changes.
func (tx *Tx) OutsideWrites() uint64 { return tx.outside }

// checkOutsideWrites compares the file's data_version (which moves only
// with other connections' commits) with the previous transaction's. The
// transaction holds the write lock, so nothing can commit in between.
func (db *DB) checkOutsideWrites(tx *Tx) {
	var v int64
	if err := tx.QueryRow("PRAGMA data_version").Scan(&v); err != nil {
		db.outside++ // cannot tell: assume the worst
		return
	}
	if v != db.dataVersion {
		db.outside++
		db.dataVersion = v
	}
}

// batch is what the writes of one group-commit transaction share.
type batch struct {
	// stmts are the cached statements bound to this transaction, so that
	// each is bound once per batch rather than once per call.
	stmts map[string]*sql.Stmt
	// values are the callers' batch-wide state (see Tx.Shared).
	values map[any]any
	// afterCommit run once the transaction has ended, before any write of
	// the batch is acknowledged.
	afterCommit []func()
}

// Context is the context of the caller of DB.Write (its values: the actor,
// say). It is not cancelled when the caller gives up: the write is then
// already running.
func (tx *Tx) Context() context.Context { return tx.ctx }

// Notify records that this write appended something subscribers wait for
// (an outbox event): they are signalled once the batch commits.
func (tx *Tx) Notify() { tx.notify = true }

// Shared returns the value kept under key for the whole group-commit
// transaction, making it with init the first time. It is for state that
// the writes of one batch build on each other (the audit chain's last
// hash); a write that changes it registers how to undo that with OnRollback.
func (tx *Tx) Shared(key any, init func() any) any {
	if v, ok := tx.batch.values[key]; ok {
		return v
	}
	v := init()
	tx.batch.values[key] = v
	return v
}

// OnRollback registers f to run if this write fails and is rolled back
// alone (to its savepoint) while the rest of its batch commits.
func (tx *Tx) OnRollback(f func()) { tx.undo = append(tx.undo, f) }

// AfterCommit registers f to run when the transaction holding this write
// has ended (committed or not), before any of its writes is acknowledged:
// a cache can forget what the batch changed before anyone can read it.
func (tx *Tx) AfterCommit(f func()) { tx.batch.afterCommit = append(tx.batch.afterCommit, f) }

// stmt returns query as a statement of the write transaction, bound once
// per batch from the writer's statement cache; nil when the cache does not
// hold it (the caller then runs the query directly).
func (tx *Tx) stmt(query string) *sql.Stmt {
	if st := tx.batch.stmts[query]; st != nil {
		return st
	}
	st := tx.cache.stmt(context.Background(), query)
	if st == nil {
		return nil
	}
	txst := tx.tx.Stmt(st)
	tx.batch.stmts[query] = txst
	return txst
}

// Exec runs a statement in the write transaction through the writer's
// statement cache.
func (tx *Tx) Exec(query string, args ...any) (sql.Result, error) {
	if st := tx.stmt(query); st != nil {
		return st.Exec(args...)
	}
	return tx.tx.Exec(query, args...)
}

// QueryRow runs a query in the write transaction through the cache.
func (tx *Tx) QueryRow(query string, args ...any) *sql.Row {
	if st := tx.stmt(query); st != nil {
		return st.QueryRow(args...)
	}
	return tx.tx.QueryRow(query, args...)
}

// Query runs a query in the write transaction through the cache.
func (tx *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	if st := tx.stmt(query); st != nil {
		return st.Query(args...)
	}
	return tx.tx.Query(query, args...)
}

type writeReq struct {
	ctx     context.Context
	fn      func(*Tx) error
	done    chan error
	relaxed bool
}

// Write runs fn as one write. Concurrent writes are grouped into one
// SQLite transaction (each in its own SAVEPOINT, so one failing write rolls
// back alone) and share one fsync. Write returns once the transaction has
// committed: what fn wrote is then on disk.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	return db.write(ctx, fn, false)
}

// WriteRelaxed is Write for rows that may trail on the disk by up to
// SyncDelay: when it returns the transaction is committed to the WAL file
// (a crash of the process, kill -9 included, cannot lose it), but its
// fsync is left to the syncer, or to the next ordinary commit, whichever
// comes first. A power cut can lose at most the last SyncDelay of such
// writes. A batch holding any ordinary write is committed as one.
func (db *DB) WriteRelaxed(ctx context.Context, fn func(*Tx) error) error {
	return db.write(ctx, fn, true)
}

// WritesRun counts the writes (Write and WriteRelaxed calls) the write
// loop has run, committed or not; riders are not counted.
func (db *DB) WritesRun() uint64 { return db.writesRun.Load() }

// SyncDelay bounds how long a relaxed write stays without an fsync.
const SyncDelay = 50 * time.Millisecond

func (db *DB) write(ctx context.Context, fn func(*Tx) error, relaxed bool) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1), relaxed: relaxed}
	select {
	case db.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.stop:
		return errors.New("store closed")
	}
	// Once queued, always wait for the answer: fn may be running, and the
	// caller must not read what fn writes before it is done. A request
	// whose context ends before its turn is skipped by the writer.
	return <-req.done
}

const maxBatch = 64

func (db *DB) writeLoop() {
	defer close(db.done)
	for {
		var first *writeReq
		select {
		case first = <-db.writes:
		case <-db.rideKick:
		case <-db.stop:
			// Drain what was queued before stop, then the last riders.
			for drained := false; !drained; {
				select {
				case r := <-db.writes:
					db.commitBatch([]*writeReq{r}, nil)
				default:
					drained = true
				}
			}
			if rides := db.takeRides(true); len(rides) > 0 {
				db.commitBatch(nil, rides)
			}
			return
		}
		var reqs []*writeReq
		if first != nil {
			reqs = append(reqs, first)
		}
	gather:
		for len(reqs) < maxBatch {
			select {
			case r := <-db.writes:
				reqs = append(reqs, r)
			default:
				break gather
			}
		}
		rides := db.takeRides(false)
		if len(reqs) == 0 && len(rides) == 0 {
			continue // a kick for riders an earlier batch already took
		}
		db.commitBatch(reqs, rides)
	}
}

// commitBatch runs the batch's writes and riders in one transaction and
// commits it. A batch of riders and relaxed writes only is committed with
// synchronous=NORMAL (to the WAL file, which a killed process cannot lose;
// the syncer fsyncs it within SyncDelay); a batch with an ordinary write
// with synchronous=FULL, so that nothing it holds is visible to readers or
// answered before it is on disk.
func (db *DB) commitBatch(reqs []*writeReq, rides []*ride) {
	ctx := context.Background()
	now := db.Now()
	answer := func(err error) {
		for _, r := range reqs {
			r.done <- err
		}
		for _, rd := range rides {
			rd.done(err)
		}
	}
	relaxed := true
	for _, r := range reqs {
		relaxed = relaxed && r.relaxed
	}
	if err := db.setRelaxed(ctx, relaxed); err != nil {
		answer(err)
		return
	}
	sqlTx, err := db.wconn.BeginTx(ctx, nil)
	if err != nil {
		answer(fmt.Errorf("begin: %w", err))
		return
	}
	b := &batch{stmts: map[string]*sql.Stmt{}, values: map[any]any{}}
	db.checkOutsideWrites(&Tx{tx: sqlTx, cache: db.wc, batch: b})
	// A write alone needs no SAVEPOINT: if it fails, the whole transaction
	// is rolled back.
	alone := len(reqs)+len(rides) == 1
	notify := false
	run := func(rctx context.Context, fn func(*Tx) error) error {
		tx := &Tx{tx: sqlTx, Now: now, ctx: rctx, cache: db.wc, batch: b, outside: db.outside}
		if alone {
			err := runWrite(fn, tx)
			if err == nil && tx.notify {
				notify = true
			}
			return err
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		err := runWrite(fn, tx)
		if err != nil {
			for i := len(tx.undo) - 1; i >= 0; i-- {
				tx.undo[i]()
			}
			if _, rbErr := tx.Exec("ROLLBACK TO w"); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
		} else if tx.notify {
			notify = true
		}
		if _, relErr := tx.Exec("RELEASE w"); relErr != nil && err == nil {
			err = relErr
		}
		return err
	}
	rideErrs := make([]error, len(rides))
	for i, rd := range rides {
		rideErrs[i] = run(ctx, rd.write)
	}
	results := make([]error, len(reqs))
	for i, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		db.writesRun.Add(1)
		results[i] = run(context.WithoutCancel(r.ctx), r.fn)
	}
	if alone && (len(reqs) == 1 && results[0] != nil || len(rides) == 1 && rideErrs[0] != nil) {
		err := errors.Join(results...)
		if len(rides) == 1 {
			err = rideErrs[0]
		}
		if rbErr := sqlTx.Rollback(); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		b.ended()
		answer(err)
		return
	}
	err = sqlTx.Commit()
	b.ended()
	db.committed(relaxed)
	if err != nil {
		answer(fmt.Errorf("commit: %w", err))
		return
	}
	for i, rd := range rides {
		rd.done(rideErrs[i])
	}
	for i, r := range reqs {
		r.done <- results[i]
	}
	if notify {
		db.notify()
	}
}

func (b *batch) ended() {
	for _, f := range b.afterCommit {
		f()
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

// syncLoop fsyncs the WAL file at most SyncDelay after a relaxed commit
// (fsync is per file, so any descriptor of it will do).
func (db *DB) syncLoop() {
	defer close(db.syncDone)
	for {
		select {
		case <-db.syncKick:
		case <-db.stop:
			db.syncWAL()
			return
		}
		select {
		case <-time.After(SyncDelay):
		case <-db.stop:
		}
		db.syncWAL()
	}
}

// setRelaxed switches the writer connection between synchronous=FULL (an
// fsync of the WAL at each commit) and NORMAL (none) for the next commit.
// Only the write loop calls it, outside a transaction.
func (db *DB) setRelaxed(ctx context.Context, relaxed bool) error {
	if relaxed == db.relaxed {
		return nil
	}
	mode := "FULL"
	if relaxed {
		mode = "NORMAL"
	}
	if _, err := db.wconn.ExecContext(ctx, "PRAGMA synchronous = "+mode); err != nil {
		return fmt.Errorf("synchronous %s: %w", mode, err)
	}
	db.relaxed = relaxed
	return nil
}

// committed records what the last commit left without an fsync: a relaxed
// commit wakes the syncer; a full one made every earlier frame durable.
func (db *DB) committed(relaxed bool) {
	db.unsynced.Store(relaxed)
	if relaxed {
		select {
		case db.syncKick <- struct{}{}:
		default:
		}
	}
}

func (db *DB) syncWAL() {
	if !db.unsynced.Swap(false) {
		return
	}
	f, err := os.OpenFile(db.path+"-wal", os.O_RDWR, 0)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		db.unsynced.Store(true)
		db.syncErr.Store(err.Error())
	}
}
