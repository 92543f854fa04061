package admin_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

func TestAPIClientsPage(t *testing.T) {
	ctx := context.Background()
	s := newNorth(t, storetest.Open(t))
	st, org := s.st, s.north
	s.srv = serve(t, st)
	signIn := func(email string) *client { return s.signIn(t, email) }
	doc := signIn("doc@north.example")
	if code, _, _ := doc.do("GET", "/admin/integrations/api-clients", nil); code != http.StatusForbidden {
		t.Fatalf("clinician sees the clients page: %d", code)
	}
	admin := signIn("admin@north.example")
	if code, _, body := admin.do("GET", "/admin/integrations/api-clients", nil); code != 200 || !strings.Contains(body, `data-testid="create-client-form"`) {
		t.Fatalf("clients page: %d", code)
	}
	if code, _, body := admin.do("POST", "/admin/integrations/api-clients", url.Values{"name": {"EHR"}, "scope": {"launch/patient"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="error-scope"`) {
		t.Fatalf("create with a bad scope: %d", code)
	}
	code, _, body := admin.do("POST", "/admin/integrations/api-clients", url.Values{"name": {"EHR"}, "scope": {"system/*.read reports.read"}})
	m := regexp.MustCompile(`clientID=(fc_[^\n]+)\nclientSecret=([^<\n]+)<`).FindStringSubmatch(html.UnescapeString(body))
	if code != 200 || m == nil {
		i := strings.Index(body, "new-client\"")
		t.Fatalf("create: %d, no credentials shown: %s", code, body[max(0, i):min(len(body), i+300)])
	}
	_, g, err := st.IssueOAuthToken(ctx, m[1], m[2], nil)
	if err != nil || g.Client.OrgID != org.ID || strings.Join(g.Scopes, " ") != "system/*.read reports.read" {
		t.Fatalf("the shown credentials: %v %+v", err, g)
	}
	if _, _, body := admin.do("GET", "/admin/integrations/api-clients", nil); strings.Contains(body, m[2]) || !strings.Contains(body, m[1]) {
		t.Fatal("the list shows the secret, or not the client")
	}
	if code, _, _ := doc.do("POST", "/admin/integrations/api-clients/"+m[1]+"/revoke", url.Values{}); code != http.StatusForbidden {
		t.Fatalf("clinician revokes: %d", code)
	}
	if code, loc, _ := admin.do("POST", "/admin/integrations/api-clients/"+m[1]+"/revoke", url.Values{}); code != http.StatusSeeOther || loc != "/admin/integrations/api-clients" {
		t.Fatalf("revoke: %d %s", code, loc)
	}
	if _, _, err := st.IssueOAuthToken(ctx, m[1], m[2], nil); err != store.ErrBadClientCredentials {
		t.Fatalf("revoked client still gets tokens: %v", err)
	}
	if code, _, _ := admin.do("POST", "/admin/integrations/api-clients/fc_nobody/revoke", url.Values{}); code != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d", code)
	}
}
