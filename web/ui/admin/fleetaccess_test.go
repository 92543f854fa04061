package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// TestFleetAccessPage: an admin grants and revokes a distributor's view of
// the organisation's fleet; only admins reach the page, each organisation
// sees and revokes only its own grants, refusals do not tell whether an
// address has an account, and every change is audited.
func TestFleetAccessPage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	doc, north, dist, east := s.signIn(t, "doc@north.example"), s.signIn(t, "admin@north.example"),
		s.signIn(t, "dist@north.example"), s.signIn(t, "admin@east.example")
	grantRow := fmt.Sprintf(`data-testid="grant-%d"`, s.distributor.ID)
	revoke := fmt.Sprintf("/admin/poct/access/%d/revoke", s.distributor.ID)

	// Admins only.
	for _, req := range []struct{ method, path string }{{"GET", "/admin/poct/access"}, {"POST", "/admin/poct/access"}, {"POST", revoke}} {
		if code, _, _ := doc.do(req.method, req.path, url.Values{"email": {"admin@east.example"}}); code != http.StatusForbidden {
			t.Errorf("clinician %s %s: %d, want 403", req.method, req.path, code)
		}
	}

	// East granted the distributor (newSite); North has granted nobody.
	if code, _, body := east.do("GET", "/admin/poct/access", nil); code != 200 || !strings.Contains(body, grantRow) ||
		!strings.Contains(body, "dist@north.example") || !strings.Contains(body, "North Clinic") {
		t.Fatalf("east's grants: %d\n%s", code, body)
	}
	if _, _, body := north.do("GET", "/admin/poct/access", nil); strings.Contains(body, grantRow) || !strings.Contains(body, `data-testid="grant-form"`) {
		t.Errorf("north sees east's grant:\n%s", body)
	}

	// North cannot take back East's grant: not found, and it stays.
	if code, _, _ := north.do("POST", revoke, url.Values{}); code != http.StatusNotFound {
		t.Errorf("north revoking east's grant: %d, want 404", code)
	}
	if code, _, _ := north.do("POST", "/admin/poct/access/abc/revoke", url.Values{}); code != http.StatusNotFound {
		t.Errorf("malformed id: %d, want 404", code)
	}
	if _, _, body := dist.do("GET", "/admin/poct/fleet", nil); !strings.Contains(body, "HemoCue Hb 801") {
		t.Fatal("the distributor lost east's fleet")
	}

	// Refusals: unknown address and a clinician read the same; an own admin
	// needs no grant; nothing is stored.
	var refusals []string
	for _, email := range []string{"nobody@nowhere.example", "doc@north.example", "admin@east.example", ""} {
		code, _, body := east.do("POST", "/admin/poct/access", url.Values{"email": {email}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="error-email"`) {
			t.Errorf("grant to %q: %d\n%s", email, code, body)
		}
		refusals = append(refusals, fieldError(body))
	}
	if refusals[0] != refusals[1] || refusals[0] == "" {
		t.Errorf("an unknown address and a clinician's are told apart: %q vs %q", refusals[0], refusals[1])
	}
	if gs, err := s.st.FleetGrants(ctx, s.east.ID); err != nil || len(gs) != 1 {
		t.Errorf("east's grants after refusals: %v %v", gs, err)
	}

	// North grants East's admin; the row shows and is audited in North.
	code, loc, _ := north.do("POST", "/admin/poct/access", url.Values{"email": {" admin@east.example "}})
	if code != http.StatusSeeOther || loc != "/admin/poct/access" {
		t.Fatalf("grant: %d %q", code, loc)
	}
	if _, _, body := north.do("GET", "/admin/poct/access", nil); !strings.Contains(body, "admin@east.example") || !strings.Contains(body, "now sees this organisation") {
		t.Errorf("north after the grant:\n%s", body)
	}
	if _, _, body := east.do("GET", "/admin/poct/fleet", nil); !strings.Contains(body, "Afinion") {
		t.Error("east's admin does not see north's devices after the grant")
	}

	// East takes its grant back: the distributor no longer sees East.
	if code, loc, _ := east.do("POST", revoke, url.Values{}); code != http.StatusSeeOther || loc != "/admin/poct/access" {
		t.Fatalf("revoke: %d %q", code, loc)
	}
	if _, _, body := dist.do("GET", "/admin/poct/fleet", nil); strings.Contains(body, "HemoCue") {
		t.Error("the distributor still sees east's devices after the revocation")
	}
	if code, _, _ := east.do("POST", revoke, url.Values{}); code != http.StatusNotFound {
		t.Errorf("revoking twice: %d, want 404", code)
	}

	for _, c := range []struct {
		org    *store.Org
		action string
		by     string
	}{{s.north, "grant", "admin@north.example"}, {s.east, "revoke", "admin@east.example"}} {
		es, err := s.st.AuditLog(ctx, c.org.ID, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range es {
			found = found || (e.Entity == "fleet" && e.Action == c.action && e.Actor == c.by)
		}
		if !found {
			t.Errorf("%s: no %s of fleet access by %s in the audit log", c.org.Slug, c.action, c.by)
		}
	}
}

// fieldError is the text of the first field error on a page.
func fieldError(body string) string {
	_, after, ok := strings.Cut(body, `data-testid="error-email"`)
	if !ok {
		return ""
	}
	_, after, _ = strings.Cut(after, ">")
	msg, _, _ := strings.Cut(after, "<")
	return msg
}
