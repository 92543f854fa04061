package telehealth

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// FuzzPatientInput: any body either fails to decode or applies to a
// patient without panicking, and a patient the rules accept validates.
func FuzzPatientInput(f *testing.F) {
	f.Add([]byte(specPatient))
	f.Add([]byte(`{"id": "x", "deceased": true, "deceasedAt": "2020-03-31 10:12 AM"}`))
	f.Add([]byte(`{"sharedEmailGroup": null, "isLinkedByEmail": true, "groupType": "", "name": [{}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in patientInput
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
			return
		}
		p := &store.Patient{Active: true}
		if err := in.apply(p); err != nil {
			return
		}
		_ = p.Validate()
		b, err := json.Marshal(toPatientJSON(p))
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if !json.Valid(b) {
			t.Fatal("invalid JSON output")
		}
	})
}

// FuzzAppointmentInput: the appointment body's checks never panic and
// never accept a duration outside [1, 86400].
func FuzzAppointmentInput(f *testing.F) {
	f.Add([]byte(`{"date": 1499441179, "reasons": ["headache"], "duration": 900, "waitingRoom": "my waiting room"}`))
	f.Add([]byte(`{"duration": 0, "status": "cancelled"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in appointmentInput
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
			return
		}
		var v store.Validator
		in.check(&v)
		if in.Duration != nil && (*in.Duration < 1 || *in.Duration > 86400) && v.Err() == nil {
			t.Fatalf("duration %d accepted", *in.Duration)
		}
	})
}
