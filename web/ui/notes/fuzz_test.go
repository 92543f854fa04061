package notes_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/web/ui/notes"
)

// FuzzParsePeriod: the results report's ?from=&to= never panics, and an
// accepted period is whole days, in order, within the limit.
func FuzzParsePeriod(f *testing.F) {
	f.Add("2026-01-01", "2026-12-31")
	f.Add("2026-02-30", "2026-03-01")
	f.Add("", "2026-01-01")
	f.Add("9999-12-31", "0000-01-01")
	loc, _ := time.LoadLocation("Europe/Copenhagen")
	f.Fuzz(func(t *testing.T, from, to string) {
		a, b, msg := notes.ParsePeriod(from, to, loc)
		if msg != "" {
			if strings.TrimSpace(msg) == "" {
				t.Fatal("blank message")
			}
			return
		}
		if !a.Before(b) || b.Sub(a) > 3661*24*time.Hour {
			t.Fatalf("accepted %q..%q as %v..%v", from, to, a, b)
		}
		if a.In(loc).Hour() != 0 || b.In(loc).Hour() != 0 {
			t.Fatalf("not whole days: %v..%v", a, b)
		}
	})
}
