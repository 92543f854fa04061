package store

import (
	"context"
	"database/sql"
)

// Hooks for the store's own tests (package store_test), compiled only with
// them: faces never get a transaction.

// Tx is one write, for tests that forge rows the model would not write.
type Tx = txn

// Write runs fn as one write.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error { return s.write(ctx, fn) }

// QueryRowForTest runs a read on the reader pool (tests count rows the
// model has no listing for).
func (s *Store) QueryRowForTest(ctx context.Context, q string, args ...any) *sql.Row {
	return s.r.QueryRowContext(ctx, q, args...)
}
