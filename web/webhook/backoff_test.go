package webhook

import "testing"

func TestBackoffSchedule(t *testing.T) {
	b := DefaultBackoff
	b.Jitter = 0
	want := []string{"30s", "1m0s", "2m0s", "4m0s", "8m0s", "16m0s", "32m0s", "1h4m0s", "2h8m0s", "4h16m0s", "6h0m0s", "6h0m0s", "3h28m30s"}
	var total, last = 0 * b.Base, 0
	for i, w := range want {
		d, giveUp := b.Next(i + 1)
		if giveUp || d.String() != w {
			t.Errorf("after attempt %d: %v (give up %v), want %s", i+1, d, giveUp, w)
		}
		total += d
		last = i + 1
	}
	if total != b.GiveUpAfter {
		t.Errorf("schedule spans %v, want %v", total, b.GiveUpAfter)
	}
	if _, giveUp := b.Next(last + 1); !giveUp {
		t.Errorf("attempt %d should give up", last+1)
	}
	j := DefaultBackoff
	for _, r := range []float64{0, 0.5, 0.999} {
		j.Rand = func() float64 { return r }
		d, _ := j.Next(1)
		if d < 24e9 || d > 36e9 {
			t.Errorf("jitter %v: delay %v outside 30s ±20%%", r, d)
		}
	}
}
