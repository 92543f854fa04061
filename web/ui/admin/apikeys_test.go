package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

func TestAPIKeysPage(t *testing.T) {
	ctx := context.Background()
	s := newNorth(t, storetest.Open(t))
	st, org := s.st, s.north
	s.srv = serve(t, st)
	signIn := func(email string) *client { return s.signIn(t, email) }

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
