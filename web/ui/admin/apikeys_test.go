package admin_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/live"
)

func TestAPIKeysPage(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "i.db"))
	if err != nil {
		t.Fatal(err)
	}
	org := &store.Org{Name: "North", Slug: "north"}
	if err := st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*store.User{
		{Email: "admin@north.example", Name: "Ada Admin", Role: store.RoleAdmin, Active: true},
		{Email: "doc@north.example", Name: "Dan Doc", Role: store.RoleClinician, Active: true},
	} {
		if err := st.CreateUser(ctx, org.ID, u, "a long enough password"); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	hctx, cancel := context.WithCancel(ctx)
	go hub.Run(hctx)
	srv := httptest.NewServer(web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "http://x",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}}))
	t.Cleanup(func() { hub.Close(); srv.Close(); cancel(); st.Close() })

	signIn := func(email string) *client {
		jar, _ := cookiejar.New(nil)
		c := &client{t: t, url: srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		if code, _, body := c.do("POST", "/signin", url.Values{"email": {email}, "password": {"a long enough password"}}); code != http.StatusSeeOther {
			t.Fatalf("sign in %s: %d %s", email, code, body)
		}
		return c
	}

	doc := signIn("doc@north.example")
	if code, _, _ := doc.do("GET", "/admin/integrations/api-keys", nil); code != http.StatusForbidden {
		t.Fatalf("clinician sees the keys page: %d", code)
	}
	admin := signIn("admin@north.example")
	code, _, body := admin.do("GET", "/admin/integrations/api-keys", nil)
	if code != 200 || !strings.Contains(body, `data-testid="create-key-form"`) {
		t.Fatalf("keys page: %d", code)
	}
	if code, _, body := admin.do("POST", "/admin/integrations/api-keys", url.Values{"name": {"  "}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="error-name"`) {
		t.Fatalf("create without a name: %d", code)
	}
	code, _, body = admin.do("POST", "/admin/integrations/api-keys", url.Values{"name": {"EHR bridge"}})
	m := regexp.MustCompile(`data-testid="new-key">(cbk_[^<]+)<`).FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("create: %d, no key shown", code)
	}
	key := m[1]
	k, err := st.APIKeyByToken(ctx, key)
	if err != nil || k.Name != "EHR bridge" || k.OrgID != org.ID {
		t.Fatalf("the shown key does not authenticate: %v %+v", err, k)
	}
	// Shown once: the list page does not show it again.
	if _, _, body := admin.do("GET", "/admin/integrations/api-keys", nil); strings.Contains(body, key) || !strings.Contains(body, "EHR bridge") {
		t.Fatal("the list shows the key, or not its name")
	}
	if code, _, _ := doc.do("POST", "/admin/integrations/api-keys/1/revoke", url.Values{}); code != http.StatusForbidden {
		t.Fatalf("clinician revokes: %d", code)
	}
	if code, loc, _ := admin.do("POST", "/admin/integrations/api-keys/1/revoke", url.Values{}); code != http.StatusSeeOther || loc != "/admin/integrations/api-keys" {
		t.Fatalf("revoke: %d %s", code, loc)
	}
	if _, err := st.APIKeyByToken(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked key still authenticates: %v", err)
	}
	if code, _, _ := admin.do("POST", "/admin/integrations/api-keys/999/revoke", url.Values{}); code != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d", code)
	}
}
