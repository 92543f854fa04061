package fhir

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Every resource type the server emits, read and searched, each body
// validated by the independent R4 parser (e.get).
func TestEveryResourceType(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	appt := &store.Appointment{PatientID: e.patient.ID, WaitingRoomID: e.room.ID, ProviderID: e.provider.ID,
		Start: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Reasons: []string{"Check-up"}}
	must(t, e.st.CreateAppointment(ctx, e.orgA.ID, appt))
	ep := &store.Episode{PatientID: e.patient.ID, Name: "Diabetes follow-up", Type: "chronic", From: "2026-01-01", Status: "active"}
	must(t, e.st.CreateEpisode(ctx, e.orgA.ID, ep))
	file := &store.PatientFile{PatientID: e.patient.ID, Title: "ECG", Filename: "ecg.pdf", Data: []byte("%PDF-1.4 test"), Source: "instrument-api"}
	must(t, e.st.AddPatientFile(ctx, e.orgA.ID, file))
	att := &store.Attachment{AppointmentID: appt.ID, Title: "photo.png", MimeType: "image/png", Data: []byte("\x89PNG\r\n\x1a\nxx")}
	must(t, e.st.CreateAttachment(ctx, e.orgA.ID, att))
	msg := &store.DeviceMessage{DeviceID: e.device.ID, Direction: "in", Protocol: "astm", Kind: "results", Raw: []byte("H|\\^&\r")}
	must(t, e.st.SaveDeviceMessage(ctx, e.orgA.ID, msg))
	obs := []store.Observation{{PatientID: e.patient.ID, DeviceID: e.device.ID, MessageID: msg.ID, Source: "serial", CodeSystem: "local",
		Code: "GLU", Value: "6.1", Unit: "mmol/L", Status: "F", MeasuredAt: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}}
	must(t, e.st.AddObservations(ctx, e.orgA.ID, obs))
	tpls, err := e.st.VisitNoteTemplates(ctx, e.orgA.ID)
	must(t, err)
	tpl := tpls[0]
	must(t, e.st.StartVisitNote(ctx, e.orgA.ID, appt.ID, tpl.ID))
	var q0 store.VisitNoteQuestion
	for _, sec := range tpl.Flow.Sections {
		for _, q := range sec.Questions {
			if q.Type == "text" && q0.ID == "" {
				q0 = q
			}
		}
	}
	_, err = e.st.SaveVisitNoteAnswers(ctx, e.orgA.ID, appt.ID, tpl.ID, []store.VisitNoteAnswer{{QuestionID: q0.ID, Value: []string{"Feels well"}}})
	must(t, err)
	notes, err := e.st.SearchVisitNotes(ctx, e.orgA.ID, store.VisitNoteSearch{AppointmentID: appt.ID})
	must(t, err)
	if len(notes) != 1 {
		t.Fatalf("%d notes", len(notes))
	}
	doc := &store.PatientDocument{PatientID: e.patient.ID, Name: "PHQ-2 before the visit", DateTime: time.Date(2026, 3, 1, 18, 30, 0, 0, time.UTC),
		Responses: []store.DocumentResponse{{Question: "Little interest or pleasure in doing things?", Response: "Several days"},
			{Question: "Anything else?", Response: ""}, {Question: "Medication", Response: "Metformin 500 mg <2/day> & \"more\""}}}
	must(t, e.st.CreatePatientDocument(ctx, e.orgA.ID, doc))
	org, err := e.st.Org(ctx, e.orgA.ID)
	must(t, err)
	pt := e.patient.UUID

	cases := []struct {
		typ, id, search string
		check           func(t *testing.T, r map[string]any)
	}{
		{"Patient", pt, "identifier=MRN-1", nil},
		{"Practitioner", e.provider.UUID, "", func(t *testing.T, r map[string]any) {
			if str(r, "name.0.text") != "Clara Oswald" || str(r, "telecom.0.value") != "clara@alpha.example" {
				t.Errorf("%v", r)
			}
		}},
		{"Organization", org.UUID, "", func(t *testing.T, r map[string]any) {
			if r["name"] != "Alpha Clinic" {
				t.Errorf("%v", r)
			}
		}},
		{"Location", e.room.UUID, "", func(t *testing.T, r map[string]any) {
			if r["name"] != "Video room" || str(r, "managingOrganization.reference") != "Organization/"+org.UUID {
				t.Errorf("%v", r)
			}
		}},
		{"Device", e.device.UUID, "", func(t *testing.T, r map[string]any) {
			if str(r, "deviceName.0.name") != "Cobas b 101" || r["status"] != "active" {
				t.Errorf("%v", r)
			}
		}},
		{"Appointment", appt.UUID, "patient=" + pt, nil},
		{"Encounter", appt.UUID, "patient=" + pt, func(t *testing.T, r map[string]any) {
			if str(r, "participant.0.individual.reference") != "Practitioner/"+e.provider.UUID {
				t.Errorf("%v", r)
			}
		}},
		{"Observation", obs[0].UUID, "patient=" + pt, nil},
		{"EpisodeOfCare", ep.UUID, "patient=" + pt + "&status=active", func(t *testing.T, r map[string]any) {
			if r["status"] != "active" || str(r, "period.start") != "2026-01-01" || str(r, "extension.0.valueString") != "Diabetes follow-up" {
				t.Errorf("%v", r)
			}
		}},
		{"DocumentReference", file.UUID, "patient=" + pt, func(t *testing.T, r map[string]any) {
			if str(r, "content.0.attachment.url") != e.srv.URL+"/fhir/R4/Binary/"+file.UUID || str(r, "content.0.attachment.contentType") != "application/pdf" {
				t.Errorf("%v", r)
			}
		}},
		{"DocumentReference", att.UUID, "subject=Patient/" + pt, func(t *testing.T, r map[string]any) {
			if str(r, "context.encounter.0.reference") != "Encounter/"+appt.UUID {
				t.Errorf("%v", r)
			}
		}},
		{"DiagnosticReport", reportID(msg.ID), "patient=" + pt, func(t *testing.T, r map[string]any) {
			if str(r, "result.0.reference") != "Observation/"+obs[0].UUID || r["status"] != "final" {
				t.Errorf("%v", r)
			}
		}},
		{"QuestionnaireResponse", notes[0].UUID, "encounter=Encounter/" + appt.UUID, func(t *testing.T, r map[string]any) {
			if !hasAnswer(r, q0.ID, "Feels well") || r["status"] != "in-progress" {
				t.Errorf("%v", r)
			}
		}},
		{"QuestionnaireResponse", doc.UUID, "patient=" + pt, func(t *testing.T, r map[string]any) {
			if r["status"] != "completed" || str(r, "subject.reference") != "Patient/"+pt || r["authored"] != "2026-03-01T18:30:00Z" ||
				str(r, "item.0.text") != "PHQ-2 before the visit" || !hasAnswer(r, "document.1", "Several days") ||
				!hasAnswer(r, "document.3", `Metformin 500 mg <2/day> & "more"`) || path(r, "item.0.item.1.answer") != nil ||
				str(r, "item.0.item.1.text") != "Anything else?" || r["encounter"] != nil {
				t.Errorf("%v", r)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			r := e.get("/fhir/R4/"+tc.typ+"/"+tc.id, e.readA, 200)
			if r["resourceType"] != tc.typ || r["id"] != tc.id {
				t.Fatalf("read %v", r)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			b := e.get("/fhir/R4/"+tc.typ+"?_id="+tc.id, e.readA, 200)
			if len(entries(b)) != 1 || str(entries(b)[0], "resource.id") != tc.id {
				t.Errorf("search by _id: %v", b)
			}
			if tc.search != "" {
				b := e.get("/fhir/R4/"+tc.typ+"?"+tc.search, e.readA, 200)
				found := false
				for _, en := range entries(b) {
					found = found || str(en, "resource.id") == tc.id
				}
				if !found {
					t.Errorf("search %s did not find it: %v", tc.search, b)
				}
			}
			// Another organisation's token never sees it.
			e.get("/fhir/R4/"+tc.typ+"/"+tc.id, e.readB, 404)
		})
	}
	// A patient's visit notes and questionnaires page together (notes
	// first); an encounter has only its notes.
	b := e.get("/fhir/R4/QuestionnaireResponse?patient="+pt+"&_count=1", e.readA, 200)
	if len(entries(b)) != 1 || str(entries(b)[0], "resource.id") != notes[0].UUID {
		t.Fatalf("page 1: %v", b)
	}
	var next string
	for _, l := range path(b, "link").([]any) {
		if str(l, "relation") == "next" {
			next = strings.TrimPrefix(str(l, "url"), e.srv.URL)
		}
	}
	if b := e.get(next, e.readA, 200); len(entries(b)) != 1 || str(entries(b)[0], "resource.id") != doc.UUID {
		t.Fatalf("page 2 (%s): %v", next, b)
	}
	if b := e.get("/fhir/R4/QuestionnaireResponse?encounter=Encounter/"+appt.UUID, e.readA, 200); len(entries(b)) != 1 {
		t.Errorf("encounter search found the patient's own questionnaire: %v", b)
	}
	if b := e.get("/fhir/R4/QuestionnaireResponse?patient="+e.other.UUID, e.readB, 200); len(entries(b)) != 0 {
		t.Errorf("org B: %v", b)
	}

	// The bytes of a document, as stored.
	req, _ := http.NewRequest("GET", e.srv.URL+"/fhir/R4/Binary/"+file.UUID, nil)
	req.Header.Set("Authorization", "Bearer "+e.readA)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "%PDF-1.4 test" || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("binary: %d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	e.get("/fhir/R4/Binary/"+file.UUID, e.readB, 404)

	// An attachment's bytes, streamed from its row, with the same headers.
	req, _ = http.NewRequest("GET", e.srv.URL+"/fhir/R4/Binary/"+att.UUID, nil)
	req.Header.Set("Authorization", "Bearer "+e.readA)
	resp, err = http.DefaultClient.Do(req)
	must(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "\x89PNG\r\n\x1a\nxx" || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("Content-Length") != "10" {
		t.Errorf("attachment binary: %d %q %s %s", resp.StatusCode, body, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length"))
	}
	e.get("/fhir/R4/Binary/"+att.UUID, e.readB, 404)
}

func hasAnswer(r map[string]any, linkID, value string) bool {
	items, _ := r["item"].([]any)
	for _, sec := range items {
		qs, _ := path(sec, "item").([]any)
		for _, q := range qs {
			if str(q, "linkId") == linkID && str(q, "answer.0.valueString") == value {
				return true
			}
		}
	}
	return false
}
