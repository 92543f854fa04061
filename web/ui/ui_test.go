package ui_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/live"
)

const password = storetest.Password

// env is a running appliance over a real store with one clinic.
type env struct {
	t     testing.TB
	h     http.Handler
	st    *store.Store
	srv   *httptest.Server
	org   *store.Org
	room  *store.WaitingRoom
	admin *store.User
	doc   *store.User
	front *store.User
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t) // closed after the server and hub below
	e := &env{t: t, st: st}
	e.org = storetest.Org(t, st, "Test Clinic", "test")
	mk := func(email, name, role string) *store.User { return storetest.User(t, st, e.org.ID, email, name, role) }
	e.admin = mk("admin@test.example", "Ada Admin", store.RoleAdmin)
	e.doc = mk("doc@test.example", "Dr. Dora", store.RoleClinician)
	e.front = mk("front@test.example", "Fred Front", store.RoleFrontDesk)
	e.room = &store.WaitingRoom{Name: "General", SlotDuration: 900, Timezone: "Europe/Copenhagen", Active: true}
	must(t, st.CreateWaitingRoom(ctx, e.org.ID, e.room))

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	hctx, cancel := context.WithCancel(ctx)
	go hub.Run(hctx)
	e.h = web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "http://x",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}})
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() {
		hub.Close()
		e.srv.Close()
		cancel()
	})
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// browser is a cookie-keeping client that does not follow redirects, so
// each response can be checked as sent.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	status int
	loc    string
	body   string
}

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) resp {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	must(b.e.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	must(b.e.t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, loc: res.Header.Get("Location"), body: string(raw)}
}

func (b *browser) get(path string) resp { return b.do("GET", path, nil, nil) }
func (b *browser) post(path string, form url.Values) resp {
	return b.do("POST", path, form, nil)
}

// signIn signs in and fails the test unless it worked.
func (b *browser) signIn(email string) *browser {
	b.e.t.Helper()
	r := b.post("/signin", url.Values{"email": {email}, "password": {password}, "next": {"/board"}})
	if r.status != http.StatusSeeOther || r.loc != "/board" {
		b.e.t.Fatalf("sign in %s: status %d location %q", email, r.status, r.loc)
	}
	return b
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantLoc    string
		wantBody   []string
		absent     []string
	}{
		{"success keeps a local next", url.Values{"email": {"doc@test.example"}, "password": {password}, "next": {"/patients?q=a"}},
			303, "/patients?q=a", nil, nil},
		{"success ignores a foreign next", url.Values{"email": {"doc@test.example"}, "password": {password}, "next": {"//evil.example/x"}},
			303, "/board", nil, nil},
		{"backslash next is not local", url.Values{"email": {"doc@test.example"}, "password": {password}, "next": {"/\\evil.example"}},
			303, "/board", nil, nil},
		{"wrong password", url.Values{"email": {"doc@test.example"}, "password": {"nope"}},
			401, "", []string{"Wrong email or password."}, []string{"Set-Cookie"}},
		{"unknown email says the same", url.Values{"email": {"ghost@test.example"}, "password": {"nope"}},
			401, "", []string{"Wrong email or password."}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.browser().post("/signin", tc.form)
			if r.status != tc.wantStatus || r.loc != tc.wantLoc {
				t.Fatalf("status %d location %q, want %d %q", r.status, r.loc, tc.wantStatus, tc.wantLoc)
			}
			for _, s := range tc.wantBody {
				if !strings.Contains(r.body, s) {
					t.Errorf("body lacks %q", s)
				}
			}
		})
	}
}

func TestSignInLockOut(t *testing.T) {
	// Not parallel: the sign-in backoff is a time window, and attempts slowed
	// by tests beside it outlived it (attempt 6 answered 401, not 429).
	e := newEnv(t)
	b := e.browser()
	for i := 0; i < 5; i++ {
		b.post("/signin", url.Values{"email": {"front@test.example"}, "password": {"wrong"}})
	}
	r := b.post("/signin", url.Values{"email": {"front@test.example"}, "password": {password}})
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many failed sign-in attempts") {
		t.Fatalf("locked account: status %d, body %.300s", r.status, r.body)
	}
	if b.get("/board").status != http.StatusSeeOther {
		t.Error("a locked-out sign-in must not start a session")
	}
}

// Guessing across many accounts from one computer is slowed down too, even
// though no single account reaches its lock-out.
func TestSignInSlowDownPerAddress(t *testing.T) {
	// Not parallel: the sign-in backoff is a time window, and attempts slowed
	// by tests beside it outlived it (attempt 6 answered 401, not 429).
	e := newEnv(t)
	b := e.browser()
	for i := range 20 {
		r := b.post("/signin", url.Values{"email": {fmt.Sprintf("guess%d@test.example", i)}, "password": {"wrong"}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d", i, r.status)
		}
	}
	r := b.post("/signin", url.Values{"email": {"front@test.example"}, "password": {password}})
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many failed sign-in attempts") {
		t.Fatalf("after 20 failures: status %d, body %.300s", r.status, r.body)
	}
	if b.get("/board").status != http.StatusSeeOther {
		t.Error("a refused sign-in must not start a session")
	}
}

func TestAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := e.browser()
	r := anon.get("/patients?q=x")
	if r.status != http.StatusSeeOther || r.loc != "/signin?next="+url.QueryEscape("/patients?q=x") {
		t.Errorf("anonymous: status %d location %q", r.status, r.loc)
	}
	front := e.browser().signIn("front@test.example")
	for _, p := range []string{"/admin", "/admin/users", "/admin/audit", "/admin/rooms/new"} {
		if r := front.get(p); r.status != http.StatusForbidden {
			t.Errorf("frontdesk GET %s: %d, want 403", p, r.status)
		}
	}
	if r := front.post("/admin/users/new", url.Values{"email": {"x@y.example"}, "name": {"X"}, "role": {"admin"}}); r.status != http.StatusForbidden {
		t.Errorf("frontdesk POST /admin/users/new: %d", r.status)
	}
	for _, p := range []string{"/board", "/patients", "/appointments", "/patients/new", "/appointments/new"} {
		if r := front.get(p); r.status != http.StatusOK {
			t.Errorf("frontdesk GET %s: %d, want 200", p, r.status)
		}
	}
	if r := front.get("/board"); strings.Contains(r.body, `href="/admin"`) {
		t.Error("the admin link is shown to front desk")
	}
	admin := e.browser().signIn("admin@test.example")
	if r := admin.get("/board"); !strings.Contains(r.body, `href="/admin"`) {
		t.Error("the admin link is missing for an admin")
	}
}

func TestCrossOriginPostRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser().signIn("doc@test.example")
	r := b.do("POST", "/patients/new", url.Values{"firstName": {"Eve"}, "lastName": {"Cross"}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if r.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", r.status)
	}
	list, total, err := e.st.Patients(context.Background(), e.org.ID, store.PatientFilter{})
	must(t, err)
	if total != 0 {
		t.Errorf("cross-site POST stored %d patients: %+v", total, list)
	}
	if r := b.do("POST", "/patients/new", url.Values{"firstName": {"Sam"}, "lastName": {"Site"}}, map[string]string{"Sec-Fetch-Site": "same-origin"}); r.status != http.StatusSeeOther {
		t.Errorf("same-origin POST: %d", r.status)
	}
}

func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b1 := e.browser().signIn("doc@test.example")
	b2 := e.browser().signIn("doc@test.example")
	// The first step only asks; nobody is signed out yet.
	if r := b1.post("/account/signout-all", url.Values{}); r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="confirm-signout-all"`) {
		t.Fatalf("sign out everywhere without confirming: %d", r.status)
	}
	if r := b2.get("/board"); r.status != http.StatusOK {
		t.Fatalf("asking signed the other browser out: %d", r.status)
	}
	if r := b1.post("/account/signout-all", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther || r.loc != "/signin" {
		t.Fatalf("sign out everywhere: %d %q", r.status, r.loc)
	}
	if r := b2.get("/board"); r.status != http.StatusSeeOther {
		t.Errorf("other browser still signed in: %d", r.status)
	}
	b3 := e.browser().signIn("doc@test.example")
	b3.post("/signout", url.Values{})
	if r := b3.get("/board"); r.status != http.StatusSeeOther {
		t.Errorf("signed out browser still in: %d", r.status)
	}
}

var idRE = regexp.MustCompile(`/patients/(\d+)$`)

func TestCreatePatient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser().signIn("front@test.example")
	ctx := context.Background()

	// A bad birth date: the message sits next to the field, nothing stored.
	r := b.post("/patients/new", url.Values{"firstName": {"Anna"}, "lastName": {"Jensen"}, "birthDate": {"2020-13-45"}, "active": {"1"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid patient: %d", r.status)
	}
	if !regexp.MustCompile(`id="f-birthDate"[^>]*aria-invalid="true"`).MatchString(r.body) ||
		!strings.Contains(r.body, `data-testid="error-birthDate">must be a date as YYYY-MM-DD</span>`) {
		t.Errorf("the birth date error is not next to its field:\n%s", r.body)
	}
	if !strings.Contains(r.body, `value="Anna"`) {
		t.Error("the form lost what was typed")
	}
	if _, total, _ := e.st.Patients(ctx, e.org.ID, store.PatientFilter{}); total != 0 {
		t.Fatalf("an invalid patient was stored")
	}
	// No name at all.
	r = b.post("/patients/new", url.Values{"mrn": {"M1"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-lastName"`) {
		t.Errorf("nameless patient: %d", r.status)
	}

	r = b.post("/patients/new", url.Values{"firstName": {"Anna"}, "lastName": {"Jensen"}, "birthDate": {"1980-02-03"},
		"mrn": {"MRN-1"}, "phone": {"+45 1234"}, "email": {"anna@example.com"}, "city": {"Aarhus"}, "active": {"1"}})
	m := idRE.FindStringSubmatch(r.loc)
	if r.status != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %q", r.status, r.loc)
	}
	list, total, err := e.st.Patients(ctx, e.org.ID, store.PatientFilter{})
	must(t, err)
	if total != 1 || list[0].FirstName() != "Anna" || list[0].MRN != "MRN-1" || list[0].BirthDate != "1980-02-03" ||
		list[0].Phone() != "+45 1234" || list[0].Email() != "anna@example.com" || !list[0].Active || list[0].Addresses[0].City != "Aarhus" {
		t.Fatalf("stored patient: %+v", list)
	}
	page := b.get(r.loc)
	for _, s := range []string{"Anna Jensen", "Patient created.", "MRN-1", "No observations recorded for this patient."} {
		if !strings.Contains(page.body, s) {
			t.Errorf("patient page lacks %q", s)
		}
	}
	// Edit keeps what the form does not show and changes what it does.
	r = b.post(r.loc+"/edit", url.Values{"firstName": {"Anne"}, "lastName": {"Jensen"}, "birthDate": {"1980-02-03"}, "mrn": {"MRN-1"}, "email": {"anna@example.com"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.status)
	}
	p, err := e.st.Patient(ctx, e.org.ID, list[0].ID)
	must(t, err)
	if p.FirstName() != "Anne" || p.Phone() != "" || p.Active {
		t.Errorf("edited patient: %+v", p)
	}
}

func TestPatientSearchAndPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		must(t, e.st.CreatePatient(ctx, e.org.ID, &store.Patient{Names: []store.HumanName{{FirstName: "Pat", LastName: "Hansen"}}, MRN: "H" + string(rune('A'+i)), Active: true}))
	}
	must(t, e.st.CreatePatient(ctx, e.org.ID, &store.Patient{Names: []store.HumanName{{FirstName: "Ole", LastName: "Olsen"}}, MRN: "ZZ9", Active: true}))
	b := e.browser().signIn("doc@test.example")

	r := b.get("/patients?q=hansen")
	if n := strings.Count(r.body, `data-testid="patient-row-`); n != 25 {
		t.Errorf("page 1: %d rows, want 25", n)
	}
	if !strings.Contains(r.body, "30 patients") || !strings.Contains(r.body, "Page 1 of 2 (30 in all)") || !strings.Contains(r.body, `href="/patients?page=2&amp;q=hansen"`) {
		t.Errorf("page 1 lacks the total or the next link:\n%s", r.body)
	}
	r = b.get("/patients?q=hansen&page=2")
	if n := strings.Count(r.body, `data-testid="patient-row-`); n != 5 {
		t.Errorf("page 2: %d rows, want 5", n)
	}
	r = b.get("/patients?q=zz9")
	if n := strings.Count(r.body, `data-testid="patient-row-`); n != 1 || !strings.Contains(r.body, "Olsen") {
		t.Errorf("MRN search: %d rows", n)
	}
	r = b.get("/patients?q=nobody")
	if !strings.Contains(r.body, "No patients match your search.") {
		t.Error("no empty state for a search without results")
	}
}

// createAppointment books through the form and returns the new id.
func (e *env) createAppointment(b *browser, patientID int64, at time.Time) int64 {
	e.t.Helper()
	loc := e.room.Location()
	r := b.post("/appointments/new", url.Values{"patient": {itoa(patientID)}, "waitingRoom": {itoa(e.room.ID)},
		"date": {at.In(loc).Format("2006-01-02")}, "time": {at.In(loc).Format("15:04")}, "duration": {"20"},
		"reasons": {"Cough\n\nFever "}, "provider": {itoa(e.doc.ID)}, "confirmWarnings": {"yes"}})
	if r.status != http.StatusSeeOther {
		e.t.Fatalf("create appointment: %d\n%s", r.status, r.body)
	}
	list, _, err := e.st.Appointments(context.Background(), e.org.ID, store.AppointmentFilter{PatientID: patientID})
	must(e.t, err)
	return list[len(list)-1].ID
}

func itoa(n int64) string { return strconvI(n) }

func TestAppointmentOnBoardAndStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	pat := &store.Patient{Names: []store.HumanName{{FirstName: "Bo", LastName: "Berg"}}, Active: true}
	must(t, e.st.CreatePatient(ctx, e.org.ID, pat))
	b := e.browser().signIn("front@test.example")

	// Validation: a bad time and no patient come back next to their fields.
	r := b.post("/appointments/new", url.Values{"waitingRoom": {itoa(e.room.ID)}, "date": {"2025-01-01"}, "time": {"25:99"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-time"`) || !strings.Contains(r.body, `data-testid="error-q">choose a patient</span>`) {
		t.Fatalf("invalid appointment: %d\n%s", r.status, r.body)
	}

	now := time.Now()
	at := now.Truncate(time.Minute)
	if at.In(e.room.Location()).Format("2006-01-02") != now.In(e.room.Location()).Format("2006-01-02") {
		t.Skip("midnight")
	}
	id := e.createAppointment(b, pat.ID, at)
	a, err := e.st.Appointment(ctx, e.org.ID, id)
	must(t, err)
	if a.Duration != 1200 || a.ProviderID != e.doc.ID || strings.Join(a.Reasons, "|") != "Cough|Fever" || !a.Start.Equal(at) {
		t.Fatalf("stored appointment: %+v", a)
	}
	board := b.get("/board")
	card := regexp.MustCompile(`(?s)data-testid="group-\d+-scheduled".*data-testid="card-` + itoa(id) + `"`)
	if !card.MatchString(board.body) || !strings.Contains(board.body, "Bo Berg") || !strings.Contains(board.body, "Cough, Fever") || !strings.Contains(board.body, "Dr. Dora") {
		t.Fatalf("the appointment is not on the board as scheduled:\n%s", board.body)
	}
	frag := b.get("/board?fragment=1")
	if strings.Contains(frag.body, "<html") || !strings.Contains(frag.body, `data-testid="card-`+itoa(id)+`"`) {
		t.Errorf("fragment is not just the board")
	}

	last, err := e.st.LastEventID(ctx)
	must(t, err)
	r = b.post("/appointments/"+itoa(id)+"/status", url.Values{"status": {store.StatusArrived}, "back": {"/board"}})
	if r.status != http.StatusSeeOther || r.loc != "/board#card-"+itoa(id) {
		t.Fatalf("status: %d %q", r.status, r.loc)
	}
	a, _ = e.st.Appointment(ctx, e.org.ID, id)
	if a.Status != store.StatusArrived || a.ArrivedAt.IsZero() {
		t.Errorf("status after action: %q", a.Status)
	}
	evs, err := e.st.EventsAfter(ctx, e.org.ID, last, 10)
	must(t, err)
	if len(evs) != 1 || evs[0].Type != store.EventAppointmentStatus || evs[0].SubjectID != id {
		t.Errorf("events: %+v", evs)
	}
	board = b.get("/board")
	arrived := regexp.MustCompile(`(?s)data-testid="group-\d+-arrived".*data-testid="card-` + itoa(id) + `".*data-testid="group-\d+-progress"`)
	if !arrived.MatchString(board.body) || !strings.Contains(board.body, "Status changed.") {
		t.Error("the card did not move to Arrived")
	}

	// Bad status and foreign "back" change nothing and stay local.
	r = b.post("/appointments/"+itoa(id)+"/status", url.Values{"status": {"teleported"}, "back": {"https://evil.example/"}})
	if r.status != http.StatusSeeOther || r.loc != "/board" {
		t.Errorf("bad status: %d %q", r.status, r.loc)
	}
	if a, _ := e.st.Appointment(ctx, e.org.ID, id); a.Status != store.StatusArrived {
		t.Errorf("bad status changed it to %q", a.Status)
	}
	// Reschedule, then cancel.
	r = b.post("/appointments/"+itoa(id)+"/edit", url.Values{"waitingRoom": {itoa(e.room.ID)}, "date": {"2031-05-06"}, "time": {"09:30"}, "duration": {"45"}, "reasons": {"Rash"}})
	if r.status != http.StatusSeeOther || r.loc != "/board?date=2031-05-06" {
		t.Fatalf("reschedule: %d %q", r.status, r.loc)
	}
	a, _ = e.st.Appointment(ctx, e.org.ID, id)
	if got := a.Start.In(e.room.Location()).Format("2006-01-02 15:04"); got != "2031-05-06 09:30" || a.Duration != 2700 || a.ProviderID != 0 {
		t.Errorf("rescheduled: %s %d %d", got, a.Duration, a.ProviderID)
	}
	if r := b.post("/appointments/"+itoa(id)+"/cancel", url.Values{"back": {"/appointments"}}); r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="confirm-cancel"`) {
		t.Errorf("cancel without confirming: %d", r.status)
	}
	if a, _ := e.st.Appointment(ctx, e.org.ID, id); a.Status != store.StatusArrived {
		t.Errorf("cancel without confirming changed the status to %q", a.Status)
	}
	b.post("/appointments/"+itoa(id)+"/cancel", url.Values{"back": {"/appointments"}, "confirm": {"yes"}})
	if a, _ := e.st.Appointment(ctx, e.org.ID, id); a.Status != store.StatusCancelled {
		t.Errorf("cancel: %q", a.Status)
	}
	if r := b.post("/appointments/99999/status", url.Values{"status": {"arrived"}}); r.status != http.StatusNotFound {
		t.Errorf("unknown appointment: %d", r.status)
	}
	if r := b.get("/appointments?date=2031-05-06"); !strings.Contains(r.body, "Bo Berg") || !strings.Contains(r.body, "09:30") {
		t.Error("day view lacks the appointment")
	}
}

func TestBoardEventsStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	pat := &store.Patient{Names: []store.HumanName{{FirstName: "Li", LastName: "Live"}}}
	must(t, e.st.CreatePatient(ctx, e.org.ID, pat))
	b := e.browser().signIn("doc@test.example")
	req, _ := http.NewRequest("GET", e.srv.URL+"/board/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := b.c.Do(req.WithContext(sctx))
	must(t, err)
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	buf := make([]byte, 64)
	res.Body.Read(buf) // the retry line: subscribed
	time.Sleep(50 * time.Millisecond)
	must(t, e.st.CreateAppointment(ctx, e.org.ID, &store.Appointment{PatientID: pat.ID, WaitingRoomID: e.room.ID}))
	var got strings.Builder
	for !strings.Contains(got.String(), "event: appointment:scheduled") {
		n, err := res.Body.Read(buf)
		if err != nil {
			t.Fatalf("stream ended before the event: %v (%q)", err, got.String())
		}
		got.Write(buf[:n])
	}
	if strings.Contains(got.String(), "patient:created") {
		t.Error("patient events leak into the board stream")
	}
}

// Files that instruments send are listed on the patient page and download
// from it.
func TestPatientPageListsFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	pat := &store.Patient{Names: []store.HumanName{{FirstName: "Ek", LastName: "G"}}}
	must(t, e.st.CreatePatient(ctx, e.org.ID, pat))
	b := e.browser().signIn("doc@test.example")
	if r := b.get("/patients/" + itoa(pat.ID)); !strings.Contains(r.body, "No files for this patient.") {
		t.Fatalf("no empty state for files: %.300s", r.body)
	}
	f := &store.PatientFile{PatientID: pat.ID, Title: "Resting ECG", Filename: "ecg-12-lead.pdf",
		Data: []byte("%PDF-1.4 test"), Source: "instrument-api", SourceRef: "CardioSoft"}
	must(t, e.st.AddPatientFile(ctx, e.org.ID, f))
	r := b.get("/patients/" + itoa(pat.ID))
	for _, want := range []string{`data-testid="file-` + itoa(f.ID) + `"`, `href="/patient-files/` + itoa(f.ID) + `"`,
		"ecg-12-lead.pdf", "Resting ECG", "CardioSoft", "13 bytes"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("patient page lacks %q", want)
		}
	}
	if r := b.get("/patient-files/" + itoa(f.ID)); r.status != http.StatusOK || r.body != "%PDF-1.4 test" {
		t.Fatalf("download: %d %q", r.status, r.body)
	}
}

func TestPatientViewIsAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	pat := &store.Patient{Names: []store.HumanName{{FirstName: "Au", LastName: "Dit"}}}
	must(t, e.st.CreatePatient(ctx, e.org.ID, pat))
	must(t, e.st.AddObservations(ctx, e.org.ID, []store.Observation{{PatientID: pat.ID, Source: "manual", CodeSystem: "LOINC",
		Code: "8867-4", Display: "Heart rate", Value: "72", Unit: "/min", ReferenceRange: "60-100", Flags: "N",
		MeasuredAt: time.Now(), Instrument: "Monitor 1"}}))
	b := e.browser().signIn("doc@test.example")
	r := b.get("/patients/" + itoa(pat.ID))
	for _, s := range []string{"Heart rate", "8867-4", ">72<", "/min", "60-100", "Monitor 1"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("patient page lacks %q", s)
		}
	}
	if r := b.get("/patients/424242"); r.status != http.StatusNotFound {
		t.Errorf("unknown patient: %d", r.status)
	}
	st := storetest.Reopen(t, e.st) // closing flushes the batched audit reads
	rows, err := st.AuditLog(ctx, e.org.ID, store.AuditFilter{PatientID: pat.ID})
	must(t, err)
	found := false
	for _, a := range rows {
		if a.Action == "read" && a.Entity == "patient" && a.EntityID == itoa(pat.ID) && a.UserID == e.doc.ID {
			found = true
		}
	}
	if !found {
		t.Errorf("no read audit row for the patient view: %+v", rows)
	}
}

func TestAdminUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser().signIn("admin@test.example")

	r := b.post("/admin/users/new", url.Values{"email": {"not-an-email"}, "name": {""}, "role": {"clinician"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-email"`) || !strings.Contains(r.body, `data-testid="error-name"`) {
		t.Fatalf("invalid user: %d", r.status)
	}
	r = b.post("/admin/users/new", url.Values{"email": {"nurse@test.example"}, "name": {"Nina Nurse"}, "role": {"clinician"}})
	m := regexp.MustCompile(`data-testid="generated-password">([^<]+)<`).FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("create with generated password: %d", r.status)
	}
	nurse, err := e.st.Authenticate(ctx, "nurse@test.example", m[1])
	if err != nil || nurse.Role != store.RoleClinician || nurse.Name != "Nina Nurse" {
		t.Fatalf("the generated password does not sign in: %v", err)
	}
	if r := b.post("/admin/users/"+itoa(nurse.ID)+"/edit", url.Values{"name": {"Nina N."}, "email": {"nurse@test.example"}, "role": {"frontdesk"}}); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.status)
	}
	u, _ := e.st.User(ctx, e.org.ID, nurse.ID)
	if u.Name != "Nina N." || u.Role != store.RoleFrontDesk || u.Active {
		t.Errorf("edited user: %+v", u)
	}
	if r := b.post("/admin/users/"+itoa(nurse.ID)+"/password", url.Values{"password": {"short"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("short password: %d", r.status)
	}
	if r := b.post("/admin/users/"+itoa(nurse.ID)+"/password", url.Values{"password": {"a brand new password"}}); r.status != http.StatusSeeOther {
		t.Errorf("reset password: %d", r.status)
	}
	if r := b.get("/admin/users"); !strings.Contains(r.body, "Nina N.") || !strings.Contains(r.body, "Front desk") {
		t.Error("users list lacks the edited user")
	}
	r = b.get("/admin/audit")
	if r.status != 200 || !strings.Contains(r.body, "hash chain is intact") || !strings.Contains(r.body, "nurse@test.example") {
		t.Errorf("audit page: %d", r.status)
	}
	// Waiting rooms.
	r = b.post("/admin/rooms/new", url.Values{"name": {"Lab"}, "slotMinutes": {"10"}, "timezone": {"Mars/Olympus"}, "open1": {"09:00"}, "close1": {"08:00"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-timezone"`) || !strings.Contains(r.body, "opening must be HH:MM before closing HH:MM") {
		t.Errorf("invalid room: %d", r.status)
	}
	r = b.post("/admin/rooms/new", url.Values{"name": {"Lab"}, "slotMinutes": {"10"}, "timezone": {"Europe/Copenhagen"}, "open1": {"09:00"}, "close1": {"15:30"}, "active": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create room: %d", r.status)
	}
	lab, err := e.st.WaitingRoomByName(ctx, e.org.ID, "Lab")
	must(t, err)
	if lab.SlotDuration != 600 || len(lab.Hours[time.Monday]) != 1 || lab.Hours[time.Monday][0].Close != "15:30" || len(lab.Hours[time.Tuesday]) != 0 || !lab.Active {
		t.Errorf("stored room: %+v", lab)
	}
}
