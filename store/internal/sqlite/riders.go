package sqlite

import (
	"context"
	"sync"
)

// Riders is a queue of small rows (read audits) that ride the writer's
// next transaction: the batch it is about to start for other writes, or a
// transaction of their own when the writer is idle. Add returns once that
// transaction is committed. Riders alone commit with synchronous=NORMAL: to
// the WAL file, which a killed process cannot lose, fsynced by the syncer
// within SyncDelay. Riding a batch with ordinary writes, they share its
// fsync.
//
// Compared with a Write per group, a row costs no goroutine hand-off: only
// the first row of a group wakes the writer (a later one finds the kick
// pending or the writer busy), and the writer takes every waiting row when
// it starts a transaction.
type Riders[T any] struct {
	db    *DB
	write func(*Tx, []T) error

	mu     sync.Mutex
	cur    *group[T]
	closed bool
}

type group[T any] struct {
	items []T
	err   error
	done  chan struct{}
}

// rider is what the write loop sees of a Riders queue.
type rider interface {
	// take hands over the rows waiting (nil when none); final closes the
	// queue in the same step, so no row can be added after the last take.
	take(final bool) *ride
}

// ride is one group of rows in a transaction: how to write them and how to
// answer their callers.
type ride struct {
	write func(*Tx) error
	done  func(error)
}

// NewRiders makes a queue whose rows are written by write, in groups, in
// the writer's transactions. write runs in its own savepoint: a failure
// rolls back its rows alone and is the answer of each of their Adds.
func NewRiders[T any](db *DB, write func(*Tx, []T) error) *Riders[T] {
	q := &Riders[T]{db: db, write: write, cur: &group[T]{done: make(chan struct{})}}
	db.ridersMu.Lock()
	db.riders = append(db.riders, q)
	db.ridersMu.Unlock()
	return q
}

// Add queues v for the writer's next transaction and waits until that
// transaction is committed: nil means v is in the WAL file. When ctx ends
// first, Add returns its error and v is still written. After the DB is
// closed Add answers ErrClosed.
func (q *Riders[T]) Add(ctx context.Context, v T) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	g := q.cur
	g.items = append(g.items, v)
	first := len(g.items) == 1
	q.mu.Unlock()
	if first {
		// The writer takes the whole group; later rows need no wake-up.
		select {
		case q.db.rideKick <- struct{}{}:
		default:
		}
	}
	select {
	case <-g.done:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (q *Riders[T]) take(final bool) *ride {
	q.mu.Lock()
	g := q.cur
	q.closed = q.closed || final
	if len(g.items) == 0 {
		q.mu.Unlock()
		return nil
	}
	q.cur = &group[T]{done: make(chan struct{})}
	q.mu.Unlock()
	return &ride{
		write: func(tx *Tx) error { return q.write(tx, g.items) },
		done:  func(err error) { g.err = err; close(g.done) },
	}
}

// takeRides collects every queue's waiting rows (write loop only).
func (db *DB) takeRides(final bool) []*ride {
	db.ridersMu.Lock()
	defer db.ridersMu.Unlock()
	var out []*ride
	for _, q := range db.riders {
		if rd := q.take(final); rd != nil {
			out = append(out, rd)
		}
	}
	return out
}
