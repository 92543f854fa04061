package auth

import (
	"sync"
	"time"
)

// Limiter slows down guessing: it counts failed attempts per key (a client
// address) and refuses further attempts for a while once there were too
// many. It is an interface so that, with several nodes, the count can move
// into the database.
type Limiter interface {
	// Allow reports whether key may try now, and if not, for how long to wait.
	Allow(key string) (ok bool, wait time.Duration)
	// Fail records a failed attempt by key.
	Fail(key string)
	// Succeed forgets key's failures (a successful sign-in).
	Succeed(key string)
}

// MemoryLimiter is a Limiter for one process: at most Max failures per
// Window from one key.
type MemoryLimiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewMemoryLimiter allows max failures per window from one key.
func NewMemoryLimiter(max int, window time.Duration) *MemoryLimiter {
	return &MemoryLimiter{Max: max, Window: window, Now: time.Now, failures: map[string][]time.Time{}}
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.prune(key)
	if len(recent) < l.Max {
		return true, 0
	}
	return false, recent[0].Add(l.Window).Sub(l.Now())
}

// Fail implements Limiter.
func (l *MemoryLimiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[key] = append(l.prune(key), l.Now())
	if len(l.failures) > 10000 { // bound memory under a spray of addresses
		for k := range l.failures {
			if len(l.prune(k)) == 0 {
				delete(l.failures, k)
			}
		}
	}
}

// Succeed implements Limiter.
func (l *MemoryLimiter) Succeed(key string) {
	l.mu.Lock()
	delete(l.failures, key)
	l.mu.Unlock()
}

// prune drops failures older than the window and returns the rest.
func (l *MemoryLimiter) prune(key string) []time.Time {
	cut := l.Now().Add(-l.Window)
	ts := l.failures[key]
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = ts
	return ts
}
