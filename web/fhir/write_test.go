package fhir

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

func TestPatientSearch(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	second := &store.Patient{MRN: "MRN-2", Names: []store.HumanName{{FirstName: "Lars", LastName: "Larsen"}}, BirthDate: "1975-06-30", Gender: "male", Active: false}
	must(t, e.st.CreatePatient(ctx, e.orgA.ID, second))
	cases := []struct {
		query string
		want  []string
	}{
		{"identifier=" + SystemCPR + "|0101901234", []string{e.patient.UUID}},
		{"identifier=0101901234", []string{e.patient.UUID}},
		{"identifier=" + SystemMRN + "|MRN-2", []string{second.UUID}},
		{"identifier=" + SystemMRN + "|0101901234", nil},
		{"identifier=MRN-1,MRN-2", []string{e.patient.UUID, second.UUID}},
		{"identifier=0202801234", nil}, // orgB's
		{"name=lar", []string{second.UUID}},
		{"name=karen%20jen", []string{e.patient.UUID}},
		{"birthdate=1990-01-01", []string{e.patient.UUID}},
		{"birthdate=lt1980", []string{second.UUID}},
		{"birthdate=ge1980-01-01&birthdate=le1990", []string{e.patient.UUID}},
		{"gender=male", []string{second.UUID}},
		{"active=false", []string{second.UUID}},
		{"_id=" + second.UUID, []string{second.UUID}},
		{"", []string{e.patient.UUID, second.UUID}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			b := e.get("/fhir/R4/Patient?"+tc.query, e.readA, 200)
			var got []string
			for _, en := range entries(b) {
				got = append(got, str(en, "resource.id"))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if b["total"] != float64(len(tc.want)) {
				t.Errorf("total %v", b["total"])
			}
		})
	}
	// POST _search takes the parameters in the form.
	status, b, raw, _ := e.doForm("/fhir/R4/Patient/_search", e.readA, "identifier=MRN-2")
	valid(t, raw)
	if status != 200 || len(entries(b)) != 1 || str(entries(b)[0], "resource.id") != second.UUID {
		t.Errorf("POST _search: %d %s", status, raw)
	}
}

func TestPatientCreateUpdate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	in := map[string]any{
		"resourceType": "Patient",
		"identifier": []any{
			map[string]any{"system": SystemCPR, "value": "1212121212"},
			map[string]any{"system": SystemMRN, "value": "EHR-77"},
		},
		"name":      []any{map[string]any{"family": "Hansen", "given": []any{"Mette", "Louise"}}},
		"gender":    "female",
		"birthDate": "1980-12-12",
		"telecom":   []any{map[string]any{"system": "email", "value": "mette@example.dk"}},
	}
	status, b, raw, h := e.do("POST", "/fhir/R4/Patient", e.writeA, in)
	if status != 201 {
		t.Fatalf("create: %d %s", status, raw)
	}
	valid(t, raw)
	id := str(b, "id")
	if h.Get("Location") != e.srv.URL+"/fhir/R4/Patient/"+id {
		t.Errorf("Location %q", h.Get("Location"))
	}
	p, err := e.st.PatientBy(context.Background(), e.orgA.ID, store.ByUUID, id)
	must(t, err)
	if p.NationalID != "1212121212" || p.MRN != "EHR-77" || p.LastName() != "Hansen" || p.FirstName() != "Mette" ||
		p.MiddleName() != "Louise" || p.Email() != "mette@example.dk" || !p.Active {
		t.Errorf("stored %+v", p)
	}
	// The same row is what the model shows everywhere: the event is there.
	evs, err := e.st.EventsAfter(context.Background(), e.orgA.ID, 0, 100)
	must(t, err)
	if evs[len(evs)-1].Type != store.EventPatientCreated {
		t.Errorf("last event %s", evs[len(evs)-1].Type)
	}

	in["id"] = id
	in["gender"] = "other"
	in["active"] = false
	status, b, raw, _ = e.do("PUT", "/fhir/R4/Patient/"+id, e.writeA, in)
	if status != 200 || b["gender"] != "other" || b["active"] != false {
		t.Fatalf("update: %d %s", status, raw)
	}
	valid(t, raw)

	bad := []struct {
		name   string
		method string
		path   string
		body   map[string]any
		status int
		field  string
	}{
		{"unknown identifier system", "POST", "/fhir/R4/Patient", map[string]any{"resourceType": "Patient", "identifier": []any{map[string]any{"system": "http://x", "value": "1"}}}, 400, "identifier[0].system"},
		{"bad gender", "POST", "/fhir/R4/Patient", map[string]any{"resourceType": "Patient", "gender": "robot"}, 400, "gender"},
		{"bad birth date", "POST", "/fhir/R4/Patient", map[string]any{"resourceType": "Patient", "birthDate": "12/12/1980"}, 400, "birthDate"},
		{"wrong type", "POST", "/fhir/R4/Patient", map[string]any{"resourceType": "Observation"}, 400, ""},
		{"id on create", "POST", "/fhir/R4/Patient", map[string]any{"resourceType": "Patient", "id": "x"}, 400, ""},
		{"id mismatch", "PUT", "/fhir/R4/Patient/" + id, map[string]any{"resourceType": "Patient", "id": "other"}, 400, ""},
		{"unknown patient", "PUT", "/fhir/R4/Patient/nobody", map[string]any{"resourceType": "Patient", "id": "nobody"}, 404, ""},
		{"other org's patient", "PUT", "/fhir/R4/Patient/" + e.other.UUID, map[string]any{"resourceType": "Patient", "id": e.other.UUID}, 404, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			status, b, raw, _ := e.do(tc.method, tc.path, e.writeA, tc.body)
			if status != tc.status || b["resourceType"] != "OperationOutcome" {
				t.Fatalf("%d %s", status, raw)
			}
			valid(t, raw)
			if tc.field != "" && str(b, "issue.0.expression.0") != tc.field {
				t.Errorf("issue %v", b["issue"])
			}
		})
	}
	// The rejected writes changed nothing.
	p2, err := e.st.PatientBy(context.Background(), e.orgA.ID, store.ByUUID, id)
	must(t, err)
	if p2.Gender != "other" || p2.Active || p2.NationalID != "1212121212" {
		t.Errorf("after rejected writes %+v", p2)
	}
}

func TestObservationCreateUpdate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	in := map[string]any{
		"resourceType":      "Observation",
		"status":            "final",
		"code":              map[string]any{"coding": []any{map[string]any{"system": SystemLOINC, "code": "718-7", "display": "Hemoglobin"}}},
		"subject":           map[string]any{"reference": "Patient/" + e.patient.UUID},
		"device":            map[string]any{"reference": "Device/" + e.device.UUID},
		"effectiveDateTime": "2026-03-01T10:00:00Z",
		"valueQuantity":     map[string]any{"value": 8.50, "unit": "mmol/L", "system": SystemUCUM, "code": "mmol/L"},
	}
	status, b, raw, _ := e.do("POST", "/fhir/R4/Observation", e.writeA, in)
	if status != 201 {
		t.Fatalf("create: %d %s", status, raw)
	}
	valid(t, raw)
	id := str(b, "id")
	if str(b, "device.reference") != "Device/"+e.device.UUID || str(b, "code.coding.0.code") != "718-7" {
		t.Errorf("created %s", raw)
	}
	// A value that is not a number goes in and out as text.
	in["id"] = id
	delete(in, "valueQuantity")
	in["valueString"] = "<0,5"
	in["extension"] = []any{map[string]any{"url": ExtensionUnit, "valueString": "mmol/L"}}
	in["status"] = "corrected"
	status, b, raw, hdr := e.do("PUT", "/fhir/R4/Observation/"+id, e.writeA, in)
	if status != 200 || b["valueString"] != "<0,5" || b["status"] != "corrected" || str(b, "extension.0.valueString") != "mmol/L" {
		t.Fatalf("update: %d %s", status, raw)
	}
	valid(t, raw)
	// A correction is a new version: a new id; the first stays readable,
	// and a search finds only the current version.
	newID := str(b, "id")
	if newID == id || hdr.Get("Location") != e.srv.URL+"/fhir/R4/Observation/"+newID {
		t.Errorf("correction id %s (was %s), Location %s", newID, id, hdr.Get("Location"))
	}
	if old := e.get("/fhir/R4/Observation/"+id, e.readA, 200); str(old, "valueQuantity.code") != "mmol/L" {
		t.Errorf("first version %v", old)
	}
	if b := e.get("/fhir/R4/Observation?patient="+e.patient.UUID, e.readA, 200); len(entries(b)) != 1 || str(entries(b)[0], "resource.id") != newID {
		t.Errorf("search after correction %v", entries(b))
	}
	in["code"] = map[string]any{"coding": []any{map[string]any{"system": SystemLOINC, "code": "2345-7"}}}
	in["id"] = newID
	if status, _, raw, _ := e.do("PUT", "/fhir/R4/Observation/"+newID, e.writeA, in); status != 400 {
		t.Errorf("code change in a correction: %d %s", status, raw)
	}
	bad := []struct {
		name string
		body map[string]any
	}{
		{"no subject", map[string]any{"resourceType": "Observation", "status": "final", "code": in["code"]}},
		{"unknown patient", map[string]any{"resourceType": "Observation", "status": "final", "code": in["code"], "subject": map[string]any{"reference": "Patient/" + e.other.UUID}}},
		{"no code", map[string]any{"resourceType": "Observation", "status": "final", "subject": in["subject"]}},
		{"bad status", map[string]any{"resourceType": "Observation", "status": "done", "code": in["code"], "subject": in["subject"]}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			status, b, raw, _ := e.do("POST", "/fhir/R4/Observation", e.writeA, tc.body)
			if status != 400 || b["resourceType"] != "OperationOutcome" {
				t.Errorf("%d %s", status, raw)
			}
		})
	}
	rows, err := e.st.SearchObservations(context.Background(), e.orgA.ID, store.ObservationSearch{PatientID: e.patient.ID})
	must(t, err)
	if len(rows) != 1 {
		t.Errorf("%d observations stored, want 1", len(rows))
	}
}

func TestAppointmentAndEncounter(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	start := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	in := map[string]any{
		"resourceType": "Appointment",
		"status":       "booked",
		"start":        start.Format(time.RFC3339),
		"end":          start.Add(20 * time.Minute).Format(time.RFC3339),
		"reasonCode":   []any{map[string]any{"text": "Follow-up"}},
		"identifier":   []any{map[string]any{"system": SystemAppointmentID, "value": "EHR-A1"}},
		"participant": []any{
			map[string]any{"actor": map[string]any{"reference": "Patient/" + e.patient.UUID}, "status": "accepted"},
			map[string]any{"actor": map[string]any{"reference": "Location/" + e.room.UUID}, "status": "accepted"},
			map[string]any{"actor": map[string]any{"reference": "Practitioner/" + e.provider.UUID}, "status": "accepted"},
		},
	}
	status, b, raw, _ := e.do("POST", "/fhir/R4/Appointment", e.writeA, in)
	if status != 201 {
		t.Fatalf("create: %d %s", status, raw)
	}
	valid(t, raw)
	id := str(b, "id")
	if b["minutesDuration"] != float64(20) || b["status"] != "booked" || str(b, "participant.2.actor.reference") != "Practitioner/"+e.provider.UUID {
		t.Errorf("created %s", raw)
	}
	enc := e.get("/fhir/R4/Encounter/"+id, e.readA, 200)
	if enc["status"] != "planned" || str(enc, "subject.reference") != "Patient/"+e.patient.UUID || str(enc, "appointment.0.reference") != "Appointment/"+id {
		t.Errorf("encounter %v", enc)
	}
	for _, q := range []string{"patient=" + e.patient.UUID, "date=2026-03-03", "status=booked", "actor=Practitioner/" + e.provider.UUID,
		"actor=Location/" + e.room.UUID, "identifier=EHR-A1", "_id=" + id} {
		b := e.get("/fhir/R4/Appointment?"+q, e.readA, 200)
		if len(entries(b)) != 1 {
			t.Errorf("Appointment?%s: %d entries", q, len(entries(b)))
		}
	}
	for _, q := range []string{"date=2026-03-04", "status=cancelled", "patient=" + e.other.UUID} {
		if b := e.get("/fhir/R4/Appointment?"+q, e.readA, 200); len(entries(b)) != 0 {
			t.Errorf("Appointment?%s matched", q)
		}
	}
	if b := e.get("/fhir/R4/Encounter?subject=Patient/"+e.patient.UUID+"&status=planned", e.readA, 200); len(entries(b)) != 1 {
		t.Errorf("Encounter search: %v", b)
	}
	// Cancel through an update.
	in["id"] = id
	in["status"] = "cancelled"
	status, b, raw, _ = e.do("PUT", "/fhir/R4/Appointment/"+id, e.writeA, in)
	if status != 200 || b["status"] != "cancelled" {
		t.Fatalf("cancel: %d %s", status, raw)
	}
	valid(t, raw)
	if enc := e.get("/fhir/R4/Encounter/"+id, e.readA, 200); enc["status"] != "cancelled" {
		t.Errorf("encounter after cancel %v", enc["status"])
	}
	a, err := e.st.AppointmentBy(context.Background(), e.orgA.ID, store.ApptByUUID, id)
	must(t, err)
	if a.Status != store.StatusCancelled || a.ExternalID != "EHR-A1" || a.Duration != 1200 {
		t.Errorf("stored %+v", a)
	}
	status, _, raw, _ = e.do("POST", "/fhir/R4/Appointment", e.writeA, map[string]any{"resourceType": "Appointment", "status": "booked",
		"participant": []any{map[string]any{"actor": map[string]any{"reference": "Patient/" + e.other.UUID}, "status": "accepted"}}})
	if status != 400 {
		t.Errorf("appointment for another org's patient: %d %s", status, raw)
	}
}

// TestObservationCorrectionKeepsFHIRStatus: a correction keeps the FHIR
// status the client sent, amended included (the store takes it as sent;
// only the point-of-care face limits corrections to HL7 OBX-11 letters),
// and a status FHIR does not have is refused with nothing stored.
func TestObservationCorrectionKeepsFHIRStatus(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	in := map[string]any{
		"resourceType":      "Observation",
		"status":            "final",
		"code":              map[string]any{"coding": []any{map[string]any{"system": SystemLOINC, "code": "718-7"}}},
		"subject":           map[string]any{"reference": "Patient/" + e.patient.UUID},
		"effectiveDateTime": "2026-03-01T10:00:00Z",
		"valueQuantity":     map[string]any{"value": 8.5, "unit": "mmol/L", "system": SystemUCUM, "code": "mmol/L"},
	}
	status, b, raw, _ := e.do("POST", "/fhir/R4/Observation", e.writeA, in)
	if status != 201 {
		t.Fatalf("create: %d %s", status, raw)
	}
	id := str(b, "id")
	in["id"] = id
	for _, tc := range []struct {
		status string
		want   int
	}{{"no-such-status", 400}, {"amended", 200}} {
		in["status"] = tc.status
		status, b, raw, _ := e.do("PUT", "/fhir/R4/Observation/"+id, e.writeA, in)
		if status != tc.want {
			t.Fatalf("correction to %s: %d %s, want %d", tc.status, status, raw, tc.want)
		}
		if status == 200 {
			valid(t, raw)
			if b["status"] != tc.status {
				t.Errorf("correction to %s reads back %v", tc.status, b["status"])
			}
			id = str(b, "id")
			in["id"] = id
		}
	}
}
