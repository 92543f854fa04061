package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxCachedStmts bounds the statement cache: queries built with a varying
// number of placeholders make new texts, and past this they run unprepared.
const maxCachedStmts = 1000

// stmtCache keeps one prepared statement per query text. database/sql then
// prepares each on a connection once and reuses it, instead of parsing and
// planning the SQL on every call (most of the cost of a small query through
// cgo).
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the cached statement for query, preparing it on first use;
// nil when the cache is full or the query does not prepare (the caller then
// runs it directly and gets the real error).
func (c *stmtCache) stmt(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[query]; st != nil {
		return st
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	c.stmts[query] = st
	return st
}

// close closes the statements and the database.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
	return c.db.Close()
}

// Reader runs queries on the read-only pool through the statement cache.
type Reader struct {
	c      *stmtCache
	record atomic.Pointer[func(query string, args []any)] // tests: sees every query
}

// Record calls fn with every query the reader runs from now on (nil:
// stops). It is for tests (see DB.Recompiles).
func (r *Reader) Record(fn func(query string, args []any)) {
	if fn == nil {
		r.record.Store(nil)
		return
	}
	r.record.Store(&fn)
}

func (r *Reader) seen(query string, args []any) {
	if fn := r.record.Load(); fn != nil {
		(*fn)(query, args)
	}
}

// QueryRowContext is sql.DB's, through the cache.
func (r *Reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	r.seen(query, args)
	if st := r.c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.c.db.QueryRowContext(ctx, query, args...)
}

// QueryContext is sql.DB's, through the cache.
func (r *Reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	r.seen(query, args)
	if st := r.c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.c.db.QueryContext(ctx, query, args...)
}

// ExecContext is sql.DB's (not cached: used for one-off statements such as
// VACUUM INTO).
func (r *Reader) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.c.db.ExecContext(ctx, query, args...)
}

func (r *Reader) close() error { return r.c.close() }
