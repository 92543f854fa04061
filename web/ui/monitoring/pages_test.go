package monitoring_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/live"
)

const password = storetest.Password

type env struct {
	t          *testing.T
	st         *store.Store
	srv        *httptest.Server
	now        atomic.Int64
	org, other *store.Org
	admin, doc *store.User
	stranger   *store.User
	patient    *store.Patient
}

func (e *env) clock() time.Time { return time.Unix(0, e.now.Load()).UTC() }

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t}
	e.now.Store(time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC).UnixNano())
	st := storetest.Open(t, store.WithClock(e.clock))
	e.st = st
	e.org, e.other = storetest.Org(t, st, "Clinic", "clinic"), storetest.Org(t, st, "Other", "other")
	e.admin = storetest.User(t, st, e.org.ID, "admin@c.example", "Ada Admin", store.RoleAdmin)
	e.doc = storetest.User(t, st, e.org.ID, "doc@c.example", "Dora Doc", store.RoleClinician)
	e.stranger = storetest.User(t, st, e.other.ID, "doc@o.example", "Otto Other", store.RoleClinician)
	e.patient = &store.Patient{Names: []store.HumanName{{FirstName: "Hanne", LastName: "Holm"}}, Active: true, MRN: "H-1"}
	must(t, st.CreatePatient(ctx, e.org.ID, e.patient))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	hctx, cancel := context.WithCancel(ctx)
	go hub.Run(hctx)
	e.srv = httptest.NewServer(web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "http://x",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}}))
	t.Cleanup(func() { hub.Close(); e.srv.Close(); cancel() })
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type browser struct {
	e *env
	c *http.Client
}

type resp struct {
	status int
	loc    string
	ctype  string
	body   string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values) resp {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	must(b.e.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.e.srv.URL)
	}
	res, err := b.c.Do(req)
	must(b.e.t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, loc: res.Header.Get("Location"), ctype: res.Header.Get("Content-Type"), body: string(raw)}
}

func (b *browser) get(path string) resp                   { return b.do("GET", path, nil) }
func (b *browser) post(path string, form url.Values) resp { return b.do("POST", path, form) }

func (b *browser) signIn(email string) resp {
	return b.post("/signin", url.Values{"email": {email}, "password": {password}, "next": {"/board"}})
}

func (r resp) want(t *testing.T, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (location %q)\n%.2000s", r.status, status, r.loc, r.body)
	}
	return r
}

var secretRE = regexp.MustCompile(`data-testid="totp-secret">([A-Z2-7]+)<`)
var codesRE = regexp.MustCompile(`<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>`)

func TestTOTPEnrolmentAndSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	if r := b.signIn(e.doc.Email).want(t, 303); r.loc != "/board" {
		t.Fatalf("without a factor, sign-in goes straight in: %q", r.loc)
	}
	b.get("/account/security").want(t, 200)
	b.post("/account/security/totp", url.Values{}).want(t, 303)
	page := b.get("/account/security").want(t, 200).body
	m := secretRE.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `src="/account/security/totp/qr.png"`) {
		t.Fatalf("enrolment page shows no key and QR code:\n%s", page)
	}
	secret := m[1]
	if qr := b.get("/account/security/totp/qr.png").want(t, 200); qr.ctype != "image/png" || !strings.HasPrefix(qr.body, "\x89PNG") {
		t.Fatalf("QR code: %s", qr.ctype)
	}
	b.post("/account/security/totp/confirm", url.Values{"code": {"000000"}}).want(t, 400)
	code, _ := auth.TOTPCode(secret, e.clock())
	done := b.post("/account/security/totp/confirm", url.Values{"code": {code}}).want(t, 200).body
	codes := codesRE.FindAllStringSubmatch(done, -1)
	if len(codes) != 10 || !strings.Contains(done, "shown only now") {
		t.Fatalf("recovery codes: %d\n%s", len(codes), done)
	}
	if again := b.get("/account/security").want(t, 200).body; strings.Contains(again, codes[0][1]) || !strings.Contains(again, `data-testid="totp-on"`) {
		t.Fatal("recovery codes shown twice, or the factor is not on")
	}

	// Sign-in now asks for the code.
	b2 := e.browser()
	if r := b2.signIn(e.doc.Email).want(t, 303); r.loc != "/signin/code" {
		t.Fatalf("sign-in with a factor: %q", r.loc)
	}
	b2.get("/board").want(t, 303) // not signed in yet
	b2.get("/signin/code").want(t, 200)
	b2.post("/signin/code", url.Values{"code": {code}}).want(t, 401) // used at enrolment
	e.now.Add(int64(30 * time.Second))
	code, _ = auth.TOTPCode(secret, e.clock())
	if r := b2.post("/signin/code", url.Values{"code": {code}}).want(t, 303); r.loc != "/board" {
		t.Fatalf("after the code: %q", r.loc)
	}
	b2.get("/board").want(t, 200)

	// A recovery code works once.
	b3 := e.browser()
	b3.signIn(e.doc.Email).want(t, 303)
	b3.post("/signin/code", url.Values{"code": {codes[2][1]}}).want(t, 303)
	b4 := e.browser()
	b4.signIn(e.doc.Email).want(t, 303)
	b4.post("/signin/code", url.Values{"code": {codes[2][1]}}).want(t, 401)
	// The pending step expires.
	b5 := e.browser()
	b5.signIn(e.doc.Email).want(t, 303)
	e.now.Add(int64(auth.PendingTTL + time.Second))
	code, _ = auth.TOTPCode(secret, e.clock())
	if r := b5.post("/signin/code", url.Values{"code": {code}}).want(t, 303); r.loc != "/signin" {
		t.Fatalf("expired step: %q", r.loc)
	}
}

func TestOrganisationRequiresAdminSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin.Email).want(t, 303)
	org := b.get("/admin/organisation").want(t, 200).body
	if !strings.Contains(org, "org_"+e.org.UUID) {
		t.Fatal("the organisation page does not show the org_ id")
	}
	b.post("/admin/organisation", url.Values{"plan": {"enterprise"}, "require_admin_mfa": {"on"}}).want(t, 303)
	set, _ := e.st.OrgSettings(context.Background(), e.org.ID)
	if set.APIPlan != store.PlanEnterprise || !set.RequireAdminMFA {
		t.Fatalf("settings: %+v", set)
	}
	b.post("/admin/organisation", url.Values{"plan": {"gold"}}).want(t, 400)

	// A fresh sign-in of the admin may only set up the factor.
	a := e.browser()
	if r := a.signIn(e.admin.Email).want(t, 303); r.loc != auth.EnrolPath {
		t.Fatalf("admin without a factor: %q", r.loc)
	}
	if r := a.get("/board").want(t, 303); r.loc != auth.EnrolPath {
		t.Fatalf("other pages: %q", r.loc)
	}
	if !strings.Contains(a.get("/account/security").want(t, 200).body, `data-testid="must-enrol"`) {
		t.Fatal("no explanation on the security page")
	}
	a.post("/account/security/totp", url.Values{}).want(t, 303)
	secret := secretRE.FindStringSubmatch(a.get("/account/security").body)[1]
	code, _ := auth.TOTPCode(secret, e.clock())
	a.post("/account/security/totp/confirm", url.Values{"code": {code}}).want(t, 200)
	a.get("/board").want(t, 200)
	// The admin cannot drop the factor while the organisation requires it.
	a.post("/account/security/totp/remove", url.Values{}).want(t, 303)
	if sf, _ := e.st.SecondFactorOf(context.Background(), e.admin.ID); !sf.Enrolled {
		t.Fatal("factor removed against the policy")
	}
	// Clinicians are not bound by it.
	if r := e.browser().signIn(e.doc.Email).want(t, 303); r.loc != "/board" {
		t.Fatalf("clinician: %q", r.loc)
	}
}

func TestMonitoringPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn(e.doc.Email).want(t, 303)
	// Enroll from the patient's page.
	r := b.post("/patients/"+itoa(e.patient.ID)+"/enrollments", url.Values{"program": {"RPM"}}).want(t, 303)
	enr := strings.TrimPrefix(r.loc, "/monitoring/enrollments/")
	// The page enrolls from today; these readings are from earlier in the month.
	_, err := e.st.UpdateEnrollment(ctx, e.org.ID, enr, func(en *store.Enrollment) error { en.StartDate = "2026-01-01"; return nil })
	must(t, err)
	add := func(v float64, at time.Time) {
		_, err := e.st.RecordReading(ctx, e.org.ID, &store.Observation{PatientID: e.patient.ID, MetricKey: "bp_systolic", ValueNum: v,
			Unit: "mmHg", Source: store.SourceMonitoringDevice, MeasuredAt: at})
		must(t, err)
	}
	for d := 1; d <= 7; d++ {
		add(150+float64(d)*5, time.Date(2026, 1, 10+d, 8, 0, 0, 0, time.UTC))
	}
	add(190, time.Date(2026, 1, 17, 20, 0, 0, 0, time.UTC)) // with 185 that morning: twice over 180 within 24 h
	page := b.get("/monitoring/enrollments/"+enr).want(t, 200).body
	for _, want := range []string{`data-testid="chart-bp_systolic"`, `class="chart-threshold"`, "&gt; 180", "Home device",
		"9 more days of readings", `data-testid="req-99453"`, `data-timer`, "chart-dot chart-dot-alert"} {
		if !strings.Contains(page, want) {
			t.Errorf("enrollment page lacks %q", want)
		}
	}
	// The two readings over 180 within 24 h raised an alert: on the worklist.
	wl := b.get("/monitoring").want(t, 200).body
	alerts, _ := e.st.Triage(ctx, e.org.ID, 10)
	if len(alerts) != 1 || !strings.Contains(wl, `data-testid="alert-`+alerts[0].UUID+`"`) || !strings.Contains(wl, "Hanne Holm") {
		t.Fatalf("worklist: %d alerts\n%.3000s", len(alerts), wl)
	}
	if frag := b.get("/monitoring?fragment=1").want(t, 200).body; strings.Contains(frag, "<html") || !strings.Contains(frag, alerts[0].UUID) {
		t.Fatal("fragment")
	}
	// Resolving needs a note.
	b.post("/monitoring/alerts/"+alerts[0].UUID+"/resolve", url.Values{"note": {""}}).want(t, 303)
	if open, _ := e.st.Triage(ctx, e.org.ID, 10); len(open) != 1 {
		t.Fatal("resolved without a note")
	}
	b.post("/monitoring/alerts/"+alerts[0].UUID+"/resolve", url.Values{"note": {"Phoned; dose raised"}}).want(t, 303)
	if !strings.Contains(b.get("/monitoring").body, `data-testid="worklist-empty"`) {
		t.Fatal("worklist not empty after resolving")
	}
	// Time log.
	b.post("/monitoring/enrollments/"+enr+"/time", url.Values{"minutes": {"14"}, "interactive": {"on"}, "note": {"call"}}).want(t, 303)
	b.post("/monitoring/enrollments/"+enr+"/time", url.Values{"minutes": {"abc"}}).want(t, 303)
	page = b.get("/monitoring/enrollments/" + enr).body
	if !strings.Contains(page, "6 more minutes") || !strings.Contains(page, `data-testid="time-log"`) {
		t.Fatal("time log or readiness after logging 14 minutes")
	}
	// Billing page and export.
	bill := b.get("/monitoring/billing?month=2026-01").want(t, 200).body
	if !strings.Contains(bill, "Hanne Holm") || !strings.Contains(bill, "export.csv") {
		t.Fatal("billing page")
	}
	csv := b.get("/monitoring/billing/2026-01/export.csv").want(t, 200)
	if !strings.HasPrefix(csv.ctype, "text/csv") || !strings.Contains(csv.body, ",99470,1,") || !strings.Contains(csv.body, ",99445,1,") {
		t.Fatalf("export: %s", csv.body)
	}
	// The patient page shows home readings marked as such.
	if pp := b.get("/patients/"+itoa(e.patient.ID)).want(t, 200).body; !strings.Contains(pp, "Home device") {
		t.Fatal("patient page does not mark home readings")
	}
	// Another organisation's clinician sees none of it.
	o := e.browser()
	o.signIn(e.stranger.Email).want(t, 303)
	o.get("/monitoring/enrollments/"+enr).want(t, 404)
	o.post("/monitoring/enrollments/"+enr+"/time", url.Values{"minutes": {"5"}}).want(t, 404)
	if strings.Contains(o.get("/monitoring/billing?month=2026-01").body, "Hanne") {
		t.Fatal("billing page leaks another organisation's patient")
	}
	o.post("/patients/"+itoa(e.patient.ID)+"/enrollments", url.Values{"program": {"RPM"}}).want(t, 404)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
