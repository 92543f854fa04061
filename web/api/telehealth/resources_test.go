package telehealth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

func TestSlots(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createPatient("A", "p-1")
	// 2017-09-10 is a Sunday; the room is open 14:30-16:00 UTC then.
	e.run([]scenario{
		{name: "the spec's example", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1505057400&waitingRoom=my+waiting+room",
			status: 200, want: map[string]any{"": length(4), "0.date": 1505053800, "0.duration": 900, "1.date": 1505054700,
				"2.date": 1505055600, "3.date": 1505056500, "3.duration": 900}},
		{name: "book 14:45 (fixture)", method: "POST", path: "/qapi/v1/patients/p-1/appointments",
			body: `{"date": 1505054700, "waitingRoom": "my waiting room"}`, status: 201, capture: map[string]string{"appt": "id"}},
		{name: "a booked slot is not free", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1505057400&waitingRoom=my+waiting+room",
			status: 200, want: map[string]any{"": length(3), "0.date": 1505053800, "1.date": 1505055600}},
		{name: "cancel it (fixture)", method: "PUT", path: "/qapi/v1/appointments/{{appt}}", body: `{"status": "cancelled"}`, status: 200},
		{name: "a cancelled appointment frees its slot", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1505057400&waitingRoom=my+waiting+room",
			status: 200, want: map[string]any{"": length(4)}},
		{name: "duration parameter", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1505057400&waitingRoom=my+waiting+room&duration=1800",
			status: 200, want: map[string]any{"": length(2), "0.date": 1505053800, "0.duration": 1800, "1.date": 1505055600}},
		{name: "closed day has no slots", method: "GET", path: "/qapi/v1/appointment-slots?after=1504958400&before=1504994400&waitingRoom=my+waiting+room",
			status: 200, want: map[string]any{"": length(0)}},
		{name: "after missing", method: "GET", path: "/qapi/v1/appointment-slots?before=1505057400&waitingRoom=my+waiting+room", status: 400, msg: "after: is required"},
		{name: "before missing", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&waitingRoom=my+waiting+room", status: 400, msg: "before: is required"},
		{name: "waitingRoom missing", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1505057400", status: 400, msg: "waitingRoom: is required"},
		{name: "waitingRoom unknown", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1505057400&waitingRoom=x", status: 400, msg: "waitingRoom"},
		{name: "waitingRoom of another organisation", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1505057400&waitingRoom=beta+room", status: 400},
		{name: "after not a number", method: "GET", path: "/qapi/v1/appointment-slots?after=yesterday&before=1505057400&waitingRoom=my+waiting+room", status: 400, msg: "after"},
		{name: "duration out of range", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1505057400&waitingRoom=my+waiting+room&duration=0", status: 400, msg: "duration"},
		{name: "window too long", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1510000000&waitingRoom=my+waiting+room", status: 400, msg: "31 days"},
		{name: "too many slots", method: "GET", path: "/qapi/v1/appointment-slots?after=1505053200&before=1507000000&waitingRoom=my+waiting+room&duration=1", status: 400, msg: "5000"},
		{name: "before not after after", method: "GET", path: "/qapi/v1/appointment-slots?after=1505057400&before=1505053200&waitingRoom=my+waiting+room", status: 400, msg: "before"},
	})
}

func TestWaitingRooms(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.run([]scenario{
		{name: "list", method: "GET", path: "/qapi/v1/waiting-rooms", status: 200, want: map[string]any{"": length(1),
			"0.id": e.roomA.UUID, "0.name": "my waiting room", "0.serviceLine": "Demo", "0.serviceType": "Demo"}},
		{name: "list of the other organisation", method: "GET", path: "/qapi/v1/waiting-rooms", key: "B", status: 200,
			want: map[string]any{"": length(1), "0.name": "beta room", "0.id": "<uuid>"}},
		{name: "no key", method: "GET", path: "/qapi/v1/waiting-rooms", key: "none", status: 401},
	})
}

func TestVisitNotes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createPatient("A", "p-1")
	e.vars["appt"] = fmt.Sprint(e.createAppointment("A", "p-1", `{"waitingRoom": "my waiting room", "date": 1505053800}`))
	e.run([]scenario{
		{name: "a new appointment lists the templates without answers", method: "GET", path: "/qapi/v1/appointments/{{appt}}/visit-note", status: 200,
			want: map[string]any{"": length(2), "0.id": "<uuid>", "0.template.name": "Acute Neurology - Physician Services",
				"0.template.flow.sections.0.questions.0.id": "923c5621-66a1-49a3-aa7b-a7753cbfd139",
				"0.comments": length(0), "0.responses": length(0), "1.template.name": "EEG - Physician Services"}},
		{name: "the spec's update", method: "PUT", path: "/qapi/v1/appointments/{{appt}}/visit-note",
			body:   `{"name": "Acute Neurology - Physician Services", "questions": [{"id": "923c5621-66a1-49a3-aa7b-a7753cbfd139", "value": ["Male"]}]}`,
			status: 200, want: map[string]any{"template.name": "Acute Neurology - Physician Services", "responses.0.response": []string{"Male"}},
			events: []string{"visit-note:updated"}},
		{name: "answers show with question and time", method: "GET", path: "/qapi/v1/appointments/{{appt}}/visit-note", status: 200,
			want: map[string]any{"0.responses": length(1), "0.responses.0.question": []string{"Patient", "Sex"},
				"0.responses.0.response": []string{"Male"}, "0.responses.0.dateTime.date": "2017-09-01 09:00:00.000000",
				"0.responses.0.dateTime.timezone_type": 3, "0.responses.0.dateTime.timezone": "UTC", "1.responses": length(0)}},
		{name: "unknown template name", method: "PUT", path: "/qapi/v1/appointments/{{appt}}/visit-note",
			body: `{"name": "Dermatology", "questions": [{"id": "923c5621-66a1-49a3-aa7b-a7753cbfd139", "value": ["Male"]}]}`, status: 400, msg: "name"},
		{name: "unknown question", method: "PUT", path: "/qapi/v1/appointments/{{appt}}/visit-note",
			body: `{"name": "EEG - Physician Services", "questions": [{"id": "923c5621-66a1-49a3-aa7b-a7753cbfd139", "value": ["Male"]}]}`, status: 400, msg: "questions[0].id"},
		{name: "questions missing", method: "PUT", path: "/qapi/v1/appointments/{{appt}}/visit-note", body: `{"name": "EEG - Physician Services"}`, status: 400, msg: "questions"},
		{name: "value not a list", method: "PUT", path: "/qapi/v1/appointments/{{appt}}/visit-note",
			body: `{"name": "EEG - Physician Services", "questions": [{"id": "x", "value": "Male"}]}`, status: 400},
		{name: "other organisation", method: "GET", path: "/qapi/v1/appointments/{{appt}}/visit-note", key: "B", status: 404},
		{name: "other organisation cannot write", method: "PUT", path: "/qapi/v1/appointments/{{appt}}/visit-note", key: "B",
			body: `{"name": "EEG - Physician Services", "questions": []}`, status: 404},
	})
}

func TestAttachments(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createPatient("A", "p-1")
	e.vars["appt"] = fmt.Sprint(e.createAppointment("A", "p-1", `{"waitingRoom": "my waiting room"}`))
	pdf := "%PDF-1.4\n" + strings.Repeat("x", 9499)
	e.run([]scenario{
		{name: "upload a pdf", method: "POST", path: "/qapi/v1/appointments/{{appt}}/attachments?fileName=UploadedPDF.pdf",
			ctype: "application/pdf", body: pdf, status: 201,
			want: map[string]any{"id": "<uuid>", "appointmentId": "<uuid>", "title": "UploadedPDF.pdf", "mimeType": "application/pdf",
				"size": 9508, "uploadedAt": "2017-09-01T09:00:00+00:00", "deleted": false},
			capture: map[string]string{"att": "id", "apptUUID": "appointmentId"}},
		{name: "upload a png by the appointment's uuid, type sniffed", method: "POST", path: "/qapi/v1/appointments/{{apptUUID}}/attachments",
			ctype: "application/octet-stream", body: "\x89PNG\r\n\x1a\n0000", status: 201,
			want: map[string]any{"mimeType": "image/png", "title": "attachment.png", "size": 12}},
		{name: "unsupported type: the spec's message", method: "POST", path: "/qapi/v1/appointments/{{appt}}/attachments?fileName=a.txt",
			ctype: "text/plain", body: "hello", status: 400,
			msg: `Mime type "text/plain" not supported. Available file mime-types: "application/pdf", "application/x-pdf", "image/pdf", "image/png", "image/jpeg"`},
		{name: "empty body", method: "POST", path: "/qapi/v1/appointments/{{appt}}/attachments", ctype: "application/pdf", status: 400},
		{name: "list", method: "GET", path: "/qapi/v1/appointments/{{appt}}/attachments", status: 200,
			want: map[string]any{"attachments": length(2), "attachments.0.id": "{{att}}", "attachments.0.size": 9508,
				"attachments.1.mimeType": "image/png", "attachments.0.deleted": false}},
		{name: "list from another organisation", method: "GET", path: "/qapi/v1/appointments/{{appt}}/attachments", key: "B", status: 404},
		{name: "delete from another organisation", method: "DELETE", path: "/qapi/v1/appointments/{{appt}}/attachments/{{att}}", key: "B", status: 404},
		{name: "delete", method: "DELETE", path: "/qapi/v1/appointments/{{appt}}/attachments/{{att}}", status: 204},
		{name: "delete again", method: "DELETE", path: "/qapi/v1/appointments/{{appt}}/attachments/{{att}}", status: 404},
		{name: "list after delete", method: "GET", path: "/qapi/v1/appointments/{{appt}}/attachments", status: 200,
			want: map[string]any{"attachments": length(1), "attachments.0.mimeType": "image/png"}},
	})
	// 5 MB is accepted, one byte more is not.
	big := append([]byte("%PDF-"), bytes.Repeat([]byte("x"), 5<<20-5)...)
	status, _, b := e.do("POST", e.expand("/qapi/v1/appointments/{{appt}}/attachments?fileName=big.pdf"), e.keyA, "application/pdf", big)
	if status != 201 {
		t.Fatalf("5 MB upload: %d %s", status, b)
	}
	status, _, b = e.do("POST", e.expand("/qapi/v1/appointments/{{appt}}/attachments?fileName=big.pdf"), e.keyA, "application/pdf", append(big, 'x'))
	var eb errorBody
	if status != 413 || json.Unmarshal(b, &eb) != nil || !strings.Contains(eb.Error.Message, "5 MB") {
		t.Fatalf("too large upload: %d %s", status, b)
	}
	list, err := e.st.Attachments(context.Background(), e.orgA.ID, mustInt(t, e.vars["appt"]))
	if err != nil || len(list) != 2 {
		t.Fatalf("attachments after the uploads: %d %v", len(list), err)
	}
}

func TestPatientDocuments(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createPatient("A", "p-1")
	e.run([]scenario{
		{name: "the spec's body", method: "POST", path: "/qapi/v1/patients/p-1/documents",
			body:   `{"name": "document name", "dateTime": 1510367140, "responses": [{"question": "question 1", "response": "response to question 1"}]}`,
			status: 201, want: map[string]any{"": length(0)}, events: []string{"document:created"}},
		{name: "name missing", method: "POST", path: "/qapi/v1/patients/p-1/documents",
			body: `{"dateTime": 1510367140, "responses": []}`, status: 400, msg: "name: is required"},
		{name: "dateTime missing", method: "POST", path: "/qapi/v1/patients/p-1/documents",
			body: `{"name": "d", "responses": []}`, status: 400, msg: "dateTime: is required"},
		{name: "responses missing", method: "POST", path: "/qapi/v1/patients/p-1/documents",
			body: `{"name": "d", "dateTime": 1510367140}`, status: 400, msg: "responses: is required"},
		{name: "question missing", method: "POST", path: "/qapi/v1/patients/p-1/documents",
			body: `{"name": "d", "dateTime": 1510367140, "responses": [{"response": "r"}]}`, status: 400, msg: "responses[0].question: is required"},
		{name: "response missing", method: "POST", path: "/qapi/v1/patients/p-1/documents",
			body: `{"name": "d", "dateTime": 1510367140, "responses": [{"question": "q"}]}`, status: 400, msg: "responses[0].response: is required"},
		{name: "dateTime as a string", method: "POST", path: "/qapi/v1/patients/p-1/documents",
			body: `{"name": "d", "dateTime": "2017-11-11", "responses": []}`, status: 400, msg: "dateTime"},
		{name: "other organisation's patient", method: "POST", path: "/qapi/v1/patients/p-1/documents", key: "B",
			body: `{"name": "d", "dateTime": 1510367140, "responses": []}`, status: 404},
	})
	p, _ := e.st.PatientBy(context.Background(), e.orgA.ID, "external_id", "p-1")
	docs, err := e.st.PatientDocuments(context.Background(), e.orgA.ID, p.ID)
	if err != nil || len(docs) != 1 || docs[0].Responses[0].Response != "response to question 1" || docs[0].DateTime.Unix() != 1510367140 {
		t.Fatalf("stored documents: %+v %v", docs, err)
	}
}

func TestEpisodes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	spid := e.createPatient("A", "05ade251")
	e.createPatient("A", "p-2")
	e.vars["spid"] = fmt.Sprint(spid)
	e.vars["appt"] = fmt.Sprint(e.createAppointment("A", "05ade251", `{"waitingRoom": "my waiting room", "date": 1679667900}`))
	e.vars["appt2"] = fmt.Sprint(e.createAppointment("A", "p-2", `{"waitingRoom": "my waiting room"}`))
	e.run([]scenario{
		{name: "create with the spec's body", method: "POST", path: "/qapi/v1/patients/05ade251/episodes",
			body: `{"name": "covid care", "type": "covid", "from": "2023-03-29", "to": "2023-04-29", "status": "PLANNING",
				"objective": "care covid patient", "reasonIncomplete": "unknown"}`,
			status: 201, want: map[string]any{"episodeId": "<uuid>"}, capture: map[string]string{"ep": "episodeId"},
			events: []string{"episode:created"}},
		{name: "unknown status", method: "POST", path: "/qapi/v1/patients/05ade251/episodes",
			body: `{"name": "x", "type": "covid", "from": "2023-03-29", "status": "DONE"}`, status: 400, msg: "status"},
		{name: "required fields", method: "POST", path: "/qapi/v1/patients/05ade251/episodes", body: `{}`, status: 400,
			msg: "Bad parameters [from: is required. name: is required. status: is required. type: is required.]"},
		{name: "bad date", method: "POST", path: "/qapi/v1/patients/05ade251/episodes",
			body: `{"name": "x", "type": "covid", "from": "29/03/2023", "status": "ACTIVE"}`, status: 400, msg: "from"},
		{name: "to before from", method: "POST", path: "/qapi/v1/patients/05ade251/episodes",
			body: `{"name": "x", "type": "covid", "from": "2023-03-29", "to": "2023-03-01", "status": "ACTIVE"}`, status: 400, msg: "to"},
		{name: "other organisation's patient", method: "POST", path: "/qapi/v1/patients/05ade251/episodes", key: "B",
			body: `{"name": "x", "type": "covid", "from": "2023-03-29", "status": "ACTIVE"}`, status: 404},
		{name: "list", method: "GET", path: "/qapi/v1/patients/05ade251/episodes", status: 200, want: map[string]any{
			"episodes": length(1), "episodes.0.id": "{{ep}}", "episodes.0.patientId": "05ade251", "episodes.0.name": "covid care",
			"episodes.0.from": "2023-03-29", "episodes.0.to": "2023-04-29", "episodes.0.type": "covid", "episodes.0.status": "planning",
			"episodes.0.objective": "care covid patient", "episodes.0.reasonIncomplete": "unknown"}},
		{name: "get", method: "GET", path: "/qapi/v1/episodes/{{ep}}", status: 200, want: map[string]any{
			"id": "{{ep}}", "name": "covid care", "status": "planning", "soloPatientId": int(spid), "externalPatientId": "05ade251"}},
		{name: "get from another organisation", method: "GET", path: "/qapi/v1/episodes/{{ep}}", key: "B", status: 404},
		{name: "update", method: "PUT", path: "/qapi/v1/episodes/{{ep}}", body: `{"status": "active", "objective": "recover"}`, status: 200,
			want: map[string]any{"status": "active", "objective": "recover", "name": "covid care"}, events: []string{"episode:updated"}},
		{name: "update with unknown status", method: "PUT", path: "/qapi/v1/episodes/{{ep}}", body: `{"status": "incomplete"}`, status: 400, msg: "status"},
		{name: "update from another organisation", method: "PUT", path: "/qapi/v1/episodes/{{ep}}", key: "B", body: `{"status": "active"}`, status: 404},
		{name: "assign", method: "PUT", path: "/qapi/v1/appointments/{{appt}}/episode/assign", body: `{"episodeId": "{{ep}}"}`, status: 200,
			want: map[string]any{"appointmentId": "<int>", "episodeOfCareId": "{{ep}}"}},
		{name: "assign to another patient's appointment", method: "PUT", path: "/qapi/v1/appointments/{{appt2}}/episode/assign",
			body: `{"episodeId": "{{ep}}"}`, status: 400, msg: "episodeId"},
		{name: "assign unknown episode", method: "PUT", path: "/qapi/v1/appointments/{{appt}}/episode/assign", body: `{"episodeId": "nope"}`, status: 400},
		{name: "episode appointments", method: "GET", path: "/qapi/v1/episodes/{{ep}}/appointments", status: 200, want: map[string]any{
			"episode.id": "{{ep}}", "episode.soloPatientId": int(spid), "appointments": length(1),
			"appointments.0.appointmentId": "<int>", "appointments.0.date": 1679667900, "appointments.0.reasons": length(0),
			"appointments.0.hasNotes": false, "appointments.0.episodeOfCareId": "{{ep}}"}},
		{name: "unassign", method: "PUT", path: "/qapi/v1/appointments/{{appt}}/episode/assign", body: `{}`, status: 200,
			want: map[string]any{"episodeOfCareId": nil}},
		{name: "episode appointments after unassign", method: "GET", path: "/qapi/v1/episodes/{{ep}}/appointments", status: 200,
			want: map[string]any{"appointments": length(0)}},
	})
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	status, _, b := e.do("GET", "/qapi/v1/openapi.json", "", "", nil)
	if status != 200 {
		t.Fatalf("openapi.json: %d", status)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	registered := map[string]bool{}
	for _, rt := range e.h.Routes() {
		p, method, path := rt.Key(), rt.Method, rt.Pattern
		if !strings.HasPrefix(path, "/qapi/") {
			continue
		}
		registered[method+" "+path] = true
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("registered route %s is not in openapi.json", p)
		}
	}
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/qapi/") {
			continue
		}
		for m := range ops {
			if !registered[strings.ToUpper(m)+" "+path] {
				t.Errorf("openapi.json documents %s %s, which is not registered", strings.ToUpper(m), path)
			}
		}
	}
	if len(registered) < 30 {
		t.Errorf("only %d /qapi routes registered", len(registered))
	}
}

// The integrator's view of a webhook delivery: every subscribable event is
// documented, and the decrypted payload's event is a string, not an object.
func TestOpenAPIDocumentsWebhookPayload(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, _, b := e.do("GET", "/qapi/v1/openapi.json", "", "", nil)
	var doc struct {
		Webhooks   map[string]map[string]any `json:"webhooks"`
		Components struct {
			Schemas map[string]struct {
				Required   []string `json:"required"`
				Properties map[string]struct {
					Type string `json:"type"`
				} `json:"properties"`
				Example json.RawMessage `json:"example"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, ev := range store.WebhookEvents {
		if _, ok := doc.Webhooks[ev]["post"]; !ok {
			t.Errorf("webhook %s is not documented", ev)
		}
	}
	pl := doc.Components.Schemas["WebhookPayload"]
	if pl.Properties["event"].Type != "string" || pl.Properties["data"].Type != "object" {
		t.Errorf("WebhookPayload properties = %+v, want event string and data object", pl.Properties)
	}
	var ex bytes.Buffer
	json.Compact(&ex, pl.Example)
	if got, want := ex.String(), `{"data":{"patientId":12},"event":"patient:created"}`; got != want {
		t.Errorf("example = %s, want %s", got, want)
	}
	if p := doc.Components.Schemas["WebhookPatientData"].Properties["patientId"].Type; p != "integer" {
		t.Errorf("patientId type = %q", p)
	}
}
