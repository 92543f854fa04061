package store

import (
	"context"
	"sync"
	"time"
)

// The outbox as a feed of changes, for what keeps derived state in memory
// (the faces' answer caches). A watcher learns of every committed event
// twice over, and must not mind:
//
//   - events appended by this process reach it synchronously, from the
//     writer, after the commit and before the write that appended them is
//     acknowledged: a caller that got its write's answer can rely on every
//     watcher having seen it (read-your-writes);
//   - a poller reads the outbox table for events that other processes
//     sharing the database appended (a second node), within EventPoll.
//
// So invalidation is driven by the events alone, the same way for this
// node's writes and another's.

// DefaultEventPoll is how often the outbox is read for other processes'
// events while anyone watches.
const DefaultEventPoll = time.Second

// WithEventPoll sets how often the outbox is read for events that other
// processes appended; 0 or less: never (a database this process alone
// writes).
func WithEventPoll(d time.Duration) Option { return func(s *Store) { s.feed.poll = d } }

type feed struct {
	poll time.Duration

	mu       sync.RWMutex
	watchers map[int]func([]Event)
	next     int
	// local are the events this process published, until the poller has
	// passed them (it skips them: they were delivered already).
	local   map[int64]Event
	polling bool
	stop    chan struct{}
	done    chan struct{}
}

// WatchEvents calls fn with the events of every committed write, oldest
// first, until stop is called or the store closes. fn runs in the writer
// (for this process's writes) or in the poller: it must be quick and must
// not write to the store. An event may be delivered more than once.
func (s *Store) WatchEvents(fn func([]Event)) (stop func()) {
	f := &s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.watchers == nil {
		f.watchers = map[int]func([]Event){}
	}
	id := f.next
	f.next++
	f.watchers[id] = fn
	if !f.polling && f.poll > 0 && f.stop == nil {
		f.polling = true
		f.local = map[int64]Event{}
		f.stop, f.done = make(chan struct{}), make(chan struct{})
		after, err := s.LastEventID(context.Background())
		if err != nil {
			s.log.Error("event feed: start", "err", err)
		}
		go s.pollEvents(after)
	}
	return func() {
		f.mu.Lock()
		delete(f.watchers, id)
		f.mu.Unlock()
	}
}

type feedKey struct{}

// published collects the events of one write batch, so that they reach the
// watchers once the batch has committed.
func (tx *txn) published(e Event) {
	f := &tx.s.feed
	f.mu.RLock()
	n := len(f.watchers)
	f.mu.RUnlock()
	if n == 0 {
		return
	}
	first := false
	evs := tx.Shared(feedKey{}, func() any { first = true; return new([]Event) }).(*[]Event)
	k := len(*evs)
	*evs = append(*evs, e)
	// A write rolled back alone (to its savepoint) takes its events along.
	tx.OnRollback(func() { *evs = (*evs)[:k] })
	if first {
		s := tx.s
		tx.AfterCommit(func() { s.deliver(*evs, true) })
	}
}

// deliver hands events to every watcher. local marks this process's own
// (so the poller does not deliver them again).
func (s *Store) deliver(evs []Event, local bool) {
	if len(evs) == 0 {
		return
	}
	f := &s.feed
	f.mu.Lock()
	if local && f.polling {
		for _, e := range evs {
			f.local[e.ID] = e
		}
	}
	fns := make([]func([]Event), 0, len(f.watchers))
	for _, fn := range f.watchers {
		fns = append(fns, fn)
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(evs)
	}
}

// pollEvents delivers the events other processes append to the outbox.
func (s *Store) pollEvents(after int64) {
	f := &s.feed
	defer close(f.done)
	t := time.NewTicker(f.poll)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
		for {
			evs, err := s.EventsAfter(context.Background(), 0, after, 1000)
			if err != nil {
				s.log.Error("event feed: poll", "err", err)
				break
			}
			if len(evs) == 0 {
				break
			}
			after = evs[len(evs)-1].ID
			f.mu.Lock()
			foreign := evs[:0:0]
			for _, e := range evs {
				// An id of ours names the same event only if it says the
				// same: a write whose commit failed may leave its id in
				// local, and another process may then use the id.
				if l, ok := f.local[e.ID]; ok && l.Type == e.Type && l.SubjectType == e.SubjectType && l.SubjectID == e.SubjectID {
					continue
				}
				foreign = append(foreign, e)
			}
			for id := range f.local {
				if id <= after {
					delete(f.local, id)
				}
			}
			f.mu.Unlock()
			s.deliver(foreign, false)
			if len(evs) < 1000 {
				break
			}
		}
	}
}

// stopFeed ends the poller (Close).
func (s *Store) stopFeed() {
	f := &s.feed
	f.mu.Lock()
	stop, done := f.stop, f.done
	f.polling = false
	f.watchers = nil
	f.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}
