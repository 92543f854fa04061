package telehealth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

func TestAssistanceRequests(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	e.createPatient("A", "ext-1")
	p, _ := e.st.UpdatePatient(ctx, e.orgA.ID, store.ByExternalID, "ext-1", func(p *store.Patient) error {
		p.MRN = "1234"
		p.Names[0].MiddleName = "A"
		return nil
	})
	loc := &store.Location{Name: "ICC First Location", GeolocationID: "ab25dda0-64e6-4666-8bfe-3277656a6405"}
	if err := e.st.SaveLocation(ctx, e.orgA.ID, loc); err != nil {
		t.Fatal(err)
	}
	cl := &store.CareLocation{Name: "ICC-CL-01-02", LocationID: loc.ID, Building: "hospital", Floor: "floor 2", Room: "431",
		Bed: "bed 2", Department: "emergency department", DeviceSerial: "123457", PatientID: p.ID}
	if err := e.st.SaveCareLocation(ctx, e.orgA.ID, cl); err != nil {
		t.Fatal(err)
	}
	noDevice := &store.CareLocation{Name: "Room 12", Department: "ward", Room: "12"}
	if err := e.st.SaveCareLocation(ctx, e.orgA.ID, noDevice); err != nil {
		t.Fatal(err)
	}
	orgA, _ := e.st.Org(ctx, e.orgA.ID)
	var requestID string
	full := func(status int) map[string]any {
		return map[string]any{
			"id": "<uuid>", "device": "123457",
			"careLocation.availability": "offline", "careLocation.id": cl.UUID, "careLocation.name": "ICC-CL-01-02",
			"careLocation.status": "active", "careLocation.video.type": "robot", "careLocation.video.clientId": nil,
			"careLocation.video.serialNumber": "123457", "careLocation.video.careLocationId": fmt.Sprint(cl.ID),
			"careLocation.video.skipActivation": true,
			"practice":                          orgA.UUID,
			"patient.age":                       27, // born 1990-01-02, on 2017-09-01
			"patient.id":                        p.UUID, "patient.firstName": "Ann", "patient.lastName": "Lee",
			"patient.middleName": "A", "patient.dob": "1990-01-02", "patient.mrn": "1234",
			"assignedTo": nil, "room": "431", "status": "incomplete", "createdAt": "2017-09-01T09:00:00+00:00",
			"finishedAt": nil, "location.id": "ab25dda0-64e6-4666-8bfe-3277656a6405", "location.name": "ICC First Location",
			"avSessions": length(0), "createdFromExternalApi": true,
		}
	}
	cases := []struct {
		name, method, path, key, body string
		status                        int
		want                          map[string]any
		message                       string // the whole documented message
	}{
		{name: "create by building, floor, room and bed", method: "POST", body: `{"building": "hospital", "floor": "floor 2", "room": "431", "bed": "bed 2"}`,
			status: 201, want: full(201)},
		{name: "create again returns the open one", method: "POST", body: `{"department": "emergency department", "room": "431", "bed": "bed 2"}`,
			status: 200, want: map[string]any{"id": "{{req}}", "status": "incomplete"}},
		{name: "get by building without bed", method: "GET", body: `{"building": "Hospital", "floor": "floor 2", "room": "431"}`,
			status: 200, want: full(200)},
		{name: "get by department", method: "GET", body: `{"department": "emergency department", "room": "431", "bed": "bed 2"}`,
			status: 200, want: map[string]any{"id": "{{req}}"}},
		{name: "get by patient MRN", method: "GET", body: `{"patientMrn": "1234"}`, status: 200, want: map[string]any{"id": "{{req}}", "patient.mrn": "1234"}},
		{name: "get by device serial", method: "GET", body: `{"deviceSerialNumber": "123457"}`, status: 200, want: map[string]any{"id": "{{req}}"}},
		{name: "get by query parameters", method: "GET", path: "?deviceSerialNumber=123457", status: 200, want: map[string]any{"id": "{{req}}"}},
		{name: "get from other organisation", method: "GET", key: "B", body: `{"deviceSerialNumber": "123457"}`, status: 404,
			message: MsgAssistanceNotFound},

		{name: "missing parameters", method: "POST", body: `{"building": "hospital", "room": "431"}`, status: 400, message: MsgAssistanceMissing},
		{name: "empty body", method: "POST", status: 400, message: MsgAssistanceMissing},
		{name: "bed only", method: "POST", body: `{"bed": "bed 2"}`, status: 400, message: MsgAssistanceMissing},
		{name: "unknown device", method: "POST", body: `{"deviceSerialNumber": "999"}`, status: 404, message: MsgAssistanceNoDevice},
		{name: "unknown room", method: "POST", body: `{"department": "emergency department", "room": "999"}`, status: 404, message: MsgAssistanceNoDevice},
		{name: "unknown MRN", method: "POST", body: `{"patientMrn": "0000"}`, status: 404, message: MsgAssistanceNoDevice},
		{name: "care location without device", method: "POST", body: `{"department": "ward", "room": "12"}`, status: 404, message: MsgAssistanceNoDevice},
		{name: "other organisation", method: "POST", key: "B", body: `{"deviceSerialNumber": "123457"}`, status: 404, message: MsgAssistanceNoDevice},
		{name: "number where a string belongs", method: "POST", body: `{"deviceSerialNumber": 123457}`, status: 400,
			message: "Service Request Error: request body is not a valid JSON object with string values"},
		{name: "missing parameters on get", method: "GET", body: `{"room": "431"}`, status: 400, message: MsgAssistanceMissing},

		{name: "cancel", method: "DELETE", body: `{"patientMrn": "1234"}`, status: 204},
		{name: "get after cancel", method: "GET", body: `{"deviceSerialNumber": "123457"}`, status: 404, message: MsgAssistanceNotFound},
		{name: "cancel again", method: "DELETE", body: `{"deviceSerialNumber": "123457"}`, status: 404, message: MsgAssistanceNotFound},
		{name: "cancel unknown place", method: "DELETE", body: `{"department": "x", "room": "1"}`, status: 404, message: MsgAssistanceNotFound},
		{name: "new request after cancel", method: "POST", body: `{"deviceSerialNumber": "123457"}`, status: 201,
			want: map[string]any{"status": "incomplete", "finishedAt": nil}},
		{name: "no Api-Key", method: "POST", key: "none", body: `{"deviceSerialNumber": "123457"}`, status: 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := e.keyFor(c.key)
			ctype := ""
			if c.body != "" {
				ctype = "application/json"
			}
			status, hdr, b := e.do(c.method, "/qapi/v1/request-assistance"+c.path, key, ctype, []byte(c.body))
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, b)
			}
			if len(b) > 0 && !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type %q", hdr.Get("Content-Type"))
			}
			var doc any
			if len(b) > 0 {
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.UseNumber()
				if err := dec.Decode(&doc); err != nil {
					t.Fatalf("not JSON: %s", b)
				}
			}
			if c.message != "" {
				m, ok := doc.(map[string]any)
				if !ok || m["message"] != c.message || len(m) != 1 {
					t.Errorf("body %s, want exactly {\"message\": %q}", b, c.message)
				}
			}
			if requestID == "" && status == 201 {
				id, _ := lookup(doc, "id")
				requestID, _ = id.(string)
				e.vars["req"] = requestID
			}
			for path, want := range c.want {
				got, ok := lookup(doc, path)
				if !ok {
					t.Errorf("%s missing in %s", path, b)
					continue
				}
				checkValue(t, path, got, e.expandWant(want))
			}
		})
	}
	reqs, err := e.st.AssistanceRequests(ctx, e.orgA.ID, 10)
	if err != nil || len(reqs) != 2 || reqs[1].Status != store.AssistanceCancelled || reqs[1].FinishedAt.IsZero() {
		t.Errorf("requests: %+v %v", reqs, err)
	}
}

func TestAgeOn(t *testing.T) {
	t.Parallel()
	now := mustDay("2024-03-28")
	for dob, want := range map[string]int{"2024-03-28": 0, "1990-03-28": 34, "1990-03-29": 33, "1990-12-31": 33, "": 0, "bad": 0, "2030-01-01": 0} {
		if got := ageOn(dob, now); got != want {
			t.Errorf("ageOn(%q) = %d, want %d", dob, got, want)
		}
	}
}

func mustDay(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}
