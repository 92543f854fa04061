package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"

	"github.com/mattn/go-sqlite3"
)

// Recompiles runs query with args three times on a reader connection of
// its own, prepared once as the statement cache prepares it, and counts
// the times SQLite compiled it again. A statement whose plan looked at a
// bound value (a LIMIT ?, a "col = ?" a partial index or the planner
// reads) is expired by the driver's clear-bindings before every run and
// compiled anew each time: most of a wide query's cost. It is for tests;
// the count comes from an authorizer, which SQLite calls while compiling.
func (db *DB) Recompiles(ctx context.Context, query string, args []any) (int, error) {
	var compiles atomic.Int64
	c := newConnector(db.rdsn, readerPragmas)
	hook := c.drv.ConnectHook
	c.drv.ConnectHook = func(conn *sqlite3.SQLiteConn) error {
		if err := hook(conn); err != nil {
			return err
		}
		conn.RegisterAuthorizer(func(op int, _, _, _ string) int {
			if op == sqlite3.SQLITE_SELECT {
				compiles.Add(1)
			}
			return sqlite3.SQLITE_OK
		})
		return nil
	}
	r := sql.OpenDB(c)
	defer r.Close()
	r.SetMaxOpenConns(1)
	st, err := r.PrepareContext(ctx, query)
	if err != nil {
		return 0, fmt.Errorf("recompiles: %w", err)
	}
	defer st.Close()
	first := compiles.Load()
	if first == 0 {
		return 0, fmt.Errorf("recompiles: no compile seen for %q", query)
	}
	for range 3 {
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return 0, fmt.Errorf("recompiles: %w", err)
		}
		for rows.Next() {
		}
		if err := rows.Close(); err != nil {
			return 0, fmt.Errorf("recompiles: %w", err)
		}
	}
	return int((compiles.Load() - first) / first), nil
}
