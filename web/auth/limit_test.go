package auth

import (
	"testing"
	"time"
)

func TestMemoryLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	l := NewMemoryLimiter(3, 10*time.Minute)
	l.Now = func() time.Time { return now }
	for i := range 3 {
		if ok, _ := l.Allow("10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		l.Fail("10.0.0.1")
		now = now.Add(time.Minute)
	}
	ok, wait := l.Allow("10.0.0.1")
	if ok || wait != 7*time.Minute {
		t.Fatalf("after 3 failures: ok %v wait %v, want refused for 7m", ok, wait)
	}
	if ok, _ := l.Allow("10.0.0.2"); !ok {
		t.Fatal("another address is refused")
	}
	now = now.Add(7 * time.Minute) // the first failure leaves the window
	if ok, _ := l.Allow("10.0.0.1"); !ok {
		t.Fatal("still refused after the window moved on")
	}
}
