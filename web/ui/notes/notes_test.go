package notes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/reports"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/live"
)

const password = storetest.Password

// env is a running appliance over a real store: one clinic with a room
// whose notes start from a template, a patient with an appointment, staff
// of every role and a telehealth API key.
type env struct {
	t       testing.TB
	st      *store.Store
	srv     *httptest.Server
	org     *store.Org
	room    *store.WaitingRoom
	admin   *store.User
	doc     *store.User
	front   *store.User
	patient *store.Patient
	appt    *store.Appointment
	tmpl    *store.VisitNoteTemplate
	apiKey  string
	offline atomic.Bool // the server drops every connection (a lost network)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr(f float64) *float64 { return &f }

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t) // closed after the server and hub below
	e := &env{t: t, st: st}
	e.org = storetest.Org(t, st, "Lægehuset Østerbro", "osterbro")
	mk := func(email, name, role string) *store.User { return storetest.User(t, st, e.org.ID, email, name, role) }
	e.admin = mk("admin@test.example", "Ada Admin", store.RoleAdmin)
	e.doc = mk("doc@test.example", "Dr. Łucja Kovács", store.RoleClinician)
	e.front = mk("front@test.example", "Fred Front", store.RoleFrontDesk)
	e.room = &store.WaitingRoom{Name: "Almen praksis", SlotDuration: 900, Timezone: "Europe/Copenhagen", Active: true}
	must(t, st.CreateWaitingRoom(ctx, e.org.ID, e.room))
	e.tmpl = &store.VisitNoteTemplate{Name: "Almen konsultation", Flow: store.VisitNoteFlow{Sections: []store.VisitNoteSection{
		{Title: "Anamnese", Questions: []store.VisitNoteQuestion{
			{ID: "complaint", Text: "Hovedklage", Type: store.QuestionText, Required: true},
			{ID: "smoker", Text: "Ryger", Type: store.QuestionYesNo},
			{ID: "onset", Text: "Debut", Type: store.QuestionDate},
		}},
		{Title: "Fund", Questions: []store.VisitNoteQuestion{
			{ID: "temp", Text: "Temperatur", Type: store.QuestionNumber, Unit: "°C", Min: ptr(30), Max: ptr(45), Required: true},
			{ID: "side", Text: "Side", Type: store.QuestionChoice, Options: []string{"venstre", "højre"}},
			{ID: "symptoms", Text: "Symptomer", Type: store.QuestionMulti, Options: []string{"feber", "hoste", "åndenød"}},
		}},
	}}}
	must(t, st.CreateVisitNoteTemplate(ctx, e.org.ID, e.tmpl))
	must(t, st.SetWaitingRoomNoteTemplate(ctx, e.org.ID, e.room.ID, e.tmpl.ID))
	e.patient = &store.Patient{Names: []store.HumanName{{FirstName: "Søren", LastName: "Ærø"}}, BirthDate: "1961-04-09", NationalID: "090461-1234", Active: true}
	must(t, st.CreatePatient(ctx, e.org.ID, e.patient))
	e.appt = &store.Appointment{PatientID: e.patient.ID, WaitingRoomID: e.room.ID, ProviderID: e.doc.ID, Start: st.Now().Add(time.Hour).Truncate(time.Minute), Duration: 900}
	must(t, st.CreateAppointment(ctx, e.org.ID, e.appt))
	e.apiKey = storetest.APIKey(t, st, e.org.ID, "EHR")
	// The day's values as an instrument sent them.
	must(t, st.AddObservations(ctx, e.org.ID, []store.Observation{
		{PatientID: e.patient.ID, Source: "serial", CodeSystem: "NPU", Code: "NPU02319", Display: "B-Leukocytter", Value: "10,2", Unit: "10*3/uL",
			ReferenceRange: "3,5-8,8", Flags: "H", Status: "F", MeasuredAt: e.appt.Start.Add(-30 * time.Minute)},
		{PatientID: e.patient.ID, Source: "serial", CodeSystem: "NPU", Code: "NPU19748", Display: "P-CRP", Value: "<0,5", Unit: "mg/L",
			ReferenceRange: "<8", Status: "F", MeasuredAt: e.appt.Start.Add(-20 * time.Minute)},
	}))

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	hctx, cancel := context.WithCancel(ctx)
	go hub.Run(hctx)
	h := web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "http://x", PDFs: reports.PDF{},
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}})
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.offline.Load() {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hub.Close()
		e.srv.Close()
		cancel()
	})
	return e
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

func (e *env) signIn(email string) *browser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if r := b.do("POST", "/signin", url.Values{"email": {email}, "password": {password}, "next": {"/board"}}, nil); r.status != http.StatusSeeOther {
		e.t.Fatalf("sign in %s: %d", email, r.status)
	}
	return b
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
	data, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, loc: res.Header.Get("Location"), ctype: res.Header.Get("Content-Type"), body: string(data)}
}

func (b *browser) get(path string) resp { return b.do("GET", path, nil, nil) }

// flash follows a redirect and returns the page it lands on.
func (b *browser) follow(r resp) resp {
	b.e.t.Helper()
	if r.status != http.StatusSeeOther {
		b.e.t.Fatalf("want a redirect, got %d: %s", r.status, r.body)
	}
	return b.get(r.loc)
}

// api calls the telehealth API as an integration does.
func (e *env) api(method, path, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	must(e.t, err)
	req.Header.Set("Api-Key", e.apiKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

type apiNote struct {
	ID       string `json:"id"`
	Template struct {
		Name string `json:"name"`
	} `json:"template"`
	Comments []struct {
		Message string `json:"message"`
		Author  struct {
			Username string `json:"username"`
		} `json:"author"`
	} `json:"comments"`
	Responses []struct {
		Question []string `json:"question"`
		Response []string `json:"response"`
	} `json:"responses"`
}

// apiAnswers reads the note through the telehealth API: "section/question" → values.
func (e *env) apiAnswers() map[string][]string {
	e.t.Helper()
	status, body := e.api("GET", fmt.Sprintf("/qapi/v1/appointments/%d/visit-note", e.appt.ID), "")
	if status != 200 {
		e.t.Fatalf("API GET visit-note: %d %s", status, body)
	}
	var notes []apiNote
	must(e.t, json.Unmarshal([]byte(body), &notes))
	for _, n := range notes {
		if n.Template.Name == e.tmpl.Name {
			out := map[string][]string{}
			for _, r := range n.Responses {
				out[strings.Join(r.Question, "/")] = r.Response
			}
			return out
		}
	}
	e.t.Fatalf("API lists no note of %q: %s", e.tmpl.Name, body)
	return nil
}

func noteURL(e *env) string { return fmt.Sprintf("/appointments/%d/note", e.appt.ID) }

var jsonHdr = map[string]string{"Accept": "application/json"}

func autosave(b *browser, tmplID int64, answers map[string][]string) (resp, map[string]any) {
	b.e.t.Helper()
	f := url.Values{"template": {fmt.Sprint(tmplID)}}
	for q, v := range answers {
		f.Add("questions", q)
		f["q."+q] = v
	}
	r := b.do("POST", noteURL(b.e), f, jsonHdr)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		b.e.t.Fatalf("autosave answer is not JSON (%d): %s", r.status, r.body)
	}
	return r, out
}

// The page and the telehealth API write the same records: what one writes
// the other reads, in both directions.
func TestNoteOneModelWithTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc := e.signIn(e.doc.Email)

	// Page → API.
	r, out := autosave(doc, e.tmpl.ID, map[string][]string{"complaint": {"Hovedpine og træthed, Łódź"}, "symptoms": {"feber", "åndenød"}})
	if r.status != 200 || out["revision"].(float64) != 1 || len(out["saved"].([]any)) != 2 {
		t.Fatalf("autosave: %d %v", r.status, out)
	}
	got := e.apiAnswers()
	if v := got["Anamnese/Hovedklage"]; len(v) != 1 || v[0] != "Hovedpine og træthed, Łódź" {
		t.Fatalf("API reads page's answer as %q", v)
	}
	if v := got["Fund/Symptomer"]; strings.Join(v, "|") != "feber|åndenød" {
		t.Fatalf("API reads multiple choice as %q", v)
	}

	// API → page.
	status, body := e.api("PUT", fmt.Sprintf("/qapi/v1/appointments/%d/visit-note", e.appt.ID),
		`{"name":"Almen konsultation","questions":[{"id":"temp","value":["38,5"]},{"id":"side","value":["højre"]}]}`)
	if status != 200 {
		t.Fatalf("API PUT: %d %s", status, body)
	}
	page := doc.get(noteURL(e))
	for _, want := range []string{`id="a-temp" name="q.temp" type="text" inputmode="decimal" value="38,5"`, `<option value="højre" selected>`,
		`value="feber" id="a-symptoms-0" checked`, `>Hovedpine og træthed, Łódź</textarea>`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}

	// The API is held to the template too, in its own error shape.
	status, body = e.api("PUT", fmt.Sprintf("/qapi/v1/appointments/%d/visit-note", e.appt.ID),
		`{"name":"Almen konsultation","questions":[{"id":"temp","value":["99"]}]}`)
	if status != 400 || !strings.Contains(body, `"error"`) || !strings.Contains(body, "Temperatur: must be between 30 and 45 °C") {
		t.Fatalf("API out of range: %d %s", status, body)
	}
	if got := e.apiAnswers()["Fund/Temperatur"]; len(got) != 1 || got[0] != "38,5" {
		t.Fatalf("a refused write changed the answer: %q", got)
	}

	// A comment in the page is a comment in the API.
	r = doc.do("POST", noteURL(e)+"/comments", url.Values{"template": {fmt.Sprint(e.tmpl.ID)}, "message": {"Ring i morgen"}}, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("comment: %d", r.status)
	}
	_, body = e.api("GET", fmt.Sprintf("/qapi/v1/appointments/%d/visit-note", e.appt.ID), "")
	if !strings.Contains(body, `"message":"Ring i morgen"`) || !strings.Contains(body, `"username":"doc@test.example"`) {
		t.Fatalf("API lacks the comment: %s", body)
	}
}

func TestNoteAutosaveValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc := e.signIn(e.doc.Email)
	cases := []struct {
		name    string
		answers map[string][]string
		status  int
		errors  map[string]string // question → message part
		saved   []string
	}{
		{"all fine", map[string][]string{"temp": {"37,9"}, "onset": {"2026-02-27"}}, 200, nil, []string{"temp", "onset"}},
		{"out of range keeps the rest", map[string][]string{"temp": {"29"}, "smoker": {"yes"}}, 422,
			map[string]string{"temp": "must be between 30 and 45 °C"}, []string{"smoker"}},
		{"not an option", map[string][]string{"side": {"midt"}}, 422, map[string]string{"side": `"midt" is not one of the options: venstre, højre`}, nil},
		{"not a date", map[string][]string{"onset": {"igår"}}, 422, map[string]string{"onset": "is not a date"}, nil},
		{"unchanged writes nothing", map[string][]string{"temp": {"37,9"}}, 200, nil, nil},
	}
	for _, c := range cases {
		r, out := autosave(doc, e.tmpl.ID, c.answers)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.status, c.status, r.body)
			continue
		}
		errs, _ := out["errors"].(map[string]any)
		for q, msg := range c.errors {
			if s, _ := errs[q].(string); !strings.Contains(s, msg) {
				t.Errorf("%s: error for %s = %q, want %q", c.name, q, s, msg)
			}
		}
		if len(errs) != len(c.errors) {
			t.Errorf("%s: errors %v", c.name, errs)
		}
		var saved []string
		for _, s := range out["saved"].([]any) {
			saved = append(saved, s.(string))
		}
		// The store reports changed answers in no particular order.
		want := slices.Clone(c.saved)
		slices.Sort(saved)
		slices.Sort(want)
		if strings.Join(saved, ",") != strings.Join(want, ",") {
			t.Errorf("%s: saved %v, want %v", c.name, saved, c.saved)
		}
	}
	n, err := e.st.AppointmentNote(context.Background(), e.org.ID, e.appt.ID)
	must(t, err)
	if n.Value("temp") != "37,9" || n.Value("smoker") != "yes" || n.Value("side") != "" {
		t.Fatalf("stored answers: temp %q smoker %q side %q", n.Value("temp"), n.Value("smoker"), n.Value("side"))
	}

	// Without the script: a form post of every question; a bad value comes
	// back on the page with the message next to it, typed value kept.
	f := url.Values{"template": {fmt.Sprint(e.tmpl.ID)}, "questions": {"complaint", "temp", "smoker"},
		"q.complaint": {"Svimmelhed"}, "q.temp": {"hot"}, "q.smoker": {"no"}}
	r := doc.do("POST", noteURL(e), f, nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `&#34;hot&#34; is not a number`) || !strings.Contains(r.body, `value="hot"`) {
		t.Fatalf("form post with a bad number: %d", r.status)
	}
	f.Set("q.temp", "38")
	// complaint and smoker were saved with the refused post; temp is the one left.
	if r := doc.follow(doc.do("POST", noteURL(e), f, nil)); !strings.Contains(r.body, "1 answer saved.") {
		t.Fatalf("form post: %s", r.body)
	}

	// Front desk reads but does not write; another clinic sees nothing.
	front := e.signIn(e.front.Email)
	if r := front.do("POST", noteURL(e), f, jsonHdr); r.status != http.StatusForbidden {
		t.Errorf("front desk writes a note: %d", r.status)
	}
	if r := front.get(noteURL(e)); r.status != 200 || strings.Contains(r.body, `data-testid="note-sign"`) {
		t.Errorf("front desk note page: %d", r.status)
	}
	other := &store.Org{Name: "Other", Slug: "other"}
	must(t, e.st.CreateOrg(context.Background(), other))
	must(t, e.st.CreateUser(context.Background(), other.ID, &store.User{Email: "x@other.example", Name: "X", Role: store.RoleClinician}, password))
	x := e.signIn("x@other.example")
	for _, p := range []string{noteURL(e), fmt.Sprintf("/appointments/%d/summary.pdf", e.appt.ID), fmt.Sprintf("/patients/%d/results.pdf?from=2026-01-01&to=2026-12-31", e.patient.ID)} {
		if r := x.get(p); r.status != 404 {
			t.Errorf("other clinic GET %s: %d", p, r.status)
		}
	}
	if r := x.do("POST", noteURL(e), f, jsonHdr); r.status != 404 {
		t.Errorf("other clinic writes: %d", r.status)
	}
}

func TestSignOffAddendaAndSummary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc := e.signIn(e.doc.Email)
	tid := fmt.Sprint(e.tmpl.ID)
	autosave(doc, e.tmpl.ID, map[string][]string{"complaint": {"Træthed"}})

	// Required questions first; then the revision on screen must be current.
	r := doc.follow(doc.do("POST", noteURL(e)+"/sign", url.Values{"template": {tid}, "revision": {"1"}}, nil))
	if !strings.Contains(r.body, "Answer the required questions before signing. (Temperatur)") {
		t.Fatalf("sign with a required question open: %s", r.body)
	}
	autosave(doc, e.tmpl.ID, map[string][]string{"temp": {"38,2"}})
	r = doc.follow(doc.do("POST", noteURL(e)+"/sign", url.Values{"template": {tid}, "revision": {"1"}}, nil))
	if !strings.Contains(r.body, "The note changed since this page was loaded") {
		t.Fatalf("sign a stale revision: %s", r.body)
	}
	r = doc.follow(doc.do("POST", noteURL(e)+"/sign", url.Values{"template": {tid}, "revision": {"2"}}, nil))
	if !strings.Contains(r.body, "Note signed") || !strings.Contains(r.body, `data-testid="signed-note"`) || !strings.Contains(r.body, "Signed by Dr. Łucja Kovács") {
		t.Fatalf("signed page: %s", r.body)
	}

	// Locked for the page and the API alike.
	if r, _ := autosave(doc, e.tmpl.ID, map[string][]string{"temp": {"39"}}); r.status != http.StatusConflict {
		t.Errorf("autosave after sign-off: %d", r.status)
	}
	status, body := e.api("PUT", fmt.Sprintf("/qapi/v1/appointments/%d/visit-note", e.appt.ID), `{"name":"Almen konsultation","questions":[{"id":"temp","value":["39"]}]}`)
	if status != 409 || !strings.Contains(body, "add an addendum") {
		t.Errorf("API edit after sign-off: %d %s", status, body)
	}

	// The summary printed at sign-off is an attachment the API lists.
	status, body = e.api("GET", fmt.Sprintf("/qapi/v1/appointments/%d/attachments", e.appt.ID), "")
	wantName := fmt.Sprintf("visit-summary-%d-", e.appt.ID)
	if status != 200 || !strings.Contains(body, wantName) || !strings.Contains(body, `"mimeType":"application/pdf"`) {
		t.Fatalf("API attachments: %d %s", status, body)
	}

	// Corrections are addenda, with a reason.
	r = doc.follow(doc.do("POST", noteURL(e)+"/addenda", url.Values{"template": {tid}, "reason": {""}, "body": {"x"}}, nil))
	if !strings.Contains(r.body, "Addendum: is required") {
		t.Fatalf("addendum without reason: %s", r.body)
	}
	r = doc.follow(doc.do("POST", noteURL(e)+"/addenda", url.Values{"template": {tid}, "reason": {"Forkert temperatur"}, "body": {"Temperaturen var 38,4 °C"}}, nil))
	if !strings.Contains(r.body, "Addendum added.") || !strings.Contains(r.body, "Forkert temperatur") || !strings.Contains(r.body, "Temperaturen var 38,4 °C") {
		t.Fatalf("addendum: %s", r.body)
	}

	// The summary at its stable address, as a script with a staff session fetches it.
	front := e.signIn(e.front.Email)
	r = front.get(fmt.Sprintf("/appointments/%d/summary.pdf?lang=da", e.appt.ID))
	if r.status != 200 || r.ctype != "application/pdf" || !strings.HasPrefix(r.body, "%PDF-") {
		t.Fatalf("summary.pdf: %d %s", r.status, r.ctype)
	}
	txt := pdfText(t, []byte(r.body))
	for _, w := range []string{"Lægehuset Østerbro", "Besøgsresumé", "Søren Ærø", "Træthed", "38,2 °C", "Underskrevet af Dr. Łucja Kovács",
		"Forkert temperatur", "Temperaturen var 38,4 °C", "10,2", "10*3/uL", "<0,5", "3,5-8,8", wantName} {
		if !strings.Contains(txt, w) {
			t.Errorf("summary.pdf lacks %q", w)
		}
	}
	if r := (&browser{e: e, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}).
		get(fmt.Sprintf("/appointments/%d/summary.pdf", e.appt.ID)); r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/signin") {
		t.Errorf("summary.pdf without a session: %d %s", r.status, r.loc)
	}

	// Every step is in the audit log (reads are written in batches: wait for them).
	seen := map[string]bool{}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !seen["visit-summary:read"]; time.Sleep(50 * time.Millisecond) {
		entries, err := e.st.AuditLog(context.Background(), e.org.ID, store.AuditFilter{PatientID: e.patient.ID})
		must(t, err)
		for _, a := range entries {
			seen[a.Entity+":"+a.Action] = true
		}
	}
	for _, w := range []string{"visit-note:update", "visit-note:sign", "visit-note:addendum", "attachment:create", "visit-summary:read"} {
		if !seen[w] {
			t.Errorf("audit log lacks %s", w)
		}
	}
}

func TestResultsPDFAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.signIn(e.doc.Email)
	base := fmt.Sprintf("/patients/%d/results.pdf", e.patient.ID)
	day := e.appt.Start.In(e.room.Location()).Format("2006-01-02")
	cases := []struct {
		query  string
		status int
		msg    string
	}{
		{"", 400, "from and to are required, as YYYY-MM-DD"},
		{"?from=2026-01-01", 400, "from and to are required"},
		{"?from=01-01-2026&to=2026-12-31", 400, `from: "01-01-2026" is not a date as YYYY-MM-DD`},
		{"?from=2026-01-01&to=2026-13-01", 400, `to: "2026-13-01" is not a date`},
		{"?from=2026-12-31&to=2026-01-01", 400, "to must not be before from"},
		{"?from=2000-01-01&to=2026-01-01", 400, "at most 3660 days"},
		{"?from=" + day + "&to=" + day, 200, ""},
	}
	for _, c := range cases {
		r := b.get(base + c.query)
		if r.status != c.status || !strings.Contains(r.body, c.msg) {
			t.Errorf("%q: %d %q", c.query, r.status, r.body)
		}
		if c.status == 200 {
			txt := pdfText(t, []byte(r.body))
			for _, w := range []string{"Results report", "Søren Ærø", "B-Leukocytter (NPU NPU02319) · 10*3/uL", "10,2", "<0,5", "3,5-8,8"} {
				if !strings.Contains(txt, w) {
					t.Errorf("results.pdf lacks %q", w)
				}
			}
		}
	}
	if r := b.get("/patients/999999/results.pdf?from=2026-01-01&to=2026-01-02"); r.status != 404 {
		t.Errorf("unknown patient: %d", r.status)
	}
}

func TestTemplateBuilder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.signIn(e.admin.Email)
	form := url.Values{"name": {"Diabeteskontrol"}, "active": {"1"}, "sections": {"1"},
		"s.0.title": {"Måling"}, "s.0.questions": {"1"}, "s.0.order": {"1"},
		"s.0.q.0.text": {"HbA1c"}, "s.0.q.0.type": {"number"}, "s.0.q.0.unit": {"mmol/mol"}, "s.0.q.0.min": {"20"}, "s.0.q.0.max": {"200"},
		"s.0.q.0.required": {"1"}, "s.0.q.0.order": {"1"}}

	// "Add question" returns the form with a blank question; nothing saved.
	add := url.Values{}
	for k, v := range form {
		add[k] = v
	}
	add.Set("action", "add-question:0")
	r := admin.do("POST", "/admin/note-templates/new", add, nil)
	if r.status != 200 || !strings.Contains(r.body, `name="s.0.q.1.text"`) {
		t.Fatalf("add question: %d", r.status)
	}
	// A choice question without options is refused next to its field.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("s.0.questions", "2")
	bad.Set("s.0.q.1.text", "Behandling")
	bad.Set("s.0.q.1.type", "choice")
	bad.Set("action", "save")
	r = admin.do("POST", "/admin/note-templates/new", bad, nil)
	if r.status != 422 || !strings.Contains(r.body, "a choice question needs at least one option") {
		t.Fatalf("choice without options: %d", r.status)
	}
	bad.Set("s.0.q.1.options", "Kost\nTabletter\nInsulin")
	bad.Set("s.0.q.1.order", "0") // moved before HbA1c
	r = admin.do("POST", "/admin/note-templates/new", bad, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	list, err := e.st.AllVisitNoteTemplates(context.Background(), e.org.ID)
	must(t, err)
	var created *store.VisitNoteTemplate
	for i := range list {
		if list[i].Name == "Diabeteskontrol" {
			created = &list[i]
		}
	}
	if created == nil || created.Version != 1 {
		t.Fatalf("template not created: %+v", list)
	}
	qs := created.Flow.Sections[0].Questions
	if len(qs) != 2 || qs[0].Text != "Behandling" || strings.Join(qs[0].Options, "|") != "Kost|Tabletter|Insulin" ||
		qs[1].Unit != "mmol/mol" || *qs[1].Min != 20 || *qs[1].Max != 200 || !qs[1].Required {
		t.Fatalf("created flow: %+v", qs)
	}

	// Editing makes version 2; question ids survive.
	edit := admin.get(fmt.Sprintf("/admin/note-templates/%d/edit", created.ID))
	if !strings.Contains(edit.body, `value="`+qs[1].ID+`"`) {
		t.Fatal("edit form lacks the question ids")
	}
	upd := url.Values{"name": {"Diabeteskontrol"}, "active": {"1"}, "sections": {"1"}, "s.0.title": {"Måling"}, "s.0.questions": {"2"},
		"s.0.q.0.id": {qs[0].ID}, "s.0.q.0.text": {"Behandling"}, "s.0.q.0.type": {"multichoice"}, "s.0.q.0.options": {"Kost\nTabletter\nInsulin\nGLP-1"},
		"s.0.q.1.id": {qs[1].ID}, "s.0.q.1.text": {"HbA1c"}, "s.0.q.1.type": {"number"}, "s.0.q.1.unit": {"mmol/mol"}, "s.0.q.1.max": {"abc"}, "action": {"save"}}
	if r := admin.do("POST", fmt.Sprintf("/admin/note-templates/%d/edit", created.ID), upd, nil); r.status != 422 || !strings.Contains(r.body, "is not a number") {
		t.Fatalf("bad maximum: %d", r.status)
	}
	upd.Set("s.0.q.1.max", "200")
	if r := admin.do("POST", fmt.Sprintf("/admin/note-templates/%d/edit", created.ID), upd, nil); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	now, err := e.st.VisitNoteTemplateByID(context.Background(), e.org.ID, created.ID)
	must(t, err)
	if now.Version != 2 || now.Flow.Sections[0].Questions[1].ID != qs[1].ID || now.Flow.Sections[0].Questions[0].Type != store.QuestionMulti {
		t.Fatalf("edited: v%d %+v", now.Version, now.Flow)
	}

	// Attach it to the room; a new appointment's note starts from it.
	r = admin.do("POST", "/admin/note-templates/rooms", url.Values{fmt.Sprintf("room.%d", e.room.ID): {fmt.Sprint(created.ID)}}, nil)
	if page := admin.follow(r); !strings.Contains(page.body, fmt.Sprintf(`<option value="%d" selected>Diabeteskontrol</option>`, created.ID)) {
		t.Fatalf("room template not shown as chosen")
	}
	appt := &store.Appointment{PatientID: e.patient.ID, WaitingRoomID: e.room.ID, Start: e.appt.Start.Add(time.Hour), Duration: 900}
	must(t, e.st.CreateAppointment(context.Background(), e.org.ID, appt))
	page := admin.get(fmt.Sprintf("/appointments/%d/note", appt.ID))
	if !strings.Contains(page.body, "Diabeteskontrol") || !strings.Contains(page.body, "(version 2)") || !strings.Contains(page.body, "GLP-1") {
		t.Fatalf("new note does not start from the room's template")
	}
	// Clinicians may not build templates.
	if r := e.signIn(e.doc.Email).get("/admin/note-templates"); r.status != http.StatusForbidden {
		t.Errorf("clinician opens the builder: %d", r.status)
	}
}

// pdfText extracts text with pdftotext (skipped without it, except in CI).
func pdfText(t testing.TB, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CLINICBOX_REQUIRE_TOOLS") == "1" {
			t.Fatal("pdftotext (poppler-utils) is required but not installed")
		}
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	in := filepath.Join(t.TempDir(), fmt.Sprintf("doc-%d.pdf", time.Now().UnixNano()))
	must(t, os.WriteFile(in, pdf, 0o600))
	out, err := exec.Command(tool, "-enc", "UTF-8", "-layout", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	return string(bytes.ReplaceAll(out, []byte("\f"), []byte("\n")))
}

// The note framed beside the video call: the provider's page frames it,
// the framed page allows this site (only) to frame it and keeps its forms
// and redirects in the frame.
func TestNoteBesideTheCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc := e.signIn(e.doc.Email)
	a, err := e.st.Appointment(context.Background(), e.org.ID, e.appt.ID)
	must(t, err)
	call := doc.get("/visit/" + a.ProviderToken)
	if call.status != 200 || !strings.Contains(call.body, fmt.Sprintf(`src="/appointments/%d/note?embed=1"`, e.appt.ID)) {
		t.Fatalf("provider page does not frame the note: %d", call.status)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+noteURL(e)+"?embed=1", nil)
	res, err := doc.c.Do(req)
	must(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Frame-Options") != "SAMEORIGIN" || res.Header.Get("Content-Security-Policy") != "frame-ancestors 'self'" {
		t.Fatalf("embedded note: %d %q %q", res.StatusCode, res.Header.Get("X-Frame-Options"), res.Header.Get("Content-Security-Policy"))
	}
	for _, want := range []string{fmt.Sprintf(`action="/appointments/%d/note?embed=1"`, e.appt.ID), fmt.Sprintf(`action="/appointments/%d/note/sign?embed=1"`, e.appt.ID)} {
		if !strings.Contains(string(body), want) {
			t.Errorf("embedded note lacks %s", want)
		}
	}
	if strings.Contains(string(body), `data-testid="nav-board"`) || strings.Contains(string(body), `data-testid="note-observations"`) {
		t.Error("embedded note shows the navigation or the side panel")
	}
	req, _ = http.NewRequest("GET", e.srv.URL+noteURL(e), nil)
	res, err = doc.c.Do(req)
	must(t, err)
	res.Body.Close()
	if res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the note's own page may be framed: %q", res.Header.Get("X-Frame-Options"))
	}
	f := url.Values{"template": {fmt.Sprint(e.tmpl.ID)}, "questions": {"complaint"}, "q.complaint": {"Hoste"}}
	if r := doc.do("POST", noteURL(e)+"?embed=1", f, nil); r.status != http.StatusSeeOther || r.loc != noteURL(e)+"?embed=1" {
		t.Fatalf("save in the frame: %d %q", r.status, r.loc)
	}
}
