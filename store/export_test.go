package store

import "context"

// Hooks for the store's own tests (package store_test), compiled only with
// them: faces never get a transaction.

// Tx is one write, for tests that forge rows the model would not write.
type Tx = txn

// Write runs fn as one write.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error { return s.write(ctx, fn) }
