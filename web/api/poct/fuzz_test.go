package poct

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzCursor: whatever a client sends as ?cursor=, the answer is a cursor
// this API gave out (a positive id that encodes back to the same string) or
// a 400, never a panic.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", cursor(1), cursor(1 << 40), "cDE6MA", "nonsense", "cDE6LTE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		r := httptest.NewRequest("GET", "/api/poct/v1/results?cursor="+url.QueryEscape(c), nil)
		id, err := afterCursor(r)
		if err != nil {
			return
		}
		if c == "" {
			if id != 0 {
				t.Fatalf("empty cursor gave %d", id)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("cursor %q gave id %d", c, id)
		}
	})
}
