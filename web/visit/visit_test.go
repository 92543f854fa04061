package visit

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type visitEnv struct {
	st    *store.Store
	srv   *httptest.Server
	clock *storetest.Clock
	appt  *store.Appointment
	orgID int64
}

func newVisitEnv(t *testing.T) *visitEnv {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := storetest.NewClock(start.Add(-time.Hour))
	st := storetest.Open(t, store.WithClock(clock.Now))
	org := storetest.Org(t, st, "Harbour Clinic", "harbour")
	room := &store.WaitingRoom{Name: "Video clinic", SlotDuration: 900, Timezone: "Europe/Copenhagen", Active: true}
	if err := st.CreateWaitingRoom(ctx, org.ID, room); err != nil {
		t.Fatal(err)
	}
	p := &store.Patient{ExternalID: "p1", Names: []store.HumanName{{FirstName: "Ann", LastName: "Lee"}}, BirthDate: "1990-01-02", Active: true}
	if err := st.CreatePatient(ctx, org.ID, p); err != nil {
		t.Fatal(err)
	}
	a := &store.Appointment{PatientID: p.ID, WaitingRoomID: room.ID, Start: start, Duration: 900, Reasons: []string{"headache"}}
	if err := st.CreateAppointment(ctx, org.ID, a); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	httpx.Register(mux, New(Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Routes())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &visitEnv{st: st, srv: srv, clock: clock, appt: a, orgID: org.ID}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *visitEnv) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := noRedirect.Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (e *visitEnv) post(t *testing.T, path string) int {
	t.Helper()
	res, err := noRedirect.Post(e.srv.URL+path, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func (e *visitEnv) status(t *testing.T) string {
	t.Helper()
	a, err := e.st.Appointment(context.Background(), e.orgID, e.appt.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a.Status
}

func mustContain(t *testing.T, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("page does not contain %q", p)
		}
	}
}

func TestPatientCheckIn(t *testing.T) {
	e := newVisitEnv(t)
	pt := "/visit/" + e.appt.PatientToken
	code, body := e.get(t, pt)
	if code != 200 {
		t.Fatalf("patient page: %d", code)
	}
	mustContain(t, body, `data-testid="checkin-button"`, "Harbour Clinic", "Video clinic", "Monday 2 March 2026, 11:00 CET")
	if strings.Contains(body, "Ann") {
		t.Error("the patient page shows the patient's name")
	}
	last, _ := e.st.LastEventID(context.Background())
	if code := e.post(t, pt+"/checkin"); code != http.StatusSeeOther {
		t.Fatalf("check in: %d", code)
	}
	if s := e.status(t); s != store.StatusArrived {
		t.Fatalf("status after check-in = %q", s)
	}
	evs, _ := e.st.EventsAfter(context.Background(), e.orgID, last, 10)
	if len(evs) != 1 || evs[0].Type != store.EventAppointmentStatus || evs[0].SubjectID != e.appt.ID {
		t.Fatalf("events after check-in: %+v", evs)
	}
	log, _ := e.st.AuditLog(context.Background(), e.orgID, store.AuditFilter{})
	if len(log) == 0 || log[0].Actor != "patient-link" || log[0].Action != "update" {
		t.Fatalf("audit after check-in: %+v", log[0])
	}
	code, body = e.get(t, pt)
	if code != 200 {
		t.Fatalf("lobby: %d", code)
	}
	mustContain(t, body, `data-testid="lobby"`, `http-equiv="refresh" content="10"`, "You are checked in")
	// Checking in twice is harmless.
	if code := e.post(t, pt+"/checkin"); code != http.StatusSeeOther {
		t.Fatalf("second check in: %d", code)
	}
	// A patient link cannot start the visit.
	if code := e.post(t, pt+"/start"); code != http.StatusForbidden {
		t.Fatalf("patient start: %d", code)
	}
}

func TestProviderLink(t *testing.T) {
	e := newVisitEnv(t)
	pv := "/visit/" + e.appt.ProviderToken
	code, body := e.get(t, pv)
	if code != 200 {
		t.Fatalf("provider page: %d", code)
	}
	mustContain(t, body, "Ann Lee", "1990-01-02", "headache", `data-testid="start-button"`, "Scheduled")
	if strings.Contains(body, `data-testid="complete-button"`) {
		t.Error("complete offered before start")
	}
	if code := e.post(t, "/visit/"+e.appt.PatientToken+"/complete"); code != http.StatusForbidden {
		t.Fatalf("patient complete: %d", code)
	}
	if code := e.post(t, pv+"/complete"); code != http.StatusConflict {
		t.Fatalf("complete before start: %d", code)
	}
	if code := e.post(t, pv+"/start"); code != http.StatusSeeOther {
		t.Fatalf("start: %d", code)
	}
	if s := e.status(t); s != store.StatusExamProgress {
		t.Fatalf("status after start = %q", s)
	}
	_, body = e.get(t, "/visit/"+e.appt.PatientToken)
	mustContain(t, body, `data-testid="in-visit"`)
	if code := e.post(t, pv+"/complete"); code != http.StatusSeeOther {
		t.Fatalf("complete: %d", code)
	}
	if s := e.status(t); s != store.StatusCompleted {
		t.Fatalf("status after complete = %q", s)
	}
	_, body = e.get(t, "/visit/"+e.appt.PatientToken)
	mustContain(t, body, `data-testid="ended"`)
}

func TestLinkExpiryAndUnknown(t *testing.T) {
	e := newVisitEnv(t)
	end := e.appt.Start.Add(15 * time.Minute)
	e.clock.Set(end.Add(24 * time.Hour)) // the last second a link works
	if code, _ := e.get(t, "/visit/"+e.appt.PatientToken); code != 200 {
		t.Fatalf("24 h after the end: %d", code)
	}
	e.clock.Set(end.Add(24*time.Hour + time.Second))
	for _, tok := range []string{e.appt.PatientToken, e.appt.ProviderToken} {
		code, body := e.get(t, "/visit/"+tok)
		if code != http.StatusGone {
			t.Fatalf("expired link: %d", code)
		}
		mustContain(t, body, "This link has expired", `data-testid="expired"`)
	}
	if code := e.post(t, "/visit/"+e.appt.PatientToken+"/checkin"); code != http.StatusGone {
		t.Fatalf("check in on an expired link: %d", code)
	}
	if s := e.status(t); s != store.StatusScheduled {
		t.Fatalf("expired check-in changed the status to %q", s)
	}
	code, body := e.get(t, "/visit/not-a-real-token")
	if code != http.StatusNotFound {
		t.Fatalf("unknown token: %d", code)
	}
	mustContain(t, body, `data-testid="not-found"`)
}

// TestPatientLanguage: the patient's page follows Accept-Language, and the
// switch (?lang=) wins and is remembered.
func TestPatientLanguage(t *testing.T) {
	e := newVisitEnv(t)
	path := "/visit/" + e.appt.PatientToken
	tests := []struct {
		name, accept, query, cookie string
		want, notWant               []string
	}{
		{"danish browser", "da-DK,da;q=0.9,en;q=0.5", "", "", []string{`lang="da"`, "Jeg er kommet – tjek ind", "Venteværelse"}, []string{"I have arrived"}},
		{"english browser", "en-GB,en;q=0.9", "", "", []string{`lang="en"`, "I have arrived – check in"}, []string{"Jeg er kommet"}},
		{"no header", "", "", "", []string{`lang="en"`}, nil},
		{"switch to english", "da", "?lang=en", "", []string{`lang="en"`, "I have arrived"}, nil},
		{"remembered choice", "en", "", "da", []string{`lang="da"`, "Jeg er kommet"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+path+tt.query, nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Language", tt.accept)
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "lang", Value: tt.cookie})
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			mustContain(t, string(b), tt.want...)
			for _, s := range tt.notWant {
				if strings.Contains(string(b), s) {
					t.Errorf("page contains %q", s)
				}
			}
			if tt.query != "" && !strings.Contains(res.Header.Get("Set-Cookie"), "lang=en") {
				t.Errorf("the switch was not remembered: %q", res.Header.Get("Set-Cookie"))
			}
		})
	}
}
