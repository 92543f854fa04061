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

// TestSchedulingWarnings: each rule warns and books nothing until the
// user confirms; a clean booking goes straight through.
func TestSchedulingWarnings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser().signIn("front@test.example")
	pat := &store.Patient{Names: []store.HumanName{{FirstName: "Ida", LastName: "Holm"}}}
	must(t, e.st.CreatePatient(ctx, e.org.ID, pat))
	loc := e.room.Location()
	// A Wednesday well ahead, inside the room's default hours (08–16).
	day := e.st.Now().In(loc).AddDate(0, 0, 14)
	for day.Weekday() != time.Wednesday {
		day = day.AddDate(0, 0, 1)
	}
	other := &store.Appointment{PatientID: pat.ID, WaitingRoomID: e.room.ID, ProviderID: e.doc.ID,
		Start: time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, loc), Duration: 1800}
	must(t, e.st.CreateAppointment(ctx, e.org.ID, other))
	past := e.st.Now().In(loc).AddDate(0, 0, -2)
	sunday := day
	for sunday.Weekday() != time.Sunday {
		sunday = sunday.AddDate(0, 0, 1)
	}

	tests := []struct {
		name       string
		date, time string
		provider   int64
		want       string // a warning's words; "" = no warning
	}{
		{"in the past", past.Format("2006-01-02"), "10:00", 0, "is in the past"},
		{"outside opening hours", day.Format("2006-01-02"), "18:30", 0, "is not open then"},
		{"room closed that day", sunday.Format("2006-01-02"), "10:00", 0, "closed on Sunday"},
		{"same provider overlaps", day.Format("2006-01-02"), "10:15", e.doc.ID, "already sees Ida Holm"},
		{"another provider is free", day.Format("2006-01-02"), "10:15", e.admin.ID, ""},
		{"after the other visit", day.Format("2006-01-02"), "10:30", e.doc.ID, ""},
	}
	for _, tt := range tests {
		form := url.Values{"patient": {itoa(pat.ID)}, "waitingRoom": {itoa(e.room.ID)}, "date": {tt.date},
			"time": {tt.time}, "duration": {"15"}}
		if tt.provider != 0 {
			form.Set("provider", itoa(tt.provider))
		}
		before := countAppointments(t, e, pat.ID)
		r := b.post("/appointments/new", form)
		if tt.want == "" {
			if r.status != http.StatusSeeOther {
				t.Errorf("%s: %d, want a booking:\n%s", tt.name, r.status, r.body)
			}
			continue
		}
		if r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="schedule-warnings"`) || !strings.Contains(r.body, tt.want) {
			t.Errorf("%s: %d, want the warning %q", tt.name, r.status, tt.want)
			continue
		}
		if n := countAppointments(t, e, pat.ID); n != before {
			t.Errorf("%s: booked before confirming", tt.name)
		}
		form.Set("confirmWarnings", "yes")
		if r := b.post("/appointments/new", form); r.status != http.StatusSeeOther {
			t.Errorf("%s confirmed: %d", tt.name, r.status)
		}
		if n := countAppointments(t, e, pat.ID); n != before+1 {
			t.Errorf("%s: confirming booked %d", tt.name, n-before)
		}
	}
	// Moving an appointment onto the provider's other visit warns too.
	r := b.post("/appointments/"+itoa(other.ID)+"/edit", url.Values{"waitingRoom": {itoa(e.room.ID)},
		"date": {day.Format("2006-01-02")}, "time": {"10:25"}, "duration": {"30"}, "provider": {itoa(e.doc.ID)}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "already sees") {
		t.Errorf("reschedule onto an overlap: %d", r.status)
	}
	if got, _ := e.st.Appointment(ctx, e.org.ID, other.ID); !got.Start.Equal(other.Start) {
		t.Error("the reschedule was saved before confirming")
	}
}

func countAppointments(t *testing.T, e *env, patientID int64) int {
	_, n, err := e.st.Appointments(context.Background(), e.org.ID, store.AppointmentFilter{PatientID: patientID})
	must(t, err)
	return n
}

// TestFieldErrorsAllAtOnce: every bad field is marked beside itself, the
// long reason included.
func TestFieldErrorsAllAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser().signIn("front@test.example")
	pat := &store.Patient{Names: []store.HumanName{{FirstName: "Ida", LastName: "Holm"}}}
	must(t, e.st.CreatePatient(context.Background(), e.org.ID, pat))
	r := b.post("/appointments/new", url.Values{"patient": {itoa(pat.ID)}, "waitingRoom": {itoa(e.room.ID)},
		"date": {"2031-05-07"}, "time": {"10:00"}, "reasons": {"ok\n" + strings.Repeat("x", 501)}, "confirmWarnings": {"yes"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-reasons"`) ||
		!strings.Contains(r.body, "must be at most 500 characters") {
		t.Errorf("long reason: %d, marked: %v", r.status, strings.Contains(r.body, `data-testid="error-reasons"`))
	}
	r = b.post("/appointments/new", url.Values{"patient": {itoa(pat.ID)}, "waitingRoom": {itoa(e.room.ID)},
		"date": {"7/5/2031"}, "time": {"25:99"}, "duration": {"0"}})
	for _, f := range []string{"date", "time", "duration"} {
		if !strings.Contains(r.body, `data-testid="error-`+f+`"`) {
			t.Errorf("field %s is not marked", f)
		}
	}
}

// TestDuplicatePatientRefused: a second patient with an existing MRN or
// national id (CPR with or without its dash) is refused with a link to the
// existing one, on creating and on editing.
func TestDuplicatePatientRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser().signIn("front@test.example")
	first := &store.Patient{MRN: "MRN-77", NationalID: "010203-1234", Names: []store.HumanName{{FirstName: "Anna", LastName: "Berg"}}}
	must(t, e.st.CreatePatient(ctx, e.org.ID, first))
	tests := []struct {
		name, mrn, nid, field string
	}{
		{"same MRN", "MRN-77", "", "mrn"},
		{"same CPR", "", "010203-1234", "nationalId"},
		{"same CPR without dash", "", "0102031234", "nationalId"},
	}
	for _, tt := range tests {
		_, before, _ := e.st.Patients(ctx, e.org.ID, store.PatientFilter{Limit: 10})
		r := b.post("/patients/new", url.Values{"firstName": {"Other"}, "lastName": {"Person"}, "mrn": {tt.mrn}, "nationalId": {tt.nid}, "active": {"on"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="error-`+tt.field+`"`) ||
			!strings.Contains(r.body, `href="/patients/`+itoa(first.ID)+`" data-testid="existing-patient"`) {
			t.Errorf("%s: %d, the field is not marked with a link to the patient", tt.name, r.status)
		}
		if _, after, _ := e.st.Patients(ctx, e.org.ID, store.PatientFilter{Limit: 10}); after != before {
			t.Errorf("%s: a patient was created", tt.name)
		}
	}
	// Editing another patient onto the same MRN is refused too.
	second := &store.Patient{MRN: "MRN-78", Names: []store.HumanName{{FirstName: "Bo", LastName: "Dahl"}}}
	must(t, e.st.CreatePatient(ctx, e.org.ID, second))
	r := b.post("/patients/"+itoa(second.ID)+"/edit", url.Values{"firstName": {"Bo"}, "lastName": {"Dahl"}, "mrn": {"MRN-77"}, "active": {"on"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `data-testid="existing-patient"`) {
		t.Errorf("edit onto a duplicate: %d", r.status)
	}
	if got, _ := e.st.Patient(ctx, e.org.ID, second.ID); got.MRN != "MRN-78" {
		t.Errorf("the duplicate MRN was saved: %q", got.MRN)
	}
	// Saving a patient with their own identifiers is fine.
	if r := b.post("/patients/"+itoa(first.ID)+"/edit", url.Values{"firstName": {"Anna"}, "lastName": {"Berg"}, "mrn": {"MRN-77"}, "nationalId": {"010203-1234"}, "active": {"on"}}); r.status != http.StatusSeeOther {
		t.Errorf("saving a patient unchanged: %d", r.status)
	}
}
