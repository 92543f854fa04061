package telehealth

import (
	"encoding/base64"
	"fmt"
	"testing"
)

// encryptionKey checks the documented key form: 16 random bytes, base64
// (24 characters, like "39VNjjSpgoUWMbUhVCjAoQ==").
func encryptionKey(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%v is not a string", v)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 16 || len(s) != 24 {
		return fmt.Errorf("%q is not base64 of 16 bytes", s)
	}
	return nil
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.run([]scenario{
		{name: "add webhook (spec example)", method: "POST", path: "/qapi/v1/webhooks",
			body:   `{"endpoint": "https://webhook.site/abc", "events": ["appointment:scheduled", "appointment:rescheduled"]}`,
			status: 201, want: map[string]any{"id": "<uuid>", "endpoint": "https://webhook.site/abc",
				"events": []string{"appointment:scheduled", "appointment:rescheduled"}, "encryptionKey": encryptionKey},
			capture: map[string]string{"hook": "id", "key": "encryptionKey"}},
		{name: "add webhook with every event", method: "POST", path: "/qapi/v1/webhooks",
			body: `{"endpoint": "http://10.0.0.5:8080/hook", "events": ["patient:created", "patient:updated", "patient:deactivated",
				"appointment:scheduled", "appointment:rescheduled", "appointment:cancelled", "appointment:completed",
				"appointment:incompleted", "appointment:no-show", "appointment:lwbs", "episode:created", "episode:updated"]}`,
			status: 201, want: map[string]any{"events": length(12), "encryptionKey": encryptionKey}, capture: map[string]string{"hook2": "id"}},
		{name: "duplicate events are listed once", method: "POST", path: "/qapi/v1/webhooks",
			body:   `{"endpoint": "https://x.example/h", "events": ["patient:created", "patient:created"]}`,
			status: 201, want: map[string]any{"events": []string{"patient:created"}}, capture: map[string]string{"hook3": "id"}},
		{name: "unknown event", method: "POST", path: "/qapi/v1/webhooks",
			body:   `{"endpoint": "https://webhook.site/abc", "events": ["appointment:scheduled", "appointment:deleted"]}`,
			status: 400, msg: "Bad parameters [events[1]: The value you selected is not a valid choice."},
		{name: "no events", method: "POST", path: "/qapi/v1/webhooks", body: `{"endpoint": "https://webhook.site/abc", "events": []}`,
			status: 400, msg: "Bad parameters [events: This value should not be blank.]"},
		{name: "events not an array", method: "POST", path: "/qapi/v1/webhooks", body: `{"endpoint": "https://webhook.site/abc", "events": "patient:created"}`,
			status: 400, msg: "events: This value should be of type array of strings."},
		{name: "missing endpoint", method: "POST", path: "/qapi/v1/webhooks", body: `{"events": ["patient:created"]}`,
			status: 400, msg: "Bad parameters [endpoint: This value should not be blank.]"},
		{name: "endpoint not http(s)", method: "POST", path: "/qapi/v1/webhooks", body: `{"endpoint": "ftp://x.example/", "events": ["patient:created"]}`,
			status: 400, msg: "Bad parameters [endpoint: This value is not a valid URL.]"},
		{name: "endpoint relative", method: "POST", path: "/qapi/v1/webhooks", body: `{"endpoint": "/hook", "events": ["patient:created"]}`,
			status: 400, msg: "endpoint: This value is not a valid URL."},
		{name: "not JSON", method: "POST", path: "/qapi/v1/webhooks", body: `{"endpoint":`, status: 400, msg: "not valid JSON"},
		{name: "no Api-Key", method: "POST", path: "/qapi/v1/webhooks", key: "none",
			body: `{"endpoint": "https://webhook.site/abc", "events": ["patient:created"]}`, status: 401},
		{name: "revoked key", method: "GET", path: "/qapi/v1/webhooks", key: "revoked", status: 401},

		{name: "list has no keys", method: "GET", path: "/qapi/v1/webhooks", status: 200,
			want: map[string]any{"": length(3), "0.id": "{{hook}}", "0.endpoint": "https://webhook.site/abc",
				"0.events": []string{"appointment:scheduled", "appointment:rescheduled"}, "1.id": "{{hook2}}"},
			absent: []string{"0.encryptionKey", "1.encryptionKey"}},
		{name: "other organisation sees none", method: "GET", path: "/qapi/v1/webhooks", key: "B", status: 200,
			want: map[string]any{"": length(0)}},
		{name: "get single with key", method: "GET", path: "/qapi/v1/webhooks/{{hook}}", status: 200,
			want: map[string]any{"id": "{{hook}}", "endpoint": "https://webhook.site/abc", "encryptionKey": "{{key}}"}},
		{name: "get from other organisation", method: "GET", path: "/qapi/v1/webhooks/{{hook}}", key: "B", status: 404, msg: "Webhook not found"},
		{name: "get unknown", method: "GET", path: "/qapi/v1/webhooks/b20be9ce-eb93-48be-ad56-271ec4b2973c", status: 404, msg: "Webhook not found"},
		{name: "get not a uuid", method: "GET", path: "/qapi/v1/webhooks/12", status: 404},

		{name: "update", method: "PUT", path: "/qapi/v1/webhooks/{{hook}}",
			body:   `{"endpoint": "https://webhook.site/updated/abc", "events": ["appointment:scheduled"]}`,
			status: 200, want: map[string]any{"id": "{{hook}}", "endpoint": "https://webhook.site/updated/abc",
				"events": []string{"appointment:scheduled"}}, absent: []string{"encryptionKey"}},
		{name: "key unchanged by update", method: "GET", path: "/qapi/v1/webhooks/{{hook}}", status: 200,
			want: map[string]any{"encryptionKey": "{{key}}", "endpoint": "https://webhook.site/updated/abc"}},
		{name: "update with bad event", method: "PUT", path: "/qapi/v1/webhooks/{{hook}}",
			body: `{"endpoint": "https://webhook.site/u", "events": ["visit:started"]}`, status: 400, msg: "events[0]: The value you selected is not a valid choice"},
		{name: "update without events", method: "PUT", path: "/qapi/v1/webhooks/{{hook}}",
			body: `{"endpoint": "https://webhook.site/u"}`, status: 400, msg: "events: This value should not be blank."},
		{name: "update of other organisation", method: "PUT", path: "/qapi/v1/webhooks/{{hook}}", key: "B",
			body: `{"endpoint": "https://evil.example/", "events": ["patient:created"]}`, status: 404},

		{name: "delete from other organisation", method: "DELETE", path: "/qapi/v1/webhooks/{{hook}}", key: "B", status: 404},
		{name: "delete deactivates", method: "DELETE", path: "/qapi/v1/webhooks/{{hook}}", status: 204},
		{name: "deleted is gone", method: "GET", path: "/qapi/v1/webhooks/{{hook}}", status: 404, msg: "Webhook not found"},
		{name: "delete again", method: "DELETE", path: "/qapi/v1/webhooks/{{hook}}", status: 404},
		{name: "update deleted", method: "PUT", path: "/qapi/v1/webhooks/{{hook}}",
			body: `{"endpoint": "https://webhook.site/u", "events": ["patient:created"]}`, status: 404},
		{name: "list without deleted", method: "GET", path: "/qapi/v1/webhooks", status: 200,
			want: map[string]any{"": length(2), "0.id": "{{hook2}}"}},
	})
	// Deactivated, not removed: the admin page still lists it.
	all, err := e.st.Webhooks(t.Context(), e.orgA.ID, true)
	if err != nil || len(all) != 3 {
		t.Fatalf("webhooks incl. inactive: %d %v", len(all), err)
	}
	for _, w := range all {
		if w.UUID == e.vars["hook"] && (w.Active || w.DeactivatedAt.IsZero()) {
			t.Errorf("deleted webhook: active %v, deactivated at %v", w.Active, w.DeactivatedAt)
		}
	}
}
