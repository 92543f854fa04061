package telehealth

import (
	"strings"

	"github.com/clinicbox/clinicbox/store"
)

// webhookDocs describes the deliveries a subscribed endpoint receives, as
// OpenAPI 3.1 "webhooks". The HTTP body is the encrypted envelope (text); its
// decrypted plaintext is WebhookPayload: {"event":"patient:created",
// "data":{"patientId":12}}. The spec writes its "Payload Schemas" JSON-schema
// style, so "event": {"type": "string"} means event is a string.
func webhookDocs() (hooks map[string]any, schemas map[string]any) {
	hooks = map[string]any{}
	for _, ev := range store.WebhookEvents {
		data := "#/components/schemas/WebhookPatientData"
		switch {
		case strings.HasPrefix(ev, "appointment:"):
			data = "#/components/schemas/WebhookAppointmentData"
		case strings.HasPrefix(ev, "episode:"):
			data = "#/components/schemas/WebhookEpisodeData"
		}
		hooks[ev] = map[string]any{"post": map[string]any{
			"summary": "Delivery of " + ev,
			"description": "The body is the encrypted envelope (salt, IV, AES-256-CBC; see the README). " +
				"Decrypted, it is {\"event\":\"" + ev + "\",\"data\":{...}} with data as in " + data + ".",
			"requestBody": map[string]any{"required": true, "content": map[string]any{
				"text/plain": map[string]any{"schema": map[string]any{"type": "string",
					"contentMediaType": "application/json",
					"contentSchema": map[string]any{"allOf": []any{
						map[string]any{"$ref": "#/components/schemas/WebhookPayload"},
						map[string]any{"properties": map[string]any{
							"event": map[string]any{"const": ev},
							"data":  map[string]any{"$ref": data},
						}},
					}},
				}},
			}},
			"responses": map[string]any{"2XX": map[string]any{"description": "Delivered; anything else is retried"}},
		}}
	}
	intProp := map[string]any{"type": "integer"}
	schemas = map[string]any{
		"WebhookPayload": map[string]any{
			"type": "object", "required": []string{"event", "data"}, "additionalProperties": false,
			"properties": map[string]any{
				"event": map[string]any{"type": "string", "enum": store.WebhookEvents},
				"data":  map[string]any{"type": "object"},
			},
			"example": map[string]any{"event": "patient:created", "data": map[string]any{"patientId": 12}},
		},
		"WebhookPatientData": map[string]any{"type": "object", "required": []string{"patientId"},
			"properties": map[string]any{"patientId": intProp}},
		"WebhookAppointmentData": map[string]any{"type": "object", "required": []string{"appointmentId"},
			"properties": map[string]any{"appointmentId": intProp}},
		"WebhookEpisodeData": map[string]any{"type": "object", "required": []string{"episodeId", "patientId"},
			"properties": map[string]any{"episodeId": map[string]any{"type": "string", "format": "uuid"}, "patientId": intProp}},
	}
	return hooks, schemas
}
