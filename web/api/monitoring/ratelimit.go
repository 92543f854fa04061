package monitoring

import (
	"sync"
	"time"
)

// Requests per minute per organisation, by plan.
const (
	StandardPerMinute   = 1000
	EnterprisePerMinute = 10000
)

// Limiter decides whether one more request of key (an organisation) fits
// in perMinute. It is an interface so that several nodes can share their
// counts through the database later; the in-memory one serves one node.
type Limiter interface {
	Allow(key string, perMinute int) Decision
}

// Decision is a Limiter's answer, with what the RateLimit headers report.
type Decision struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      time.Duration // until the bucket is full again
	RetryAfter time.Duration // until one request fits (when refused)
}

// MemoryLimiter is a token bucket per key: perMinute tokens, refilled
// evenly over the minute, so a client can burst up to its whole minute and
// then continues at the plan's rate. Each bucket has its own lock: one busy
// organisation never waits on another's.
type MemoryLimiter struct {
	now     func() time.Time
	mu      sync.RWMutex
	buckets map[string]*bucket
}

type bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewMemoryLimiter makes an in-memory limiter on the given clock.
func NewMemoryLimiter(now func() time.Time) *MemoryLimiter {
	return &MemoryLimiter{now: now, buckets: map[string]*bucket{}}
}

// Allow takes one token from key's bucket if there is one.
func (l *MemoryLimiter) Allow(key string, perMinute int) Decision {
	l.mu.RLock()
	b := l.buckets[key]
	l.mu.RUnlock()
	if b == nil {
		l.mu.Lock()
		if b = l.buckets[key]; b == nil {
			b = &bucket{tokens: float64(perMinute), last: l.now()}
			l.buckets[key] = b
		}
		l.mu.Unlock()
	}
	rate := float64(perMinute) / float64(time.Minute) // tokens per nanosecond
	b.mu.Lock()
	defer b.mu.Unlock()
	now := l.now()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(perMinute), b.tokens+float64(elapsed)*rate)
		b.last = now
	}
	d := Decision{Limit: perMinute}
	if b.tokens >= 1 {
		b.tokens--
		d.Allowed = true
	} else {
		d.RetryAfter = time.Duration((1 - b.tokens) / rate)
	}
	d.Remaining = int(b.tokens)
	d.Reset = time.Duration((float64(perMinute) - b.tokens) / rate)
	return d
}

// peek reports whether key has a token left, without taking it.
func (l *MemoryLimiter) peek(key string, perMinute int) Decision {
	l.mu.RLock()
	b := l.buckets[key]
	l.mu.RUnlock()
	if b == nil {
		return Decision{Allowed: true, Limit: perMinute, Remaining: perMinute}
	}
	rate := float64(perMinute) / float64(time.Minute)
	b.mu.Lock()
	defer b.mu.Unlock()
	tokens := min(float64(perMinute), b.tokens+float64(l.now().Sub(b.last))*rate)
	if tokens >= 1 {
		return Decision{Allowed: true, Limit: perMinute, Remaining: int(tokens)}
	}
	return Decision{Limit: perMinute, RetryAfter: time.Duration((1 - tokens) / rate)}
}
