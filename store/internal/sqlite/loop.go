package sqlite

import (
	"errors"
	"sync"
	"time"
)

// ErrClosed is the answer of a queue whose DB has been closed.
var ErrClosed = errors.New("closed")

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
