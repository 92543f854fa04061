package webhook

import (
	"math/rand/v2"
	"time"
)

// Backoff is the retry schedule: exponential from Base, capped at Max, with
// ±Jitter, until GiveUpAfter has passed since the first attempt (measured on
// the nominal schedule, so downtime of the appliance does not eat the
// retries).
type Backoff struct {
	Base        time.Duration
	Max         time.Duration
	GiveUpAfter time.Duration
	Jitter      float64 // 0.2 = ±20 %
	// Rand returns a number in [0, 1); nil is math/rand.
	Rand func() float64
}

// DefaultBackoff is 30 s, 1 min, 2 min, ... capped at 6 h, ±20 %, for 24 h:
// 14 attempts in all.
var DefaultBackoff = Backoff{Base: 30 * time.Second, Max: 6 * time.Hour, GiveUpAfter: 24 * time.Hour, Jitter: 0.2}

func (b Backoff) nominal(attempt int) time.Duration {
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Next returns the delay before the next attempt after attempts failed
// attempts, or giveUp when the retry period is over.
func (b Backoff) Next(attempts int) (delay time.Duration, giveUp bool) {
	if attempts < 1 {
		attempts = 1
	}
	var elapsed time.Duration // nominal time of attempt number `attempts`
	for i := 1; i < attempts; i++ {
		elapsed += b.nominal(i)
	}
	if elapsed >= b.GiveUpAfter {
		return 0, true
	}
	d := b.nominal(attempts)
	if elapsed+d > b.GiveUpAfter {
		d = b.GiveUpAfter - elapsed // the last try lands on the deadline
	}
	if b.Jitter > 0 {
		r := rand.Float64
		if b.Rand != nil {
			r = b.Rand
		}
		d = time.Duration(float64(d) * (1 - b.Jitter + 2*b.Jitter*r()))
	}
	return d, false
}
