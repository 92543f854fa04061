package sqlite

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Batcher writes items in groups: an Add waits until the group holding
// its item has been flushed, and the next group is gathered while one is
// being flushed. Under load a flush carries many items for the price of
// one (group commit); alone, an item waits for one flush.
type Batcher[T any] struct {
	flush func([]T) error

	mu     sync.Mutex
	cur    *group[T]
	closed bool
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

type group[T any] struct {
	items []T
	err   error
	done  chan struct{}
}

// ErrClosed is the answer of a Batcher that has been closed.
var ErrClosed = errors.New("closed")

// NewBatcher starts a batcher that calls flush from its own goroutine.
func NewBatcher[T any](flush func([]T) error) *Batcher[T] {
	b := &Batcher[T]{flush: flush, cur: &group[T]{done: make(chan struct{})},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

// Add hands v to the next flush and waits for it: nil means v was flushed.
// When ctx ends first, Add returns its error and v is still flushed.
func (b *Batcher[T]) Add(ctx context.Context, v T) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	g := b.cur
	g.items = append(g.items, v)
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
	select {
	case <-g.done:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close flushes what was added and stops the batcher.
func (b *Batcher[T]) Close() {
	b.once.Do(func() { close(b.stop) })
	<-b.done
}

func (b *Batcher[T]) loop() {
	defer close(b.done)
	for {
		stopping := false
		select {
		case <-b.kick:
		case <-b.stop:
			stopping = true
		}
		b.mu.Lock()
		g := b.cur
		b.cur = &group[T]{done: make(chan struct{})}
		b.closed = stopping
		b.mu.Unlock()
		if len(g.items) > 0 {
			g.err = b.flush(g.items)
		}
		close(g.done)
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
