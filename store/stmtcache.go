package store

import (
	"context"
	"database/sql"
	"sync"
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

// QueryRowContext is sql.DB's, through the cache.
func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// QueryContext is sql.DB's, through the cache.
func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

// ExecContext is sql.DB's (not cached: used for one-off statements).
func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(ctx, query, args...)
}

// Close closes the statements and the database.
func (c *stmtCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
	return c.db.Close()
}

// stmt returns query as a statement of the write transaction, bound once
// per batch from the writer's statement cache; nil when the cache does not
// hold it (the caller then runs the query directly).
func (tx *Tx) stmt(query string) *sql.Stmt {
	if tx.batch != nil {
		if st := tx.batch.stmts[query]; st != nil {
			return st
		}
	}
	st := tx.cache.stmt(context.Background(), query)
	if st == nil {
		return nil
	}
	txst := tx.Tx.Stmt(st)
	if tx.batch != nil {
		tx.batch.stmts[query] = txst
	}
	return txst
}

// Exec runs a statement in the write transaction through the writer's
// statement cache.
func (tx *Tx) Exec(query string, args ...any) (sql.Result, error) {
	if st := tx.stmt(query); st != nil {
		return st.Exec(args...)
	}
	return tx.Tx.Exec(query, args...)
}

// QueryRow runs a query in the write transaction through the cache.
func (tx *Tx) QueryRow(query string, args ...any) *sql.Row {
	if st := tx.stmt(query); st != nil {
		return st.QueryRow(args...)
	}
	return tx.Tx.QueryRow(query, args...)
}

// Query runs a query in the write transaction through the cache.
func (tx *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	if st := tx.stmt(query); st != nil {
		return st.Query(args...)
	}
	return tx.Tx.Query(query, args...)
}
