package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// seedAppointment books a patient with identifiers for an hour from now.
func (e *env) seedAppointment(t *testing.T) (*store.Patient, *store.Appointment) {
	t.Helper()
	ctx := context.Background()
	pat := &store.Patient{MRN: "MRN-1001", NationalID: "010185-1234", BirthDate: "1985-01-01",
		Names:   []store.HumanName{{FirstName: "Søren", LastName: "Sørensen"}},
		Telecom: []store.ContactPoint{{System: "email", Value: "soren@example.dk"}, {System: "phone", Value: "+45 12 34 56 78"}}}
	must(t, e.st.CreatePatient(ctx, e.org.ID, pat))
	a := &store.Appointment{PatientID: pat.ID, WaitingRoomID: e.room.ID, ProviderID: e.doc.ID,
		Start: e.st.Now().Add(time.Hour), Reasons: []string{"Knee pain"}}
	must(t, e.st.CreateAppointment(ctx, e.org.ID, a))
	return pat, a
}

func TestAppointmentPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pat, a := e.seedAppointment(t)
	doc := e.browser().signIn("doc@test.example")
	front := e.browser().signIn("front@test.example")
	path := "/appointments/" + itoa(a.ID)

	r := doc.get(path)
	if r.status != http.StatusOK {
		t.Fatalf("appointment page: %d", r.status)
	}
	for _, want := range []string{"Søren Sørensen", "MRN-1001", "010185-1234", "Knee pain", "Dr. Dora", "General",
		`href="/patients/` + itoa(pat.ID) + `"`, "http://x/visit/" + a.PatientToken, "http://x/visit/" + a.ProviderToken,
		`data-testid="section-video"`, `data-testid="section-visit-note"`, `data-testid="mail-not-configured"`,
		`src="/appointments/` + itoa(a.ID) + `/qr.png"`, `data-testid="breadcrumbs"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("appointment page lacks %q", want)
		}
	}
	// Front desk sends the patient link but never sees the provider's.
	r = front.get(path)
	if r.status != http.StatusOK || strings.Contains(r.body, a.ProviderToken) || !strings.Contains(r.body, a.PatientToken) {
		t.Errorf("front desk view: %d, provider link shown: %v", r.status, strings.Contains(r.body, a.ProviderToken))
	}
	if r := front.get(path + "/open"); r.status != http.StatusForbidden || !strings.Contains(r.body, `data-testid="error-403"`) {
		t.Errorf("front desk opening as provider: %d", r.status)
	}
	if r := doc.get(path + "/open"); r.status != http.StatusSeeOther || r.loc != "/visit/"+a.ProviderToken {
		t.Errorf("open as provider: %d %q", r.status, r.loc)
	}

	// The QR code is a PNG drawn here.
	qr := front.do("GET", path+"/qr.png", nil, nil)
	if qr.status != http.StatusOK || !strings.HasPrefix(qr.body, "\x89PNG") {
		t.Errorf("qr: %d %q", qr.status, qr.body[:min(8, len(qr.body))])
	}

	// The messages carry the link, in the patient's language.
	r = front.get(path + "/send?via=email")
	if r.status != http.StatusOK || !strings.Contains(r.body, "soren@example.dk") || !strings.Contains(r.body, "http://x/visit/"+a.PatientToken) {
		t.Errorf("e-mail text: %d", r.status)
	}
	r = front.get(path + "/send?via=sms")
	if r.status != http.StatusOK || !strings.Contains(r.body, "+45 12 34 56 78") || !strings.Contains(r.body, "http://x/visit/"+a.PatientToken) {
		t.Errorf("SMS text: %d", r.status)
	}
	// Without a mail server, sending says so and sends nothing.
	r = front.post(path+"/send", url.Values{"to": {"soren@example.dk"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, `data-testid="send-error"`) {
		t.Errorf("send without a mail server: %d", r.status)
	}

	// Re-issuing revokes the old link.
	r = front.post(path+"/reissue", url.Values{"role": {"patient"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("reissue: %d", r.status)
	}
	b, _ := e.st.Appointment(context.Background(), e.org.ID, a.ID)
	if b.PatientToken == a.PatientToken || b.ProviderToken != a.ProviderToken {
		t.Errorf("reissue changed the wrong tokens")
	}
	if r := front.get("/visit/" + a.PatientToken); r.status != http.StatusNotFound {
		t.Errorf("old link still works: %d", r.status)
	}
	if r := front.post(path+"/reissue", url.Values{"role": {"provider"}}); r.status != http.StatusForbidden {
		t.Errorf("front desk re-issuing the provider link: %d", r.status)
	}

	// Unknown and foreign ids are the 404 page in the layout.
	if r := doc.get("/appointments/999999"); r.status != http.StatusNotFound || !strings.Contains(r.body, `data-testid="error-404"`) || !strings.Contains(r.body, `href="/board"`) {
		t.Errorf("unknown appointment: %d", r.status)
	}
}

func TestCancelConfirmAndReinstate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, a := e.seedAppointment(t)
	b := e.browser().signIn("front@test.example")
	path := "/appointments/" + itoa(a.ID)
	ctx := context.Background()

	r := b.get(path + "/confirm?action=cancel&back=/board")
	if r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="confirm-cancel"`) || !strings.Contains(r.body, "Søren Sørensen") {
		t.Fatalf("confirm page: %d", r.status)
	}
	r = b.post(path+"/cancel", url.Values{"confirm": {"yes"}, "reason": {"Patient called"}, "back": {"/board"}})
	if r.status != http.StatusSeeOther || r.loc != "/board#card-"+itoa(a.ID) {
		t.Fatalf("cancel: %d %q", r.status, r.loc)
	}
	// Reinstating needs a reason.
	r = b.post(path+"/reinstate", url.Values{"reason": {"  "}})
	if got, _ := e.st.Appointment(ctx, e.org.ID, a.ID); got.Status != store.StatusCancelled {
		t.Fatalf("reinstated without a reason: %q", got.Status)
	}
	r = b.post(path+"/reinstate", url.Values{"reason": {"Booked by mistake"}})
	if r.status != http.StatusSeeOther || r.loc != path {
		t.Fatalf("reinstate: %d %q", r.status, r.loc)
	}
	got, _ := e.st.Appointment(ctx, e.org.ID, a.ID)
	if got.Status != store.StatusScheduled || !got.CancelledAt.IsZero() {
		t.Errorf("after reinstating: %q %v", got.Status, got.CancelledAt)
	}
	hist, err := e.st.AppointmentHistory(ctx, e.org.ID, a.ID)
	must(t, err)
	want := []struct{ from, to, reason, actor string }{
		{"", store.StatusScheduled, "", "system"},
		{store.StatusScheduled, store.StatusCancelled, "Patient called", "Fred Front"},
		{store.StatusCancelled, store.StatusScheduled, "Booked by mistake", "Fred Front"},
	}
	if len(hist) != len(want) {
		t.Fatalf("history: %+v", hist)
	}
	for i, w := range want {
		h := hist[i]
		if h.From != w.from || h.To != w.to || h.Reason != w.reason || h.Actor != w.actor {
			t.Errorf("history[%d] = %+v, want %+v", i, h, w)
		}
	}
	page := b.get(path)
	for _, s := range []string{"Patient called", "Booked by mistake", "Fred Front"} {
		if !strings.Contains(page.body, s) {
			t.Errorf("page history lacks %q", s)
		}
	}
	entries, err := e.st.AuditLog(ctx, e.org.ID, store.AuditFilter{Limit: 50})
	must(t, err)
	found := false
	for _, en := range entries {
		if strings.Contains(en.Detail, "Booked by mistake") {
			found = true
		}
	}
	if !found {
		t.Error("the reinstating reason is not in the audit log")
	}
	// Reinstating a scheduled appointment is refused and changes nothing.
	b.post(path+"/reinstate", url.Values{"reason": {"again"}})
	if h, _ := e.st.AppointmentHistory(ctx, e.org.ID, a.ID); len(h) != 3 {
		t.Errorf("a refused reinstate wrote history: %d rows", len(h))
	}
}
