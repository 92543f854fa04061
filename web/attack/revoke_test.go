package attack

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// TestRevokedCredentialRefusedAtOnce: for every kind of credential, the
// first request sent after the revocation's answer is refused, although
// the credential was just used (and so sits in whatever cache its face
// keeps). No sleeps: "at once" means the very next request.
func TestRevokedCredentialRefusedAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.a
	admin := a.cookies[store.RoleAdmin]
	adminPost := func(path string) func() {
		return func() {
			r := e.do(req{method: "POST", path: path, header: hdr("Cookie", admin, "Content-Type", "application/x-www-form-urlencoded"),
				body: []byte(url.Values{}.Encode())})
			if r.status != http.StatusSeeOther {
				t.Fatalf("POST %s: %d %s", path, r.status, r.body)
			}
		}
	}
	// A monitoring sign-in of its own for each way one ends, so the
	// seeded token keeps working for the other rows.
	type signIn struct{ access, refresh string }
	login := func() signIn {
		r := e.must(e.do(jsonReq("POST", "/api/auth/login", nil, map[string]any{
			"email": a.users[store.RoleClinician].Email, "password": password})), 200, "monitoring login")
		return signIn{r.json()["accessToken"].(string), r.json()["refreshToken"].(string)}
	}
	monitoring := func(s *signIn) func() req {
		return func() req {
			return jsonReq("GET", "/api/patients", hdr("Authorization", "Bearer "+s.access, "X-Organization-ID", a.monOrg), nil)
		}
	}
	out, reused := login(), login()
	oauth := hdr("Authorization", "Bearer "+a.oauthTok)

	tests := []struct {
		name   string
		req    func() req
		revoke func()
	}{
		{"telehealth API key, revoked on the admin page",
			func() req { return jsonReq("GET", "/qapi/v1/patients/ext-alpha", hdr("Api-Key", a.apiKey), nil) },
			adminPost("/admin/integrations/api-keys/" + a.ids["apiKeyID"] + "/revoke")},
		{"POCT token, revoked on the admin page",
			func() req {
				return jsonReq("GET", "/api/poct/v1/encounters/"+a.ids["encounter"], hdr("Authorization", "Bearer "+a.poctTok), nil)
			},
			adminPost("/admin/poct/tokens/" + a.ids["poctTokenID"] + "/revoke")},
		{"instrument client, revoked on the admin page",
			func() req {
				return jsonReq("GET", "/api/v1/instrumentPatients?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", hdr("Authorization", "Bearer "+a.instTok), nil)
			},
			adminPost("/admin/instrument-clients/" + a.ids["instrumentClient"] + "/revoke")},
		{"OAuth2 client (FHIR and key-value share its cached grant), revoked on the admin page",
			func() req { return jsonReq("GET", "/fhir/R4/Patient/"+a.ids["patientUUID"], oauth, nil) },
			adminPost("/admin/integrations/api-clients/" + a.ids["oauthClient"] + "/revoke")},
		{"monitoring sign-in, ended by signing out",
			monitoring(&out),
			func() {
				e.must(e.do(jsonReq("POST", "/api/auth/logout", hdr("Authorization", "Bearer "+out.access), nil)), http.StatusNoContent, "logout")
			}},
		{"monitoring sign-in, ended by a reused refresh token",
			monitoring(&reused),
			func() {
				first := reused.refresh
				r := e.must(e.do(jsonReq("POST", "/api/auth/refresh", nil, map[string]any{"refreshToken": first})), 200, "refresh")
				if got := e.do(monitoring(&reused)()); got.status != http.StatusOK {
					t.Fatalf("the old access token after a refresh: %d %s", got.status, got.body)
				}
				reused.access = r.json()["accessToken"].(string)
				if got := e.do(monitoring(&reused)()); got.status != http.StatusOK {
					t.Fatalf("the new access token: %d %s", got.status, got.body)
				}
				e.must(e.do(jsonReq("POST", "/api/auth/refresh", nil, map[string]any{"refreshToken": first})), http.StatusUnauthorized, "reuse")
			}},
	}
	for _, tt := range tests {
		// Twice: the second is answered from the face's cache, if any.
		for i := range 2 {
			if r := e.do(tt.req()); r.status != http.StatusOK {
				t.Fatalf("%s: before the revocation (%d): %d %s", tt.name, i, r.status, r.body)
			}
		}
		tt.revoke()
		if r := e.do(tt.req()); r.status != http.StatusUnauthorized {
			t.Errorf("%s: the first request after the revocation: %d, want 401 (%s)", tt.name, r.status, r.body)
		}
	}
	// The same OAuth2 token on another face of the shared cache.
	if r := e.do(jsonReq("GET", "/api/kv/v1/"+a.ids["namespace"]+"/"+a.ids["key"], oauth, nil)); r.status != http.StatusUnauthorized {
		t.Errorf("key-value API with the revoked client's token: %d, want 401", r.status)
	}
}
