package telehealth

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

const geoID = "5c0a9a4e-2b7c-4d7e-9f51-0e7d3c2b1a90"

// specPerfectAnswer is the spec's example request with a configured
// location id ({{loc}}).
const specPerfectAnswer = `{
"firstName": "John",
"lastName": "Doe",
"dob": "2001-01-20",
"locationId": "{{loc}}",
"mrn": "AA-00000001",
"physicianCallbackNumber": "+1-202-555-0150",
"requestingProvider": "Bob Dylan",
"callCenterNotified": "2019-12-03T14:32:12Z",
"physicianNotified": "2019-12-03T14:32:12Z",
"patientLocation": "Patient location",
"consultType": "new",
"reason": "EEG Stat",
"caller": "Caller name"
}`

func TestPerfectAnswer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	loc := &store.Location{Name: "Main campus", GeolocationID: geoID, WaitingRoomID: e.roomA.ID}
	if err := e.st.SaveLocation(ctx, e.orgA.ID, loc); err != nil {
		t.Fatal(err)
	}
	noRoom := &store.Location{Name: "Annex", GeolocationID: "6c0a9a4e-2b7c-4d7e-9f51-0e7d3c2b1a90"}
	if err := e.st.SaveLocation(ctx, e.orgA.ID, noRoom); err != nil {
		t.Fatal(err)
	}
	e.vars["loc"] = geoID
	e.createPatient("A", "known") // no MRN yet
	if _, err := e.st.UpdatePatient(ctx, e.orgA.ID, store.ByExternalID, "known", func(p *store.Patient) error { p.MRN = "AA-2"; return nil }); err != nil {
		t.Fatal(err)
	}
	known, _ := e.st.PatientBy(ctx, e.orgA.ID, store.ByMRN, "AA-2")
	e.vars["knownUUID"] = known.UUID
	with := func(field, value string) string {
		// The spec example with one field replaced (value is raw JSON).
		lines := strings.Split(specPerfectAnswer, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, `"`+field+`":`) {
				lines[i] = `"` + field + `": ` + value + strings.Repeat(",", strings.Count(l, ","))
			}
		}
		return strings.Join(lines, "\n")
	}
	without := func(field string) string {
		var out []string
		for _, l := range strings.Split(specPerfectAnswer, "\n") {
			if !strings.HasPrefix(l, `"`+field+`":`) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	e.run([]scenario{
		{name: "spec example locationId 123", method: "POST", path: "/qapi/v1/perfect-answer", body: with("locationId", `"123"`),
			status: 400, msg: "Bad parameters [locationId: This is not a valid UUID.]"},
		{name: "unknown location", method: "POST", path: "/qapi/v1/perfect-answer", body: with("locationId", `"7c0a9a4e-2b7c-4d7e-9f51-0e7d3c2b1a90"`),
			status: 400, msg: "Bad parameters [locationId: Location not found.]"},
		{name: "location without waiting room", method: "POST", path: "/qapi/v1/perfect-answer", body: with("locationId", `"6c0a9a4e-2b7c-4d7e-9f51-0e7d3c2b1a90"`),
			status: 400, msg: "Bad parameters [locationId: No waiting room is set for this location.]"},
		{name: "missing mrn", method: "POST", path: "/qapi/v1/perfect-answer", body: without("mrn"),
			status: 400, msg: "Bad parameters [mrn: This value should not be blank.]"},
		{name: "empty body", method: "POST", path: "/qapi/v1/perfect-answer", body: `{}`, status: 400,
			msg: "Bad parameters [consultType: This value should not be blank. dob: This value should not be blank. firstName: This value should not be blank. lastName: This value should not be blank. locationId: This value should not be blank. mrn: This value should not be blank. reason: This value should not be blank. requestingProvider: This value should not be blank.]"},
		{name: "bad dob", method: "POST", path: "/qapi/v1/perfect-answer", body: with("dob", `"20/01/2001"`),
			status: 400, msg: "Bad parameters [dob: This value is not a valid date.]"},
		{name: "bad consult type", method: "POST", path: "/qapi/v1/perfect-answer", body: with("consultType", `"old"`),
			status: 400, msg: "Bad parameters [consultType: The value you selected is not a valid choice.]"},
		{name: "bad reason", method: "POST", path: "/qapi/v1/perfect-answer", body: with("reason", `"stroke"`),
			status: 400, msg: "Bad parameters [reason: The value you selected is not a valid choice.]"},
		{name: "bad datetime", method: "POST", path: "/qapi/v1/perfect-answer", body: with("callCenterNotified", `"yesterday"`),
			status: 400, msg: "Bad parameters [callCenterNotified: This value is not a valid datetime.]"},
		{name: "wrong type", method: "POST", path: "/qapi/v1/perfect-answer", body: with("mrn", `12`), status: 400, msg: "mrn"},
		// Limits are the store's, in characters: ø is two bytes.
		{name: "first name of 101 characters", method: "POST", path: "/qapi/v1/perfect-answer", body: with("firstName", `"`+strings.Repeat("ø", 101)+`"`),
			status: 400, msg: "Bad parameters [firstName: This value is too long. It should have 100 characters or less.]"},
		{name: "mrn of 101 characters", method: "POST", path: "/qapi/v1/perfect-answer", body: with("mrn", `"`+strings.Repeat("M", 101)+`"`),
			status: 400, msg: "Bad parameters [mrn: This value is too long. It should have 100 characters or less.]"},
		{name: "caller of 201 characters", method: "POST", path: "/qapi/v1/perfect-answer", body: with("caller", `"`+strings.Repeat("ø", 201)+`"`),
			status: 400, msg: "Bad parameters [caller: This value is too long. It should have 200 characters or less.]"},
		{name: "control character in a name", method: "POST", path: "/qapi/v1/perfect-answer", body: with("lastName", `"Do\u0000e"`),
			status: 400, msg: "Bad parameters [lastName: must not contain control characters.]"},
		{name: "other organisation has no such location", method: "POST", path: "/qapi/v1/perfect-answer", key: "B", body: specPerfectAnswer,
			status: 400, msg: "Bad parameters [locationId: Location not found.]"},

		{name: "spec example creates patient and visit", method: "POST", path: "/qapi/v1/perfect-answer", body: specPerfectAnswer,
			status: 201, want: map[string]any{"patientId": "<uuid>", "encounterId": "<uuid>"},
			events:  []string{store.EventPatientCreated, store.EventAppointmentScheduled, store.EventVisitNoteUpdated},
			capture: map[string]string{"p1": "patientId", "enc1": "encounterId"}},
		{name: "second within 24 hours is rejected", method: "POST", path: "/qapi/v1/perfect-answer", body: with("firstName", `"Johnny"`),
			status: 409, msg: "A visit has already been created for the patient within 24 hours"},
		// Both names at the limit: the full name they would make is longer
		// than a name part may be, and is left out rather than refused.
		{name: "names of 100 characters each", method: "POST", path: "/qapi/v1/perfect-answer",
			body: strings.NewReplacer(`"John"`, `"`+strings.Repeat("ø", 100)+`"`, `"Doe"`, `"`+strings.Repeat("å", 100)+`"`,
				`"AA-00000001"`, `"AA-3"`).Replace(specPerfectAnswer),
			status: 201, want: map[string]any{"patientId": "<uuid>", "encounterId": "<uuid>"}},
		{name: "known MRN updates the patient", method: "POST", path: "/qapi/v1/perfect-answer", body: with("mrn", `"AA-2"`),
			status: 201, want: map[string]any{"patientId": "{{knownUUID}}", "encounterId": "<uuid>"},
			events: []string{store.EventPatientUpdated, store.EventAppointmentScheduled}, capture: map[string]string{"enc2": "encounterId"}},
	})
	// The rejected request changed nothing: the name is still John.
	p, err := e.st.PatientBy(ctx, e.orgA.ID, store.ByMRN, "AA-00000001")
	if err != nil || p.FirstName() != "John" || p.LastName() != "Doe" || p.BirthDate != "2001-01-20" || p.UUID != e.vars["p1"] {
		t.Fatalf("patient after perfect answer: %+v %v", p, err)
	}
	if long, err := e.st.PatientBy(ctx, e.orgA.ID, store.ByMRN, "AA-3"); err != nil ||
		long.FirstName() != strings.Repeat("ø", 100) || long.LastName() != strings.Repeat("å", 100) {
		t.Errorf("patient with long names: %+v %v", long, err)
	}
	k, _ := e.st.PatientBy(ctx, e.orgA.ID, store.ByMRN, "AA-2")
	if k.FirstName() != "John" || k.BirthDate != "2001-01-20" || k.ExternalID != "known" {
		t.Errorf("known patient not updated: %+v", k)
	}
	a, err := e.st.AppointmentBy(ctx, e.orgA.ID, store.ApptByUUID, e.vars["enc1"])
	if err != nil || a.WaitingRoomID != e.roomA.ID || a.PatientID != p.ID || !slices.Equal(a.Reasons, []string{"EEG Stat"}) {
		t.Fatalf("appointment: %+v %v", a, err)
	}
	notes, err := e.st.VisitNotes(ctx, e.orgA.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for _, n := range notes {
		for _, r := range n.Responses {
			answers[n.Template.Name+"/"+r.Question] = strings.Join(r.Value, "|")
		}
	}
	want := map[string]string{
		templateNeurology + "/Consult type":              "new",
		templateNeurology + "/Reason":                    "EEG Stat",
		templateNeurology + "/Requesting provider":       "Bob Dylan",
		templateNeurology + "/Physician callback number": "+1-202-555-0150",
		templateNeurology + "/Call center notified":      "2019-12-03T14:32:12Z",
		templateNeurology + "/Physician notified":        "2019-12-03T14:32:12Z",
		templateNeurology + "/Patient location":          "Patient location",
		templateNeurology + "/Caller":                    "Caller name",
		templateEEG + "/Urgency":                         "EEG Stat",
	}
	for q, v := range want {
		if answers[q] != v {
			t.Errorf("%s = %q, want %q", q, answers[q], v)
		}
	}
	if len(answers) != len(want) {
		t.Errorf("answers %v", answers)
	}
}

// Identical requests that arrive together make one visit: the 24-hour check
// and the visit it allows are one transaction.
func TestPerfectAnswerConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	if err := e.st.SaveLocation(ctx, e.orgA.ID, &store.Location{Name: "Main campus", GeolocationID: geoID, WaitingRoomID: e.roomA.ID}); err != nil {
		t.Fatal(err)
	}
	body := []byte(strings.Replace(specPerfectAnswer, "{{loc}}", geoID, 1))
	if !strings.Contains(string(body), geoID) {
		t.Fatal("the spec example has no locationId line to replace")
	}
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			status, _, _ := e.do("POST", "/qapi/v1/perfect-answer", e.keyA, "application/json", body)
			codes <- status
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Fatalf("status counts %v, want one 201 and %d 409", count, n-1)
	}
	rows, total, err := e.st.Appointments(ctx, e.orgA.ID, store.AppointmentFilter{})
	if err != nil || total != 1 {
		t.Fatalf("%d appointments stored (%v), want 1: %+v", total, err, rows)
	}
	_, patients, _ := e.st.Patients(ctx, e.orgA.ID, store.PatientFilter{Query: "AA-00000001"})
	if patients != 1 {
		t.Fatalf("%d patients with the MRN, want 1", patients)
	}
}
