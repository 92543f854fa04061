package web_test

import (
	"crypto/tls"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	h := web.New(web.Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: "https://x",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, SecureCookies: true})
	tests := []struct {
		path, csp, perms string
		tls              bool
	}{
		{"/signin", "connect-src 'self';", "camera=(),", false},
		{"/signin", "media-src 'self';", "microphone=()", true},
		{"/qapi/v1/openapi.json", "script-src 'self';", "camera=()", false},
		{"/visit/some-token", "media-src 'self' blob: mediastream:", "camera=(self), microphone=(self)", true},
		{"/visit/some-token", "connect-src 'self' wss://clinic.example:8443;", "display-capture=(self)", true},
		{"/visit/some-token", "connect-src 'self' ws://clinic.example:8443;", "camera=(self)", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.path, nil)
		r.Host = "clinic.example:8443"
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got := w.Header()
		csp := got.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "object-src 'none'", "frame-ancestors 'none'", tt.csp} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", tt.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline script: %q", tt.path, csp)
		}
		if p := got.Get("Permissions-Policy"); !strings.Contains(p, tt.perms) {
			t.Errorf("%s: Permissions-Policy %q lacks %q", tt.path, p, tt.perms)
		}
		if !strings.HasPrefix(tt.path, "/visit/") && strings.Contains(got.Get("Permissions-Policy"), "camera=(self)") {
			t.Errorf("%s allows the camera", tt.path)
		}
		if got.Get("Cross-Origin-Opener-Policy") != "same-origin" {
			t.Errorf("%s: COOP %q", tt.path, got.Get("Cross-Origin-Opener-Policy"))
		}
		if hsts := got.Get("Strict-Transport-Security"); (hsts != "") != tt.tls {
			t.Errorf("%s (tls %v): HSTS %q", tt.path, tt.tls, hsts)
		}
	}
	// A Host that is not a plain host:port never reaches the header.
	r := httptest.NewRequest("GET", "/visit/x", nil)
	r.Host = "evil; script-src *"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if csp := w.Header().Get("Content-Security-Policy"); strings.Contains(csp, "evil") {
		t.Errorf("Host injected into the CSP: %q", csp)
	}
}

// TestNoInlineScript: the CSP forbids inline script and event handlers, so
// no page may use them. Every templ file and static asset is checked.
func TestNoInlineScript(t *testing.T) {
	t.Parallel()
	inline := regexp.MustCompile(`<script(\s[^>]*)?>`)
	handler := regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	jsURL := regexp.MustCompile(`(?i)javascript:`)
	checked := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".templ") && !strings.HasSuffix(path, ".html") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for _, m := range inline.FindAllStringSubmatch(string(b), -1) {
			if !strings.Contains(m[0], "src=") {
				t.Errorf("%s: inline script %q", path, m[0])
			}
		}
		if loc := handler.FindStringIndex(string(b)); loc != nil {
			t.Errorf("%s: inline event handler %q", path, string(b)[loc[0]:min(loc[1]+20, len(b))])
		}
		if jsURL.Match(b) {
			t.Errorf("%s: javascript: URL", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("only %d templates found", checked)
	}
}
