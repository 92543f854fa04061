package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestNoteTemplateFormsRefusedOnTheErrorPage: an oversized or malformed
// note-template form gets the error page with a way back (413 or 400), not
// a bare line of English text on a blank page.
func TestNoteTemplateFormsRefusedOnTheErrorPage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.signIn(t, "admin@north.example")
	huge := url.Values{"room.1": {strings.Repeat("x", 2<<20)}}
	for _, tc := range []struct {
		path string
		form url.Values
		want int
	}{
		{"/admin/note-templates/rooms", huge, http.StatusRequestEntityTooLarge},
		{"/admin/note-templates/new", huge, http.StatusRequestEntityTooLarge},
		{"/admin/note-templates/rooms?a=%zz", url.Values{"room.1": {"0"}}, http.StatusBadRequest},
	} {
		code, _, body := c.do("POST", tc.path, tc.form)
		if code != tc.want || !strings.Contains(body, "<html") || strings.Contains(body, "the form could not be read\n") {
			t.Errorf("POST %s: %d, want %d on the error page; body starts %.120q", tc.path, code, tc.want, body)
		}
	}
}
