package store_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// boundsErr returns the message the validation error gives field ("" none).
func boundsErr(err error, field string) string {
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		return ""
	}
	return ve.Fields[field]
}

// TestInputBounds: every face reaches the model through these checks, so
// one table covers control characters, lengths and date ranges for all.
func TestInputBounds(t *testing.T) {
	st, clock := newStore(t)
	f := newFixture(t, st, "bounds")
	ctx := context.Background()
	now := clock.Now()
	patient := func(change func(p *store.Patient)) error {
		p := &store.Patient{Active: true, Names: []store.HumanName{{FirstName: "Ada", LastName: "Lovelace"}}}
		change(p)
		return st.CreatePatient(ctx, f.org.ID, p)
	}
	appt := func(start time.Time) error {
		return st.CreateAppointment(ctx, f.org.ID, &store.Appointment{PatientID: f.patient.ID, WaitingRoomID: f.room.ID, Start: start, Duration: 900})
	}
	tests := []struct {
		name  string
		err   error
		field string
		want  string // substring of the field's message; "" = accepted
	}{
		{"NUL in a last name", patient(func(p *store.Patient) { p.Names[0].LastName = "Love\x00lace" }), "lastName", "control characters"},
		{"escape in an MRN", patient(func(p *store.Patient) { p.MRN = "MRN\x1b[31m" }), "mrn", "control characters"},
		{"newline in a first name", patient(func(p *store.Patient) { p.Names[0].FirstName = "A\nB" }), "firstName", "control characters"},
		{"overlong middle name", patient(func(p *store.Patient) { p.Names[0].MiddleName = strings.Repeat("é", 101) }), "middleName", "at most 100 characters"},
		{"100 accented characters are fine", patient(func(p *store.Patient) { p.Names[0].MiddleName = strings.Repeat("é", 100) }), "middleName", ""},
		{"invalid UTF-8", patient(func(p *store.Patient) { p.Names[0].FirstName = "\xff\xfe" }), "firstName", "UTF-8"},
		{"control char in an address", patient(func(p *store.Patient) { p.Addresses = []store.Address{{City: "Ros\x07kilde"}} }), "addresses[0].city", "control"},
		{"date at the int64 limit", appt(time.Unix(math.MaxInt64, 0)), "date", "within 100 years"},
		{"date 101 years ahead", appt(now.AddDate(101, 0, 0)), "date", "within 100 years"},
		{"date 101 years ago", appt(now.AddDate(-101, 0, 0)), "date", "within 100 years"},
		{"date next year", appt(now.AddDate(1, 0, 0)), "date", ""},
		{"tab in a reason is text", st.CreateAppointment(ctx, f.org.ID, &store.Appointment{PatientID: f.patient.ID, WaitingRoomID: f.room.ID,
			Start: now, Duration: 900, Reasons: []string{"a\tb\nc"}}), "reasons[0]", ""},
		{"NUL in a reason", st.CreateAppointment(ctx, f.org.ID, &store.Appointment{PatientID: f.patient.ID, WaitingRoomID: f.room.ID,
			Start: now, Duration: 900, Reasons: []string{"a\x00"}}), "reasons[0]", "control"},
		{"duration over 24 h", st.CreateAppointment(ctx, f.org.ID, &store.Appointment{PatientID: f.patient.ID, WaitingRoomID: f.room.ID,
			Start: now, Duration: 86401}), "duration", "[1, 86400]"},
		{"traversal file name", st.AddPatientFile(ctx, f.org.ID, &store.PatientFile{PatientID: f.patient.ID, Source: "test",
			Filename: "../../etc/passwd", Data: []byte("x")}), "filename", "plain file name"},
		{"NUL in a file name", st.AddPatientFile(ctx, f.org.ID, &store.PatientFile{PatientID: f.patient.ID, Source: "test",
			Filename: "a\x00.pdf", Data: []byte("x")}), "filename", ""},
		{"API observation with a control character", st.AddObservations(ctx, f.org.ID, []store.Observation{{PatientID: f.patient.ID,
			Source: "api", Code: "GLU", Value: "5\x00"}}), "value", "control"},
	}
	for _, tt := range tests {
		got := boundsErr(tt.err, tt.field)
		switch {
		case tt.want == "" && tt.name == "NUL in a file name":
			if tt.err == nil {
				t.Errorf("%s: accepted", tt.name)
			}
		case tt.want == "" && tt.err != nil:
			t.Errorf("%s: refused: %v", tt.name, tt.err)
		case tt.want != "" && !strings.Contains(got, tt.want):
			t.Errorf("%s: %s = %q (err %v), want %q", tt.name, tt.field, got, tt.err, tt.want)
		}
	}
	// An instrument's value from a stored message is evidence: verbatim.
	o := store.Observation{MessageID: 1, Source: "device", Code: "GLU", Value: "5\x00\x1b"}
	if err := o.Validate(); err != nil {
		t.Errorf("a serial value was refused: %v", err)
	}
}
