package kv

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type env struct {
	t                     *testing.T
	srv                   *httptest.Server
	st                    *store.Store
	rwA, roA, rwB, fhirRd string
}

func newEnv(t *testing.T) *env {
	ctx := context.Background()
	st := storetest.Open(t, store.WithClock(storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)).Now))
	mux := http.NewServeMux()
	o := &auth.OAuth{Store: st}
	httpx.Register(mux, New(Deps{Store: st, OAuth: o, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Routes())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, st: st}
	tok := func(slug, scopes string) string {
		org, err := st.OrgBySlug(ctx, slug)
		if err != nil {
			org = storetest.Org(t, st, slug, slug)
		}
		c, secret, err := st.CreateOAuthClient(ctx, org.ID, store.ClientKindFHIR, "kv test", store.ParseScopes(scopes))
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := st.IssueOAuthToken(ctx, c.ClientID, secret, nil)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	e.rwA, e.roA, e.rwB, e.fhirRd = tok("a", "kv.read kv.write"), tok("a", "kv.read"), tok("b", "kv.read kv.write"), tok("a", "system/*.read")
	return e
}

func (e *env) do(method, path, token string, hdr map[string]string, body string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestKV(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	js := map[string]string{"Content-Type": "application/json"}
	steps := []struct {
		name      string
		method    string
		path      string
		token     string
		hdr       map[string]string
		body      string
		status    int
		etag      string
		bodyHas   string
		bodyHasnt string
		errCode   string
	}{
		{"create json", "PUT", "/api/kv/v1/ui/theme", e.rwA, js, `{"dark":true}`, 201, `"1"`, `"version":1`, "", ""},
		{"read it", "GET", "/api/kv/v1/ui/theme", e.roA, nil, "", 200, `"1"`, `{"dark":true}`, "", ""},
		{"other org does not see it", "GET", "/api/kv/v1/ui/theme", e.rwB, nil, "", 404, "", "", "", "not_found"},
		{"replace with the right ETag", "PUT", "/api/kv/v1/ui/theme", e.rwA, map[string]string{"Content-Type": "application/json", "If-Match": `"1"`}, `{"dark":false}`, 200, `"2"`, "", "", ""},
		{"stale ETag refused", "PUT", "/api/kv/v1/ui/theme", e.rwA, map[string]string{"Content-Type": "application/json", "If-Match": `"1"`}, `{"lost":true}`, 412, "", "", "", "precondition_failed"},
		{"value unchanged by the refused write", "GET", "/api/kv/v1/ui/theme", e.roA, nil, "", 200, `"2"`, `{"dark":false}`, "lost", ""},
		{"create-only on an existing key", "PUT", "/api/kv/v1/ui/theme", e.rwA, map[string]string{"Content-Type": "application/json", "If-None-Match": "*"}, `{}`, 412, "", "", "", "precondition_failed"},
		{"bytes", "PUT", "/api/kv/v1/ui/logo.png", e.rwA, map[string]string{"Content-Type": "image/png"}, "\x89PNG\r\n", 201, `"1"`, "", "", ""},
		{"bytes back", "GET", "/api/kv/v1/ui/logo.png", e.roA, nil, "", 200, `"1"`, "\x89PNG\r\n", "", ""},
		{"nested key", "PUT", "/api/kv/v1/ui/rooms/1/colour", e.rwA, js, `"red"`, 201, "", "", "", ""},
		{"list by prefix", "GET", "/api/kv/v1/ui?prefix=rooms/", e.roA, nil, "", 200, "", `"key":"rooms/1/colour"`, "theme", ""},
		{"list all", "GET", "/api/kv/v1/ui", e.roA, nil, "", 200, "", `"key":"theme"`, "", ""},
		{"list paged", "GET", "/api/kv/v1/ui?limit=1", e.roA, nil, "", 200, "", `"next":"logo.png"`, "rooms", ""},
		{"list after", "GET", "/api/kv/v1/ui?limit=1&after=logo.png", e.roA, nil, "", 200, "", `"key":"rooms/1/colour"`, "logo", ""},
		{"invalid JSON", "PUT", "/api/kv/v1/ui/x", e.rwA, js, `{nope`, 400, "", "", "", "invalid"},
		{"no content type", "PUT", "/api/kv/v1/ui/x", e.rwA, nil, `x`, 400, "", "", "", "invalid"},
		{"too large", "PUT", "/api/kv/v1/ui/x", e.rwA, map[string]string{"Content-Type": "text/plain"}, strings.Repeat("x", store.MaxKVValue+1), 413, "", "", "", "too_large"},
		{"bad namespace", "PUT", "/api/kv/v1/-bad/x", e.rwA, js, `1`, 400, "", "", "", "invalid"},
		{"read scope cannot write", "PUT", "/api/kv/v1/ui/x", e.roA, js, `1`, 403, "", "", "", "insufficient_scope"},
		{"fhir token cannot read", "GET", "/api/kv/v1/ui/theme", e.fhirRd, nil, "", 403, "", "", "", "insufficient_scope"},
		{"no token", "GET", "/api/kv/v1/ui/theme", "", nil, "", 401, "", "", "", "invalid_token"},
		{"delete with a stale ETag", "DELETE", "/api/kv/v1/ui/theme", e.rwA, map[string]string{"If-Match": `"1"`}, "", 412, "", "", "", "precondition_failed"},
		{"delete", "DELETE", "/api/kv/v1/ui/theme", e.rwA, map[string]string{"If-Match": `"2"`}, "", 204, "", "", "", ""},
		{"gone", "GET", "/api/kv/v1/ui/theme", e.roA, nil, "", 404, "", "", "", "not_found"},
		{"delete again", "DELETE", "/api/kv/v1/ui/theme", e.rwA, nil, "", 404, "", "", "", "not_found"},
		{"create-only on a free key", "PUT", "/api/kv/v1/ui/theme", e.rwA, map[string]string{"Content-Type": "application/json", "If-None-Match": "*"}, `{}`, 201, `"1"`, "", "", ""},
	}
	for _, s := range steps {
		resp, body := e.do(s.method, s.path, s.token, s.hdr, s.body)
		if resp.StatusCode != s.status {
			t.Fatalf("%s: status %d, want %d: %s", s.name, resp.StatusCode, s.status, body)
		}
		if s.etag != "" && resp.Header.Get("ETag") != s.etag {
			t.Errorf("%s: ETag %q, want %q", s.name, resp.Header.Get("ETag"), s.etag)
		}
		if s.bodyHas != "" && !strings.Contains(body, s.bodyHas) {
			t.Errorf("%s: body %q lacks %q", s.name, body, s.bodyHas)
		}
		if s.bodyHasnt != "" && strings.Contains(body, s.bodyHasnt) {
			t.Errorf("%s: body %q has %q", s.name, body, s.bodyHasnt)
		}
		if s.errCode != "" {
			var eb struct {
				Error struct {
					Status  int    `json:"status"`
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error.Code != s.errCode || eb.Error.Status != s.status || eb.Error.Message == "" {
				t.Errorf("%s: error body %s", s.name, body)
			}
		}
	}
}

func FuzzKVName(f *testing.F) {
	for _, s := range []string{"ui", "rooms/1", "", "\x00", strings.Repeat("k", 600), "ä/ö"} {
		f.Add("ns", s)
	}
	f.Fuzz(func(t *testing.T, ns, key string) {
		err := store.ValidateKVName(ns, key)
		if err == nil && (key == "" || len(key) > store.MaxKVKey || strings.ContainsAny(key, "\x00\n\r")) {
			t.Errorf("accepted %q/%q", ns, key)
		}
	})
}
