package layout_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// TestBoundForms: a POST route's URL-encoded form is read within the limit
// before its handler (which then finds it parsed); one over the limit is
// refused with 413 on the error page and never reaches the handler; a
// multipart upload and a GET are left to their handlers.
func TestBoundForms(t *testing.T) {
	var reached, name string
	handler := func(w http.ResponseWriter, r *http.Request) {
		reached = r.Method + " " + r.Header.Get("Content-Type")
		if r.PostForm != nil {
			name = r.PostForm.Get("name")
		}
		w.WriteHeader(http.StatusNoContent)
	}
	routes := layout.BoundForms([]httpx.Route{
		{Method: "POST", Pattern: "/form", Handler: handler},
		{Method: "GET", Pattern: "/page", Handler: handler},
	}, 1<<10)
	mux := http.NewServeMux()
	httpx.Register(mux, routes)

	for _, tc := range []struct {
		name, method, path, ctype, body string
		status                          int
		reached                         bool
		parsedName                      string
	}{
		{"small form", "POST", "/form", "application/x-www-form-urlencoded", "name=Ada", 204, true, "Ada"},
		{"form over the limit", "POST", "/form", "application/x-www-form-urlencoded", "name=" + strings.Repeat("x", 2<<10), 413, false, ""},
		{"no content type: no form to read", "POST", "/form", "", "name=Ada", 204, true, ""},
		{"multipart keeps its handler's limit", "POST", "/form", "multipart/form-data; boundary=b", strings.Repeat("x", 2<<10), 204, true, ""},
		{"a GET is untouched", "GET", "/page", "", "", 204, true, ""},
	} {
		reached, name = "", ""
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != tc.status || (reached != "") != tc.reached || name != tc.parsedName {
			t.Errorf("%s: status %d reached %q name %q, want %d %v %q", tc.name, rec.Code, reached, name, tc.status, tc.reached, tc.parsedName)
		}
	}
}
