package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLanguages: the organisation's language is every user's default; a
// user's own choice wins; bad values change nothing.
func TestLanguages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.browser().signIn("admin@test.example")
	doc := e.browser().signIn("doc@test.example")
	if r := doc.get("/board"); !strings.Contains(r.body, `lang="en"`) || !strings.Contains(r.body, "Waiting-room board") {
		t.Fatalf("default page is not English")
	}
	r := admin.post("/admin/settings", url.Values{"language": {"da"}, "host": {""}, "port": {"587"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save settings: %d\n%s", r.status, r.body)
	}
	if r := doc.get("/board"); !strings.Contains(r.body, `lang="da"`) || !strings.Contains(r.body, "Venteværelsestavle") {
		t.Errorf("the organisation's Danish is not the clinician's default")
	}
	if r := doc.post("/account", url.Values{"language": {"en"}}); r.status != http.StatusSeeOther {
		t.Fatalf("account: %d", r.status)
	}
	if r := doc.get("/board"); !strings.Contains(r.body, `lang="en"`) {
		t.Errorf("the user's own English did not win")
	}
	if r := doc.post("/account", url.Values{"language": {"klingon"}}); r.status != http.StatusSeeOther {
		t.Errorf("bad language: %d", r.status)
	}
	u, _ := e.st.User(context.Background(), e.org.ID, e.doc.ID)
	if u.Language != "en" {
		t.Errorf("a bad language changed the user's to %q", u.Language)
	}
	// Settings are for admins only, with the layout's 403 page.
	if r := doc.get("/admin/settings"); r.status != http.StatusForbidden || !strings.Contains(r.body, `data-testid="error-403"`) {
		t.Errorf("clinician on settings: %d", r.status)
	}
}

// TestMailSettings: a bad server is refused beside its field; the password
// is never shown again and is kept when left empty.
func TestMailSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.browser().signIn("admin@test.example")
	r := admin.post("/admin/settings", url.Values{"language": {"en"}, "host": {"smtp.example.dk"}, "port": {"99999"}, "from": {"not-an-address"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-port"`) || !strings.Contains(r.body, `data-testid="error-from"`) {
		t.Errorf("bad mail settings: %d", r.status)
	}
	r = admin.post("/admin/settings", url.Values{"language": {"en"}, "host": {"smtp.example.dk"}, "port": {"587"},
		"from": {"klinik@example.dk"}, "username": {"klinik"}, "password": {"s3cret-pass"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.status)
	}
	page := admin.get("/admin/settings")
	if strings.Contains(page.body, "s3cret-pass") || !strings.Contains(page.body, "smtp.example.dk") {
		t.Error("the password is shown, or the host is not")
	}
	if !strings.Contains(page.body, `data-testid="breadcrumbs"`) || !strings.Contains(page.body, `href="/admin"`) {
		t.Error("no breadcrumbs on an admin sub-page")
	}
	admin.post("/admin/settings", url.Values{"language": {"en"}, "host": {"smtp.example.dk"}, "port": {"587"}, "from": {"klinik@example.dk"}, "username": {"klinik"}})
	m, _ := e.st.MailSettings(context.Background(), e.org.ID)
	if m.Password != "s3cret-pass" || !m.Configured() {
		t.Errorf("stored settings: configured %v, password kept %v", m.Configured(), m.Password == "s3cret-pass")
	}
	// Other admin sub-pages get breadcrumbs too.
	for _, p := range []string{"/admin/users", "/admin/rooms", "/admin/audit", "/admin/integrations/api-keys", "/admin/devices"} {
		if r := admin.get(p); r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="breadcrumbs"`) {
			t.Errorf("%s: %d, breadcrumbs %v", p, r.status, strings.Contains(r.body, `data-testid="breadcrumbs"`))
		}
	}
	// An unknown page is the 404 page in the layout, with a way back.
	if r := admin.get("/no/such/page"); r.status != http.StatusNotFound || !strings.Contains(r.body, `data-testid="error-404"`) || !strings.Contains(r.body, `href="/board"`) {
		t.Errorf("unknown page: %d", r.status)
	}
}
