package astm

import "time"

// Clock is the link layer's source of time. Production code uses
// SystemClock; tests inject a fake (see package astmtest) so the standard's
// 10 to 30 second timers elapse without real waiting.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d). Unstopped timers are collected by the
// runtime since Go 1.23, so abandoned waits do not leak.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// timer is a wait bound. With extend set, every chunk of incoming data
// pushes the deadline back: a receiver that is still getting bytes (a
// frame of thousands of characters at 1200 baud) is not timed out.
type timer struct {
	clock  Clock
	d      time.Duration
	extend bool
	last   time.Time
	c      <-chan time.Time
}

func newTimer(c Clock, d time.Duration, extend bool) *timer {
	return &timer{clock: c, d: d, extend: extend, last: c.Now(), c: c.After(d)}
}

// touch records activity.
func (t *timer) touch() {
	if t != nil && t.extend {
		t.last = t.clock.Now()
	}
}

// expired is called when t.c fires; it re-arms the timer for the rest of
// the extended period, or reports that the period has really elapsed.
func (t *timer) expired() bool {
	if rest := t.d - t.clock.Now().Sub(t.last); rest > 0 {
		t.c = t.clock.After(rest)
		return false
	}
	return true
}
