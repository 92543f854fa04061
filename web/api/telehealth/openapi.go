package telehealth

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/clinicbox/clinicbox/web/httpx"
)

// queryParams documents the query parameters of the routes that have them
// (keyed "METHOD pattern"); path parameters come from the pattern itself.
var queryParams = map[string][]openAPIParam{
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

type openAPIParam struct {
	Name        string         `json:"name"`
	In          string         `json:"in"`
	Required    bool           `json:"required,omitempty"`
	Description string         `json:"description,omitempty"`
	Schema      map[string]any `json:"schema"`
}

var wildcardRE = regexp.MustCompile(`\{([^}]+)\}`)

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
	paths := map[string]map[string]any{}
	errorResp := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	for _, rt := range h.Routes() {
		var params []openAPIParam
		for _, m := range wildcardRE.FindAllStringSubmatch(rt.Pattern, -1) {
			typ := "string"
			if integerParams[m[1]] {
				typ = "integer"
			}
			params = append(params, openAPIParam{Name: m[1], In: "path", Required: true, Schema: map[string]any{"type": typ}})
		}
		params = append(params, queryParams[rt.Method+" "+rt.Pattern]...)
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt),
			"responses": map[string]any{
				successStatus(rt.Method, rt.Pattern): map[string]any{"description": "Success"},
				"default":                            errorResp,
			},
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Public {
			op["security"] = []any{}
		}
		if paths[rt.Pattern] == nil {
			paths[rt.Pattern] = map[string]any{}
		}
		paths[rt.Pattern][strings.ToLower(rt.Method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Clinicbox telehealth API",
			"version":     "1",
			"description": "The telehealth REST face of Clinicbox (Solo External API compatible). Errors are {\"error\":{\"message\":\"...\"}}.",
		},
		"paths":    paths,
		"security": []any{map[string]any{"ApiKey": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"ApiKey": map[string]any{"type": "apiKey", "in": "header", "name": "Api-Key"}},
			"schemas": map[string]any{"Error": map[string]any{
				"type":     "object",
				"required": []string{"error"},
				"properties": map[string]any{"error": map[string]any{
					"type": "object", "required": []string{"message"},
					"properties": map[string]any{"message": map[string]any{"type": "string"}},
				}},
			}},
		},
	}
	hooks, hookSchemas := webhookDocs()
	doc["webhooks"] = hooks
	for name, sc := range hookSchemas {
		doc["components"].(map[string]any)["schemas"].(map[string]any)[name] = sc
	}
	if h.publicURL != "" {
		doc["servers"] = []any{map[string]any{"url": strings.TrimRight(h.publicURL, "/")}}
	}
	return doc
}

func operationID(rt httpx.Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.FieldsFunc(rt.Pattern, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '-' || r == '_' }) {
		if part == "qapi" || part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// openAPI: GET /qapi/v1/openapi.json (no Api-Key needed).
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := json.MarshalIndent(h.OpenAPI(), "", "  ")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
