package fhir

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	c, secret, err := e.st.CreateOAuthClient(ctx, e.orgA.ID, store.ClientKindFHIR, "ehr", []string{"system/*.read", "kv.read"})
	must(t, err)
	tokenURL := e.srv.URL + "/fhir/R4/auth/token"
	cases := []struct {
		name       string
		basic      bool
		form       url.Values
		ctype      string
		wantStatus int
		wantError  string
		wantScope  string
	}{
		{"post", false, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {secret}}, "", 200, "", "system/*.read kv.read"},
		{"basic", true, url.Values{"grant_type": {"client_credentials"}}, "", 200, "", "system/*.read kv.read"},
		{"narrower scope", true, url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Patient.read"}}, "", 200, "", "system/Patient.read"},
		{"scope not issued", true, url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Patient.write"}}, "", 400, "invalid_scope", ""},
		{"unknown scope", true, url.Values{"grant_type": {"client_credentials"}, "scope": {"launch/patient"}}, "", 400, "invalid_scope", ""},
		{"wrong secret", false, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {"nope"}}, "", 401, "invalid_client", ""},
		{"unknown client", false, url.Values{"grant_type": {"client_credentials"}, "client_id": {"fc_nobody"}, "client_secret": {secret}}, "", 401, "invalid_client", ""},
		{"no credentials", false, url.Values{"grant_type": {"client_credentials"}}, "", 401, "invalid_client", ""},
		{"wrong grant", true, url.Values{"grant_type": {"password"}}, "", 400, "unsupported_grant_type", ""},
		{"no grant", true, url.Values{}, "", 400, "invalid_request", ""},
		{"json body", true, url.Values{"grant_type": {"client_credentials"}}, "application/json", 400, "invalid_request", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(tc.form.Encode()))
			ct := tc.ctype
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			req.Header.Set("Content-Type", ct)
			if tc.basic {
				req.SetBasicAuth(c.ClientID, secret)
			}
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			defer resp.Body.Close()
			var body map[string]any
			decodeJSON(t, resp, &body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.wantStatus, body)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
			if tc.wantError != "" {
				if body["error"] != tc.wantError || body["error_description"] == "" {
					t.Errorf("error %v, want %s", body, tc.wantError)
				}
				return
			}
			if body["token_type"] != "bearer" || body["expires_in"] != float64(300) || body["scope"] != tc.wantScope {
				t.Errorf("token response %v", body)
			}
			if tok, _ := body["access_token"].(string); len(tok) < 40 {
				t.Errorf("access_token %q", tok)
			}
		})
	}
}

func TestTokenScopesAndExpiry(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id := e.patient.UUID
	cases := []struct {
		name   string
		token  string
		path   string
		status int
		code   string
	}{
		{"no token", "", "/fhir/R4/Patient/" + id, 401, "login"},
		{"bad token", "not-a-token", "/fhir/R4/Patient/" + id, 401, "login"},
		{"patient scope reads patients", e.patientRdA, "/fhir/R4/Patient/" + id, 200, ""},
		{"patient scope cannot read observations", e.patientRdA, "/fhir/R4/Observation", 403, "forbidden"},
		{"other organisation's patient is not found", e.readB, "/fhir/R4/Patient/" + id, 404, "not-found"},
		{"metadata is public", "", "/fhir/R4/metadata", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := e.get(tc.path, tc.token, tc.status)
			if tc.code != "" {
				if b["resourceType"] != "OperationOutcome" || str(b, "issue.0.code") != tc.code || str(b, "issue.0.severity") != "error" || str(b, "issue.0.diagnostics") == "" {
					t.Errorf("outcome %v", b)
				}
			}
		})
	}
	// Writing needs a write scope.
	status, b, _, _ := e.do("POST", "/fhir/R4/Patient", e.readA, map[string]any{"resourceType": "Patient"})
	if status != 403 || str(b, "issue.0.code") != "forbidden" {
		t.Errorf("write with read scope: %d %v", status, b)
	}
}

func TestTokenExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := testNow
	st := storetest.Open(t, store.WithClock(func() time.Time { return now }))
	o := &store.Org{Name: "A", Slug: "a"}
	must(t, st.CreateOrg(ctx, o))
	c, secret, err := st.CreateOAuthClient(ctx, o.ID, store.ClientKindFHIR, "x", []string{"system/*.read"})
	must(t, err)
	tok, g, err := st.IssueOAuthToken(ctx, c.ClientID, secret, nil)
	must(t, err)
	if !g.ExpiresAt.Equal(now.Add(5 * time.Minute)) {
		t.Errorf("expires %v", g.ExpiresAt)
	}
	if _, err := st.OAuthGrantByToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	now = now.Add(5*time.Minute + time.Second)
	if _, err := st.OAuthGrantByToken(ctx, tok); err != store.ErrBadClientCredentials {
		t.Errorf("expired token: %v", err)
	}
	now = testNow
	must(t, st.RevokeOAuthClient(ctx, o.ID, c.ClientID))
	if _, err := st.OAuthGrantByToken(ctx, tok); err != store.ErrBadClientCredentials {
		t.Errorf("revoked client's token: %v", err)
	}
	if _, _, err := st.IssueOAuthToken(ctx, c.ClientID, secret, nil); err != store.ErrBadClientCredentials {
		t.Errorf("revoked client got a token: %v", err)
	}
}

func TestSmartConfigurationAndMetadata(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	resp, err := http.Get(e.srv.URL + "/fhir/R4/.well-known/smart-configuration")
	must(t, err)
	var sc map[string]any
	decodeJSON(t, resp, &sc)
	if sc["token_endpoint"] != e.srv.URL+"/fhir/R4/auth/token" {
		t.Errorf("token_endpoint %v", sc["token_endpoint"])
	}
	methods, _ := sc["token_endpoint_auth_methods_supported"].([]any)
	if len(methods) != 2 || methods[0] != "client_secret_basic" || methods[1] != "client_secret_post" {
		t.Errorf("auth methods %v", methods)
	}
	cs := e.get("/fhir/R4/metadata", "", 200)
	if cs["resourceType"] != "CapabilityStatement" || cs["fhirVersion"] != "4.0.1" {
		t.Fatalf("metadata %v", cs)
	}
	// Every served route is in the statement, and nothing else.
	h := New(Deps{Store: e.st})
	want := map[string]bool{}
	for _, rt := range h.Table() {
		if rt.Type != "" {
			want[rt.Type+" "+rt.Interaction] = true
		}
	}
	got := map[string]bool{}
	for _, r := range path(cs, "rest.0.resource").([]any) {
		for _, i := range path(r, "interaction").([]any) {
			got[str(r, "type")+" "+str(i, "code")] = true
		}
		for _, sp := range path(r, "searchParam").([]any) {
			name := str(sp, "name")
			if name == "_id" || name == "_count" || name == "_sort" {
				continue
			}
			found := false
			for _, p := range Params[str(r, "type")].Params {
				found = found || p.Name == name
			}
			if !found {
				t.Errorf("%s search param %s advertised but not in Params", str(r, "type"), name)
			}
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("%s served but not in the CapabilityStatement", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s in the CapabilityStatement but not served", k)
		}
	}
	if str(cs, "rest.0.security.extension.0.extension.0.valueUri") != e.srv.URL+"/fhir/R4/auth/token" {
		t.Errorf("oauth-uris %v", path(cs, "rest.0.security"))
	}
}

func TestPatientRead(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	p := e.get("/fhir/R4/Patient/"+e.patient.UUID, e.readA, 200)
	if p["id"] != e.patient.UUID || p["gender"] != "female" || p["birthDate"] != "1990-01-01" || p["active"] != true {
		t.Errorf("patient %v", p)
	}
	want := map[string]string{SystemCPR: "0101901234", SystemMRN: "MRN-1", SystemHSID: "HS-9", SystemExternalID: "ext-1",
		SystemAccount: "AC-5", SystemSPID: itoa(e.patient.ID)}
	ids := path(p, "identifier").([]any)
	if len(ids) != len(want) {
		t.Errorf("identifiers %v", ids)
	}
	for _, id := range ids {
		if want[str(id, "system")] != str(id, "value") {
			t.Errorf("identifier %v", id)
		}
	}
	if str(p, "name.0.family") != "Jensen" || str(p, "name.0.given.0") != "Karen" || str(p, "name.0.given.1") != "Marie" {
		t.Errorf("name %v", p["name"])
	}
	if str(p, "address.0.city") != "København" || str(p, "telecom.0.use") != "mobile" || str(p, "communication.0.language.coding.0.code") != "da" {
		t.Errorf("address/telecom/language %v %v %v", p["address"], p["telecom"], p["communication"])
	}
	e.get("/fhir/R4/Patient/"+e.other.UUID, e.readA, 404)
	e.get("/fhir/R4/Patient/no-such-id", e.readA, 404)
	e.get("/fhir/R4/Patient/bad$id", e.readA, 404)
	// The read is in the audit log.
	time.Sleep(300 * time.Millisecond)
	entries, err := e.st.AuditLog(context.Background(), e.orgA.ID, store.AuditFilter{PatientID: e.patient.ID})
	must(t, err)
	read := false
	for _, a := range entries {
		read = read || (a.Action == "read" && strings.HasPrefix(a.Actor, "oauth-client:"))
	}
	if !read {
		t.Errorf("no audited read: %v", entries)
	}
}

func itoa(n int64) string { return strconvFormat(n) }

// The README's conformance table is the one the route table generates.
func TestReadmeConformanceTable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	must(t, err)
	table := New(Deps{Store: nil}).ConformanceTable()
	if !strings.Contains(string(readme), table) {
		t.Errorf("README.md's FHIR conformance table is out of date; put this in it:\n%s", table)
	}
}
