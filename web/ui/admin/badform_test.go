package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// TestNoteTemplateFormsRefusedOnTheErrorPage: an oversized or malformed
// note-template form gets the error page with a way back (413 or 400), not
// a bare line of English text on a blank page, and the page says what to
// do in the reader's language (not the limit in bytes the APIs state).
func TestNoteTemplateFormsRefusedOnTheErrorPage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	danish := &store.User{Email: "dagny@north.example", Name: "Dagny Dansk", Role: store.RoleAdmin, Active: true}
	must(t, s.st.CreateUser(context.Background(), s.north.ID, danish, pw))
	must(t, s.st.SetUserLanguage(context.Background(), s.north.ID, danish.ID, "da"))
	users := map[string]*client{"en": s.signIn(t, "admin@north.example"), "da": s.signIn(t, danish.Email)}
	huge := url.Values{"room.1": {strings.Repeat("x", 2<<20)}}
	for _, tc := range []struct {
		lang, path string
		form       url.Values
		want       int
		says       string
	}{
		{"en", "/admin/note-templates/rooms", huge, http.StatusRequestEntityTooLarge, "The form is too large: at most 256 KB can be sent at once."},
		{"en", "/admin/note-templates/new", huge, http.StatusRequestEntityTooLarge, "The form is too large: at most 256 KB can be sent at once."},
		{"en", "/admin/note-templates/rooms?a=%zz", url.Values{"room.1": {"0"}}, http.StatusBadRequest, "The form could not be read. Go back, reload the page"},
		{"da", "/admin/note-templates/rooms", huge, http.StatusRequestEntityTooLarge, "Formularen er for stor: der kan højst sendes 256 KB ad gangen."},
		{"da", "/admin/note-templates/new", huge, http.StatusRequestEntityTooLarge, "Formularen er for stor: der kan højst sendes 256 KB ad gangen."},
		{"da", "/admin/note-templates/rooms?a=%zz", url.Values{"room.1": {"0"}}, http.StatusBadRequest, "Formularen kunne ikke læses. Gå tilbage, genindlæs siden"},
	} {
		code, _, body := users[tc.lang].do("POST", tc.path, tc.form)
		if code != tc.want || !strings.Contains(body, "<html") {
			t.Errorf("%s POST %s: %d, want %d on the error page; body starts %.120q", tc.lang, tc.path, code, tc.want, body)
		}
		if !strings.Contains(body, tc.says) || strings.Contains(body, "bytes") || strings.Contains(body, "the form could not be read") {
			t.Errorf("%s POST %s: the page does not say %q (in the reader's words, no byte count)", tc.lang, tc.path, tc.says)
		}
	}
}
