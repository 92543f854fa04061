package webhook

import (
	"encoding/json"
	"slices"

	"github.com/clinicbox/clinicbox/store"
)

// Payload is the documented webhook body before encryption:
// {"event":"patient:created","data":{"patientId":12}}. The spec's "Payload
// Schemas" are written JSON-schema style ("event": {"type": "string"} says
// event is a string, as "patientId": {"type": "int"} says patientId is an
// int), so event is the plain event name and data holds plain values.
type Payload struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// Data is the "data" member for an outbox event: {"patientId": int} for
// patient events and {"appointmentId": int} for appointment events, as
// documented. Episode events (the spec has no schema for them) carry
// {"episodeId": "<uuid>", "patientId": int}: the episode id as the API shows
// it, and the patient's SPID. ok is false for events that are not webhook
// events.
func Data(ev store.Event) (data any, ok bool) {
	if !slices.Contains(store.WebhookEvents, ev.Type) {
		return nil, false
	}
	switch ev.SubjectType {
	case "patient":
		return map[string]int64{"patientId": ev.SubjectID}, true
	case "appointment":
		return map[string]int64{"appointmentId": ev.SubjectID}, true
	case "episode":
		var p struct {
			EpisodeID string `json:"episodeId"`
			PatientID int64  `json:"patientId"`
		}
		json.Unmarshal(ev.Payload, &p)
		return map[string]any{"episodeId": p.EpisodeID, "patientId": p.PatientID}, true
	}
	return nil, false
}

// body builds the plaintext JSON of a delivery.
func body(eventType string, data json.RawMessage) ([]byte, error) {
	return json.Marshal(Payload{Event: eventType, Data: data})
}
