package telehealth

import (
	"net/http"
	"strings"

	"github.com/clinicbox/clinicbox/web/openapi"
)

// queryParams documents the query parameters of the routes that have them
// (keyed "METHOD pattern"); path parameters come from the pattern itself.
var queryParams = map[string][]openapi.Param{
	"GET /qapi/v1/appointment-slots": {
		{Name: "after", In: "query", Required: true, Description: "Start of the range (unix timestamp)", Schema: map[string]any{"type": "integer"}},
		{Name: "before", In: "query", Required: true, Description: "End of the range (unix timestamp); at most 31 days after after", Schema: map[string]any{"type": "integer"}},
		{Name: "waitingRoom", In: "query", Required: true, Description: "Waiting room name", Schema: map[string]any{"type": "string"}},
		{Name: "duration", In: "query", Description: "Slot length in seconds, 1..86400 (default: the room's)", Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": 86400}},
	},
	"POST /qapi/v1/appointments/{appointmentId}/attachments": {
		{Name: "fileName", In: "query", Description: "File name shown in the UI", Schema: map[string]any{"type": "string"}},
	},
}

// integerParams are path parameters that are integers.
var integerParams = map[string]bool{"solo_patient_id": true, "solo_appointment_id": true}

// successStatuses are the success statuses of the routes that do not
// answer 200 (see API_NOTES.md); others are documented as "2XX" unless
// listed here.
var successStatuses = map[string]string{
	"POST /qapi/v1/patients":                                                   "201",
	"POST /qapi/v1/patients/{patient_id}/documents":                            "201",
	"POST /qapi/v1/patients/{patient_id}/appointments":                         "201",
	"POST /qapi/v1/patients/HSID/{hsid}/appointments":                          "201",
	"POST /qapi/v1/patients/id/type/SPID/value/{solo_patient_id}/appointments": "201",
	"POST /qapi/v1/appointments/{appointmentId}/attachments":                   "201",
	"DELETE /qapi/v1/appointments/{appointmentId}/attachments/{attachmentId}":  "204",
	"POST /qapi/v1/patients/{patient_id}/episodes":                             "201",
}

// successStatus is the status a route answers on success.
func successStatus(method, pattern string) string {
	if s, ok := successStatuses[method+" "+pattern]; ok {
		return s
	}
	if method == "GET" || method == "PUT" {
		return "200"
	}
	return "2XX"
}

// OpenAPI builds the OpenAPI 3.1 document of the route table.
func (h *Handler) OpenAPI() map[string]any {
	var ops []openapi.Operation
	for _, rt := range h.Routes() {
		ops = append(ops, openapi.Operation{Method: rt.Method, Pattern: rt.Pattern, Summary: rt.Summary, Public: rt.Public,
			ID:     openapi.OperationID(rt.Method, rt.Pattern, "qapi", "v1"),
			Params: append(openapi.PathParams(rt.Pattern, integerParams), queryParams[rt.Method+" "+rt.Pattern]...),
			Responses: map[string]any{
				successStatus(rt.Method, rt.Pattern): map[string]any{"description": "Success"},
				"default":                            openapi.ErrorResponse("Error"),
			}})
	}
	schemas := map[string]any{"Error": map[string]any{
		"type":     "object",
		"required": []string{"error"},
		"properties": map[string]any{"error": map[string]any{
			"type": "object", "required": []string{"message"},
			"properties": map[string]any{"message": openapi.String()},
		}},
	}}
	hooks, hookSchemas := webhookDocs()
	for name, sc := range hookSchemas {
		schemas[name] = sc
	}
	doc := openapi.Document(openapi.Info{
		Title:       "Clinicbox telehealth API",
		Version:     "1",
		Description: "The telehealth REST face of Clinicbox (Solo External API compatible). Errors are {\"error\":{\"message\":\"...\"}}.",
	}, ops, "ApiKey", map[string]any{
		"securitySchemes": map[string]any{"ApiKey": map[string]any{"type": "apiKey", "in": "header", "name": "Api-Key"}},
		"schemas":         schemas,
	})
	doc["webhooks"] = hooks
	if h.publicURL != "" {
		doc["servers"] = []any{map[string]any{"url": strings.TrimRight(h.publicURL, "/")}}
	}
	return doc
}

// openAPI: GET /qapi/v1/openapi.json (no Api-Key needed).
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	openapi.Handler(h.OpenAPI, h.fail)(w, r)
}
