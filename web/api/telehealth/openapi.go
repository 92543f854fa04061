package telehealth

import (
	"maps"
	"net/http"
	"reflect"
	"strings"

	"github.com/clinicbox/clinicbox/store"
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

// enums are the value lists the writes document (`enum:"name"`): the
// store's, and this face's own.
var enums = func() map[string][]string {
	m := maps.Clone(store.Enums)
	m["consultType"], m["paReason"] = consultTypes, paReasons
	return m
}()

// requestBodies are the JSON bodies of the writes, by wire type: their
// schemas carry the store's bounds (maxLength, minimum, maximum; see
// store.Bounds), which web/attack's TestDocumentedBounds proves are the
// ones enforced.
var requestBodies = map[string]any{
	"POST /qapi/v1/patients":                                                   patientInput{},
	"PUT /qapi/v1/patients/{patient_id}":                                       patientInput{},
	"PUT /qapi/v1/patients/id/type/SPID/value/{solo_patient_id}":               patientInput{},
	"POST /qapi/v1/patients/{patient_id}/documents":                            documentInput{},
	"POST /qapi/v1/patients/{patient_id}/appointments":                         appointmentInput{},
	"POST /qapi/v1/patients/HSID/{hsid}/appointments":                          appointmentInput{},
	"POST /qapi/v1/patients/id/type/SPID/value/{solo_patient_id}/appointments": appointmentInput{},
	"PUT /qapi/v1/appointments/{appointment_id}":                               appointmentInput{},
	"PUT /qapi/v1/appointments/{appointment_id}/visit-note":                    visitNoteInput{},
	"POST /qapi/v1/patients/{patient_id}/episodes":                             episodeInput{},
	"PUT /qapi/v1/episodes/{episode_id}":                                       episodeInput{},
	"PUT /qapi/v1/appointments/{appointment_id}/episode/assign":                assignInput{},
	"POST /qapi/v1/webhooks":                                                   webhookDoc{},
	"PUT /qapi/v1/webhooks/{webhookId}":                                        webhookDoc{},
	"POST /qapi/v1/encounter-report/create":                                    encounterReportInput{},
	"POST /qapi/v1/perfect-answer":                                             perfectAnswerInput{},
	"POST /qapi/v1/request-assistance":                                         assistanceInput{},
}

// webhookDoc documents webhookInput (which keeps events raw to word its
// own errors).
type webhookDoc struct {
	Endpoint string   `json:"endpoint" format:"uri"`
	Events   []string `json:"events"`
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
		op := openapi.Operation{Method: rt.Method, Pattern: rt.Pattern, Summary: rt.Summary, Public: rt.Public,
			ID:     openapi.OperationID(rt.Method, rt.Pattern, "qapi", "v1"),
			Params: append(openapi.PathParams(rt.Pattern, integerParams), queryParams[rt.Method+" "+rt.Pattern]...),
			Responses: map[string]any{
				successStatus(rt.Method, rt.Pattern): map[string]any{"description": "Success"},
				"default":                            openapi.ErrorResponse("Error"),
			}}
		if b := requestBodies[rt.Method+" "+rt.Pattern]; b != nil {
			op.RequestBody = map[string]any{"required": true, "content": openapi.JSONContent(openapi.SchemaOf(reflect.TypeOf(b), store.Bounds, enums))}
		}
		ops = append(ops, op)
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
