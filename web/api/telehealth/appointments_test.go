package telehealth

import (
	"context"
	"fmt"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

func TestAppointments(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	spid := e.createPatient("A", "p-1")
	e.createPatient("A", "p-2")
	e.createPatient("B", "b-1")
	if _, err := e.st.UpdatePatient(context.Background(), e.orgA.ID, store.ByID, fmt.Sprint(spid), func(p *store.Patient) error {
		p.HSID = "12345"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.vars["spid"] = fmt.Sprint(spid)
	e.run([]scenario{
		{name: "episode for p-2 (fixture)", method: "POST", path: "/qapi/v1/patients/p-2/episodes",
			body: `{"name": "other", "type": "covid", "from": "2017-09-01", "status": "ACTIVE"}`, status: 201,
			capture: map[string]string{"otherEpisode": "episodeId"}},
		{name: "episode for p-1 (fixture)", method: "POST", path: "/qapi/v1/patients/p-1/episodes",
			body: `{"name": "covid care", "type": "covid", "from": "2017-09-01", "status": "PLANNING"}`, status: 201,
			capture: map[string]string{"episode": "episodeId"}},
		{name: "create with the spec's body", method: "POST", path: "/qapi/v1/patients/p-1/appointments",
			body: `{"date": 1505053800, "reasons": ["headache"], "duration": 900, "waitingRoom": "my waiting room",
				"externalId": "2e96ed0e-0f80-4dc3-b2c1-42e65b789e56", "episodeOfCareId": "{{episode}}", "accountNumber": "ABC123456789"}`,
			status: 201, want: map[string]any{"id": "<int>", "visitUrl": func(v any) error {
				s, _ := v.(string)
				if len(s) < len("https://clinic.example/visit/")+20 || s[:len("https://clinic.example/visit/")] != "https://clinic.example/visit/" {
					return fmt.Errorf("visitUrl %q", v)
				}
				return nil
			}},
			capture: map[string]string{"appt": "id", "visitUrl": "visitUrl"}, events: []string{"appointment:scheduled"}},
		{name: "create by HSID with defaults", method: "POST", path: "/qapi/v1/patients/HSID/12345/appointments",
			body: `{"waitingRoom": "my waiting room"}`, status: 201, want: map[string]any{"id": "<int>", "visitUrl": "<string>"},
			capture: map[string]string{"apptDefault": "id"}},
		{name: "default duration is the room's slot and date is now", method: "GET", path: "/qapi/v1/appointments/{{apptDefault}}", status: 200,
			want: map[string]any{"duration": 900, "date": int(testNow.Unix()), "status": "scheduled", "externalId": nil, "reasons": length(0)}},
		{name: "create by SPID", method: "POST", path: "/qapi/v1/patients/id/type/SPID/value/{{spid}}/appointments",
			body: `{"waitingRoom": "my waiting room", "duration": 1, "date": 1505060000}`, status: 201, want: map[string]any{"id": "<int>"}},
		{name: "duration 0", method: "POST", path: "/qapi/v1/patients/p-1/appointments", body: `{"waitingRoom": "my waiting room", "duration": 0}`,
			status: 400, msg: "duration: must be in range [1, 86400]"},
		{name: "duration 86401", method: "POST", path: "/qapi/v1/patients/p-1/appointments", body: `{"waitingRoom": "my waiting room", "duration": 86401}`,
			status: 400, msg: "duration"},
		{name: "duration as a string", method: "POST", path: "/qapi/v1/patients/p-1/appointments", body: `{"waitingRoom": "my waiting room", "duration": "900"}`,
			status: 400, msg: "duration must be an integer"},
		{name: "waitingRoom missing", method: "POST", path: "/qapi/v1/patients/p-1/appointments", body: `{"duration": 900}`,
			status: 400, msg: "waitingRoom: is required"},
		{name: "waitingRoom unknown", method: "POST", path: "/qapi/v1/patients/p-1/appointments", body: `{"waitingRoom": "nope"}`,
			status: 400, msg: "waitingRoom"},
		{name: "waitingRoom of another organisation", method: "POST", path: "/qapi/v1/patients/p-1/appointments", body: `{"waitingRoom": "beta room"}`,
			status: 400, msg: "waitingRoom"},
		{name: "episode of another patient", method: "POST", path: "/qapi/v1/patients/p-1/appointments",
			body: `{"waitingRoom": "my waiting room", "episodeOfCareId": "{{otherEpisode}}"}`, status: 400, msg: "episodeOfCareId"},
		{name: "unknown episode", method: "POST", path: "/qapi/v1/patients/p-1/appointments",
			body: `{"waitingRoom": "my waiting room", "episodeOfCareId": "nope"}`, status: 400, msg: "episodeOfCareId"},
		{name: "unknown patient", method: "POST", path: "/qapi/v1/patients/zzz/appointments", body: `{"waitingRoom": "my waiting room"}`, status: 404},
		{name: "other organisation's patient", method: "POST", path: "/qapi/v1/patients/b-1/appointments", body: `{"waitingRoom": "my waiting room"}`, status: 404},
		{name: "unknown HSID", method: "POST", path: "/qapi/v1/patients/HSID/999/appointments", body: `{"waitingRoom": "my waiting room"}`, status: 404},
		{name: "bad JSON", method: "POST", path: "/qapi/v1/patients/p-1/appointments", body: `[1,2]`, status: 400},
		{name: "no key", method: "POST", path: "/qapi/v1/patients/p-1/appointments", key: "none", body: `{"waitingRoom": "my waiting room"}`, status: 401},

		{name: "get: the full shape", method: "GET", path: "/qapi/v1/appointments/{{appt}}", status: 200, want: map[string]any{
			"id": "<int>", "date": 1505053800, "duration": 900, "reasons": []string{"headache"}, "status": "scheduled",
			"videoCall": nil, "externalId": "2e96ed0e-0f80-4dc3-b2c1-42e65b789e56",
			"patient.id": "p-1", "patient.demographics.name.0.firstName": "Ann", "patient.demographics.birthDate": "1990-01-02",
			"patient.demographics.sharedEmailGroup": nil, "providers": length(0)}},
		{name: "get from another organisation", method: "GET", path: "/qapi/v1/appointments/{{appt}}", key: "B", status: 404},
		{name: "get unknown", method: "GET", path: "/qapi/v1/appointments/999999", status: 404},
		{name: "get by non-numeric id", method: "GET", path: "/qapi/v1/appointments/abc", status: 404},

		{name: "put: only cancelled may be set", method: "PUT", path: "/qapi/v1/appointments/{{appt}}", body: `{"status": "arrived"}`,
			status: 400, msg: "status"},
		{name: "put: duration range", method: "PUT", path: "/qapi/v1/appointments/{{appt}}", body: `{"duration": 100000}`, status: 400, msg: "duration"},
		{name: "put: reschedule", method: "PUT", path: "/qapi/v1/appointments/{{appt}}",
			body: `{"date": 1505054700, "duration": 1800, "reasons": ["vomit"], "accountNumber": "X1", "externalId": "ext-2"}`, status: 200,
			want: map[string]any{"id": "<int>", "visitUrl": "{{visitUrl}}"}, events: []string{"appointment:rescheduled"}},
		{name: "after the reschedule", method: "GET", path: "/qapi/v1/appointments/{{appt}}", status: 200,
			want: map[string]any{"date": 1505054700, "duration": 1800, "reasons": []string{"vomit"}, "externalId": "ext-2"}},
		{name: "put from another organisation", method: "PUT", path: "/qapi/v1/appointments/{{appt}}", key: "B", body: `{"status": "cancelled"}`, status: 404},

		{name: "provider link", method: "GET", path: "/qapi/v1/appointments/{{appt}}/provider-link", status: 200,
			want: map[string]any{"id": "<int>", "providerVisitUrl": "<string>"}, capture: map[string]string{"providerUrl": "providerVisitUrl"}},
		{name: "video call links by external id", method: "GET", path: "/qapi/v1/appointments/ext-2/video-call-links", status: 200,
			want: map[string]any{"appointmentExternalId": "ext-2", "providerVisitUrl": "{{providerUrl}}", "patientVisitUrl": "{{visitUrl}}"}},
		{name: "video call links by SAID", method: "GET", path: "/qapi/v1/appointments/id/type/SAID/value/{{appt}}/video-call-links", status: 200,
			want: map[string]any{"appointmentExternalId": "ext-2", "providerVisitUrl": "{{providerUrl}}", "patientVisitUrl": "{{visitUrl}}"}},
		{name: "video call links by unknown external id", method: "GET", path: "/qapi/v1/appointments/nope/video-call-links", status: 404},
		{name: "video call links from another organisation", method: "GET", path: "/qapi/v1/appointments/ext-2/video-call-links", key: "B", status: 404},
		{name: "ms teams link is not available", method: "GET", path: "/qapi/v1/appointments/{{appt}}/msteams-provider-link", status: 501, msg: "Microsoft Teams"},
		{name: "ms teams link of unknown appointment", method: "GET", path: "/qapi/v1/appointments/999999/msteams-provider-link", status: 404},

		{name: "cancel", method: "PUT", path: "/qapi/v1/appointments/{{appt}}", body: `{"status": "cancelled"}`, status: 200,
			events: []string{"appointment:cancelled"}},
		{name: "after cancelling", method: "GET", path: "/qapi/v1/appointments/{{appt}}", status: 200, want: map[string]any{"status": "cancelled"}},
	})

	// A provider and a video call show up in the GET shape.
	id := mustInt(t, e.vars["appt"])
	if _, err := e.st.UpdateAppointment(context.Background(), e.orgA.ID, id, func(a *store.Appointment) error {
		a.ProviderID, a.VideoStatus = e.provider.ID, "waiting"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.run([]scenario{{name: "provider and video call", method: "GET", path: "/qapi/v1/appointments/{{appt}}", status: 200,
		want: map[string]any{"providers.0.id": fmt.Sprint(e.provider.ID), "providers.0.email": "clara@whovians.com",
			"providers.0.firstName": "Clara", "providers.0.middleName": "Oswin", "providers.0.lastName": "Oswald",
			"videoCall.id": "<uuid>", "videoCall.status": "waiting"}}})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not an integer: %q", s)
	}
	return n
}
