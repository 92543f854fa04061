package store_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Observation uuids are version 7: they sort by the time they were made
// (so their index grows at its end) and differ within one millisecond.
func TestTimeUUIDs(t *testing.T) {
	t.Parallel()
	v7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	prev := ""
	seen := map[string]bool{}
	for i := range 1000 {
		u := store.NewTimeUUID(at.Add(time.Duration(i/10) * time.Millisecond))
		if !v7.MatchString(u) {
			t.Fatalf("%q is not a version 7 UUID", u)
		}
		if seen[u] {
			t.Fatalf("%q made twice", u)
		}
		seen[u] = true
		if i%10 == 0 && u <= prev {
			t.Fatalf("%q (ms %d) sorts before %q", u, i/10, prev)
		}
		prev = u
	}
	// The first 48 bits are the Unix time in milliseconds (1796205600000).
	if got := store.NewTimeUUID(at)[:13]; got != "01a23632-5d00" {
		t.Errorf("time part %q, want 01a23632-5d00", got)
	}
}
