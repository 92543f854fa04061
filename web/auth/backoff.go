package auth

import (
	"strings"
	"sync"
	"time"
)

// Backoff is a Limiter that slows guessing down without walling anyone out:
// a key may fail Free times in a row; after that each attempt must wait
// Base·2^(failures−Free), at most Max, after the previous failure. A
// success clears the key; failures older than Forget are forgotten.
//
// Sign-in counts under two keys, the account (the e-mail as typed, whether
// or not it exists, so an unknown e-mail behaves exactly like a real one)
// and the client address, so neither a guesser spreading over accounts nor
// one hammering a single account gets far, and a clinic behind one NAT
// waits seconds, never a quarter of an hour.
type Backoff struct {
	Free int
	// AddressFree, if set, is Free for client-address keys (AddressKey):
	// one address may be a whole clinic behind NAT.
	AddressFree int
	Base        time.Duration
	Max         time.Duration
	Forget      time.Duration
	Now         func() time.Time

	mu sync.Mutex
	m  map[string]*backoffEntry
}

type backoffEntry struct {
	fails int
	last  time.Time
}

// NewBackoff returns a Backoff allowing free failures in a row, then
// waits from base doubling up to max; failures are forgotten after forget.
func NewBackoff(free int, base, max, forget time.Duration) *Backoff {
	return &Backoff{Free: free, Base: base, Max: max, Forget: forget, Now: time.Now, m: map[string]*backoffEntry{}}
}

// wait is how long after the last failure the next attempt must wait.
func (b *Backoff) wait(key string, fails int) time.Duration {
	free := b.Free
	if b.AddressFree > 0 && strings.HasPrefix(key, addressPrefix) {
		free = b.AddressFree
	}
	if fails < free {
		return 0
	}
	d := b.Base << min(fails-free, 30)
	if d <= 0 || d > b.Max {
		d = b.Max
	}
	return d
}

// Allow implements Limiter.
func (b *Backoff) Allow(key string) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entry(key)
	if e == nil {
		return true, 0
	}
	next := e.last.Add(b.wait(key, e.fails))
	if now := b.Now(); now.Before(next) {
		return false, next.Sub(now)
	}
	return true, 0
}

// Fail implements Limiter.
func (b *Backoff) Fail(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entry(key)
	if e == nil {
		e = &backoffEntry{}
		b.m[key] = e
	}
	e.fails++
	e.last = b.Now()
	if len(b.m) > 50000 { // bound memory under a spray of keys
		for k := range b.m {
			b.entry(k)
		}
	}
}

// Succeed implements Limiter.
func (b *Backoff) Succeed(key string) {
	b.mu.Lock()
	delete(b.m, key)
	b.mu.Unlock()
}

// entry returns key's entry, dropping it when it is forgotten.
func (b *Backoff) entry(key string) *backoffEntry {
	e := b.m[key]
	if e != nil && b.Now().Sub(e.last) > b.Forget {
		delete(b.m, key)
		return nil
	}
	return e
}
