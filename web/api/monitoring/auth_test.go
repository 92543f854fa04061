package monitoring

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
)

func TestLoginAnswersTokensAndUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := e.do("POST", "/api/auth/login", "", "", `{"email":"clin@alpha.example","password":"wrong password"}`).want(t, 401)
	unknown := e.do("POST", "/api/auth/login", "", "", `{"email":"nobody@alpha.example","password":"wrong password"}`).want(t, 401)
	if bad.errCode() != codeBadCredentials || unknown.errCode() != codeBadCredentials || string(bad.body) != string(unknown.body) {
		t.Fatalf("wrong password and unknown account must answer alike: %s / %s", bad.body, unknown.body)
	}
	e.do("POST", "/api/auth/login", "", "", `{"email":"clin@alpha.example"}`).want(t, 400)
	e.do("POST", "/api/auth/login", "", "", `not json`).want(t, 400)

	j := e.login(e.clinA.Email)
	if j["expiresIn"].(float64) != 900 || j["tokenType"] != "Bearer" || j["refreshToken"] == "" || j["accessToken"] == "" {
		t.Fatalf("token answer: %v", j)
	}
	u := j["user"].(map[string]any)
	if u["id"] != "user_"+e.clinA.UUID || u["email"] != e.clinA.Email || u["role"] != "clinician" || u["organizationId"] != e.hdrA {
		t.Fatalf("user: %v", u)
	}
	if _, ok := j["mfaRequired"]; ok {
		t.Fatal("no MFA for a user without a second factor")
	}
}

func TestAccessTokenExpiresAfter15Minutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.login(e.clinA.Email)["accessToken"].(string)
	e.clk.advance(14*time.Minute + 59*time.Second)
	e.do("GET", "/api/patients", tok, e.hdrA, "").want(t, 200)
	e.clk.advance(2 * time.Second)
	r := e.do("GET", "/api/patients", tok, e.hdrA, "").want(t, 401)
	if r.errCode() != codeTokenExpired {
		t.Fatalf("code %q, want %q", r.errCode(), codeTokenExpired)
	}
	e.do("GET", "/api/patients", tok+"x", e.hdrA, "").want(t, 401)
	e.do("GET", "/api/patients", "", e.hdrA, "").want(t, 401)
}

func TestRefreshRotatesAndReuseRevokesTheFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	j := e.login(e.clinA.Email)
	r1 := j["refreshToken"].(string)
	e.clk.advance(time.Minute)
	n := e.do("POST", "/api/auth/refresh", "", "", `{"refreshToken":"`+r1+`"}`).want(t, 200)
	r2, a2 := n.str("refreshToken"), n.str("accessToken")
	if r2 == r1 || a2 == "" || n.json["expiresIn"].(float64) != 900 {
		t.Fatalf("refresh did not rotate: %s", n.body)
	}
	e.do("GET", "/api/patients", a2, e.hdrA, "").want(t, 200)
	// The first token again: someone holds a copy. The whole family ends.
	reuse := e.do("POST", "/api/auth/refresh", "", "", `{"refreshToken":"`+r1+`"}`).want(t, 401)
	if reuse.errCode() != codeTokenReused {
		t.Fatalf("code %q, want %q", reuse.errCode(), codeTokenReused)
	}
	e.do("POST", "/api/auth/refresh", "", "", `{"refreshToken":"`+r2+`"}`).want(t, 401)
	e.clk.advance(signInTTL + time.Second) // past the sign-in cache
	e.do("GET", "/api/patients", a2, e.hdrA, "").want(t, 401)
	// Another sign-in of the same user is not affected.
	e.do("GET", "/api/patients", e.tokA, e.hdrA, "").want(t, 200)
	e.do("POST", "/api/auth/refresh", "", "", `{"refreshToken":"never issued"}`).want(t, 401)
	e.do("POST", "/api/auth/refresh", "", "", `{}`).want(t, 400)
}

func TestRefreshTokenExpiresAfter7Days(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.login(e.clinA.Email)["refreshToken"].(string)
	e.clk.advance(7*24*time.Hour - time.Minute)
	r2 := e.do("POST", "/api/auth/refresh", "", "", `{"refreshToken":"`+r+`"}`).want(t, 200).str("refreshToken")
	e.clk.advance(7*24*time.Hour + time.Second)
	e.do("POST", "/api/auth/refresh", "", "", `{"refreshToken":"`+r2+`"}`).want(t, 401)
}

func TestLogoutRevokes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	j := e.login(e.clinA.Email)
	tok, ref := j["accessToken"].(string), j["refreshToken"].(string)
	e.do("POST", "/api/auth/logout", "", "", "").want(t, 401)
	e.do("POST", "/api/auth/logout", tok, "", "").want(t, 204)
	e.do("GET", "/api/patients", tok, e.hdrA, "").want(t, 401)
	e.do("POST", "/api/auth/refresh", "", "", `{"refreshToken":"`+ref+`"}`).want(t, 401)
	e.do("GET", "/api/patients", e.tokA, e.hdrA, "").want(t, 200)
}

// enrolTOTP gives u a confirmed second factor and answers its secret and
// recovery codes.
func enrolTOTP(t *testing.T, e *env, u *store.User) (string, []string) {
	t.Helper()
	ctx := context.Background()
	key, err := auth.NewTOTPKey("Clinicbox", u.Email)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.StartTOTPEnrollment(ctx, u.OrgID, u.ID, key.Secret()); err != nil {
		t.Fatal(err)
	}
	code, _ := auth.TOTPCode(key.Secret(), e.clk.now())
	codes := auth.NewRecoveryCodes(10)
	if err := e.st.ConfirmTOTP(ctx, u.OrgID, u.ID, auth.TOTPCheck(code, e.clk.now()), codes); err != nil {
		t.Fatal(err)
	}
	e.clk.advance(30 * time.Second) // the enrolment used this step's code
	return key.Secret(), codes
}

func TestMFAStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	secret, recovery := enrolTOTP(t, e, e.adminA)
	login := func() string {
		r := e.do("POST", "/api/auth/login", "", "", `{"email":"admin@alpha.example","password":"`+password+`"}`).want(t, 200)
		if r.json["mfaRequired"] != true || r.str("mfaToken") == "" || r.str("accessToken") != "" {
			t.Fatalf("login with a second factor must ask for it, not answer tokens: %s", r.body)
		}
		return r.str("mfaToken")
	}
	verify := func(mfa, code string) resp {
		return e.do("POST", "/api/auth/mfa/verify", "", "", `{"mfaToken":"`+mfa+`","code":"`+code+`"}`)
	}
	mfa := login()
	// The MFA token is not an access token.
	e.do("GET", "/api/patients", mfa, e.hdrA, "").want(t, 401)
	if r := verify(mfa, "000000").want(t, 401); r.errCode() != codeBadMFA {
		t.Fatalf("code %q", r.errCode())
	}
	code, _ := auth.TOTPCode(secret, e.clk.now())
	ok := verify(mfa, code).want(t, 200)
	if ok.str("accessToken") == "" || ok.str("refreshToken") == "" {
		t.Fatalf("verify answered no tokens: %s", ok.body)
	}
	e.do("GET", "/api/patients", ok.str("accessToken"), e.hdrA, "").want(t, 200)
	// The same code is never accepted twice, even in a new sign-in.
	verify(login(), code).want(t, 401)
	// A recovery code works once.
	verify(login(), recovery[3]).want(t, 200)
	verify(login(), recovery[3]).want(t, 401)
	// The MFA token expires after 5 minutes.
	late := login()
	e.clk.advance(MFATTL + time.Second)
	code, _ = auth.TOTPCode(secret, e.clk.now())
	if r := verify(late, code).want(t, 401); r.errCode() != codeTokenExpired {
		t.Fatalf("code %q", r.errCode())
	}
	// The next step's code works with a fresh MFA token.
	verify(login(), code).want(t, 200)
}

func TestOrganisationCanRequireAdminMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.st.SetOrgSettings(context.Background(), &store.OrgSettings{OrgID: e.orgA.ID, APIPlan: store.PlanStandard, RequireAdminMFA: true}); err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/api/auth/login", "", "", `{"email":"admin@alpha.example","password":"`+password+`"}`).want(t, 403)
	if r.errCode() != codeMFAEnrol {
		t.Fatalf("code %q", r.errCode())
	}
	e.login(e.clinA.Email) // clinicians are not bound by the admin rule
	enrolTOTP(t, e, e.adminA)
	r = e.do("POST", "/api/auth/login", "", "", `{"email":"admin@alpha.example","password":"`+password+`"}`).want(t, 200)
	if r.json["mfaRequired"] != true {
		t.Fatalf("%s", r.body)
	}
}

func TestOrganisationHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name   string
		org    string
		status int
		code   string
	}{
		{"missing", "", 400, codeMissingOrg},
		{"another organisation", e.hdrB, 403, codeOrgForbidden},
		{"unknown organisation", "org_nonsense", 403, codeOrgForbidden},
		{"own organisation", e.hdrA, 200, ""},
	}
	for _, c := range cases {
		r := e.do("GET", "/api/patients", e.tokA, c.org, "").want(t, c.status)
		if r.errCode() != c.code {
			t.Errorf("%s: code %q, want %q", c.name, r.errCode(), c.code)
		}
	}
}

func TestRateLimitPerOrganisation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The clock stands still: no token comes back during the burst. newEnv
	// spent one request of the minute (creating the patient).
	for i := range StandardPerMinute - 1 {
		r := e.do("GET", "/api/metric-definitions", e.tokA, e.hdrA, "")
		if r.status != 200 {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
		if i == 0 && (r.header.Get("RateLimit-Limit") != "1000" || r.header.Get("RateLimit-Remaining") != "998") {
			t.Fatalf("headers of the first request: %v", r.header)
		}
	}
	r := e.do("GET", "/api/metric-definitions", e.tokA, e.hdrA, "").want(t, 429)
	ra, _ := strconv.Atoi(r.header.Get("Retry-After"))
	if r.errCode() != codeRateLimited || ra < 1 || ra > 60 || r.header.Get("RateLimit-Remaining") != "0" || r.header.Get("RateLimit-Reset") == "" {
		t.Fatalf("429 answer: %v %s", r.header, r.body)
	}
	// Another organisation is not slowed down.
	e.do("GET", "/api/metric-definitions", e.tokB, e.hdrB, "").want(t, 200)
	// A minute refills the bucket at the plan's rate.
	e.clk.advance(time.Duration(ra) * time.Second)
	e.do("GET", "/api/metric-definitions", e.tokA, e.hdrA, "").want(t, 200)
}

func TestLimiterPlans(t *testing.T) {
	t.Parallel()
	var c clock
	c.set(start)
	l := NewMemoryLimiter(c.now)
	for _, plan := range []struct {
		key string
		n   int
	}{{"standard", StandardPerMinute}, {"enterprise", EnterprisePerMinute}} {
		for i := range plan.n {
			if d := l.Allow(plan.key, plan.n); !d.Allowed {
				t.Fatalf("%s: request %d refused", plan.key, i+1)
			}
		}
		d := l.Allow(plan.key, plan.n)
		want := time.Minute / time.Duration(plan.n)
		if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > want+time.Millisecond {
			t.Fatalf("%s: over the limit: %+v, want refusal with retry ≈ %v", plan.key, d, want)
		}
	}
	c.advance(time.Minute)
	if d := l.Allow("standard", StandardPerMinute); !d.Allowed || d.Remaining != StandardPerMinute-1 {
		t.Fatalf("after a minute: %+v", d)
	}
}

func TestPlanFromAdminSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.st.SetOrgSettings(context.Background(), &store.OrgSettings{OrgID: e.orgA.ID, APIPlan: store.PlanEnterprise}); err != nil {
		t.Fatal(err)
	}
	e.clk.advance(6 * time.Second) // past the plan cache
	r := e.do("GET", "/api/metric-definitions", e.tokA, e.hdrA, "").want(t, 200)
	if r.header.Get("RateLimit-Limit") != "10000" {
		t.Fatalf("enterprise limit: %v", r.header)
	}
	if r := e.do("GET", "/api/metric-definitions", e.tokB, e.hdrB, "").want(t, 200); r.header.Get("RateLimit-Limit") != "1000" {
		t.Fatalf("standard limit: %v", r.header)
	}
}

// TestAccountChangesEndSignInsAtOnce: a sign-in the API holds in memory
// stops working with the answer to the change that ends it, not after the
// cache's few seconds: the clock does not move here, so only the store's
// event can drop it.
func TestAccountChangesEndSignInsAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(e *env, u *store.User) error
	}{
		{"deactivated", func(e *env, u *store.User) error {
			u.Active = false
			return e.st.UpdateUser(context.Background(), u.OrgID, u)
		}},
		{"password replaced", func(e *env, u *store.User) error {
			return e.st.SetPassword(context.Background(), u.OrgID, u.ID, "a brand new passphrase")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			j := e.login(e.clinA.Email)
			tok, ref := j["accessToken"].(string), j["refreshToken"].(string)
			e.do("GET", "/api/patients", tok, e.hdrA, "").want(t, 200) // now cached
			u, err := e.st.User(context.Background(), e.orgA.ID, e.clinA.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.change(e, u); err != nil {
				t.Fatal(err)
			}
			e.do("GET", "/api/patients", tok, e.hdrA, "").want(t, 401)
			e.do("POST", "/api/auth/refresh", "", "", `{"refreshToken":"`+ref+`"}`).want(t, 401)
			// Another user's sign-in is not affected.
			e.do("GET", "/api/patients", e.tokB, e.hdrB, "").want(t, 200)
		})
	}
}
