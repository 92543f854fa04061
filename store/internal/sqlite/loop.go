package sqlite

import (
	"sync"
	"time"
)

// Queue gathers items in memory and hands them to flush in batches: every
// interval, or as soon as max are waiting. It suits rows whose writing can
// trail the moment they happen by one interval.
type Queue[T any] struct {
	flush func([]T)
	max   int

	mu      sync.Mutex
	items   []T
	closed  bool
	full    chan struct{} // a batch's worth is waiting
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
}

// NewQueue starts a queue that calls flush from its own goroutine.
func NewQueue[T any](every time.Duration, max int, flush func([]T)) *Queue[T] {
	q := &Queue[T]{
		flush: flush, max: max,
		full: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go q.loop(every)
	return q
}

// Add queues v. It reports false when the queue is closed or holds twice
// its batch size already: the caller then writes v itself rather than lose
// it.
func (q *Queue[T]) Add(v T) bool {
	q.mu.Lock()
	queued := !q.closed && len(q.items) < 2*q.max
	if queued {
		q.items = append(q.items, v)
	}
	full := len(q.items) >= q.max
	q.mu.Unlock()
	if full {
		select {
		case q.full <- struct{}{}:
		default:
		}
	}
	return queued
}

// Close flushes what is queued and stops the queue.
func (q *Queue[T]) Close() {
	q.closing.Do(func() { close(q.stop) })
	<-q.done
}

func (q *Queue[T]) loop(every time.Duration) {
	defer close(q.done)
	t := time.NewTicker(every)
	defer t.Stop()
	var spare []T
	for {
		stopping := false
		select {
		case <-t.C:
		case <-q.full:
		case <-q.stop:
			stopping = true
		}
		q.mu.Lock()
		items := q.items
		q.items = spare[:0]
		q.closed = stopping
		q.mu.Unlock()
		if len(items) > 0 {
			q.flush(items)
		}
		spare = items
		if stopping {
			return
		}
	}
}

// Every runs fn every interval from its own goroutine until the returned
// stop is called; stop waits for a run in progress.
func Every(interval time.Duration, fn func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}
