package astmtest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Clock is a manual clock: time moves only when Advance is called. It is
// safe for concurrent use; the code under test runs in its own goroutine
// while the test advances time.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced whenever a timer is added
}

type fakeTimer struct {
	at      time.Time
	d       time.Duration
	c       chan time.Time
	claimed bool // returned by AwaitTimer already
}

// NewClock returns a clock that reads start until advanced.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives when the clock has been advanced by
// d. A d of zero or less fires at once.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), d: d, c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
		return t.c
	}
	c.timers = append(c.timers, t)
	close(c.changed)
	c.changed = make(chan struct{})
	return t.c
}

// Advance moves the clock forward by d and fires, in order, every timer
// that falls due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	keep := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			keep = append(keep, t)
			continue
		}
		t.c <- t.at
	}
	c.timers = keep
}

// AwaitTimer blocks until the code under test has started a timer of
// exactly d that no earlier AwaitTimer returned, and claims it. Tests call
// it before Advance so that time moves only once the code is really
// waiting. It fails when ctx ends first.
func (c *Clock) AwaitTimer(ctx context.Context, d time.Duration) error {
	for {
		c.mu.Lock()
		for _, t := range c.timers {
			if t.d == d && !t.claimed {
				t.claimed = true
				c.mu.Unlock()
				return nil
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("astmtest: no %v timer started: %w", d, ctx.Err())
		}
	}
}

// AdvanceTimer is AwaitTimer followed by Advance(d): it lets the timer of
// d that the code under test is waiting on elapse.
func (c *Clock) AdvanceTimer(ctx context.Context, d time.Duration) error {
	if err := c.AwaitTimer(ctx, d); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}
