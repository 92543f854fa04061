// Package sqlite is the store's engine: it opens the SQLite file (writer
// and reader connections with their pragmas), applies the numbered
// migrations, runs every write through one group-commit loop (each write in
// its own savepoint, one fsync per batch), keeps prepared statements, and
// runs the store's background loops.
//
// It knows nothing of the clinic: the store package builds the model on top
// of DB and Tx, and nothing outside the store can import this package.
package sqlite
