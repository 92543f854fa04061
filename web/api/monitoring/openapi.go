package monitoring

import (
	"net/http"
	"reflect"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/openapi"
)

var (
	limitParamDoc  = openapi.Param{Name: "limit", In: "query", Description: "Page size", Schema: map[string]any{"type": "integer", "minimum": 1}}
	cursorParamDoc = query("cursor", "nextCursor of the previous page")
	query          = openapi.Query
)

// queryParams documents the query parameters of the routes that have them.
var queryParams = map[string][]openapi.Param{
	"GET /api/patients": {query("search", "Words, each the start of a name or an identifier (MRN, ...)"),
		query("active", "true or false"), query("program", "Only patients enrolled in RPM, RTM or CCM"), limitParamDoc, cursorParamDoc},
	"GET /api/observations": {query("patientId", "patient_…"), query("metricDefinitionId", "metric_…"),
		query("source", "DEVICE, MANUAL or PATIENT_REPORTED"), query("from", "RFC 3339; recordedAt at or after"),
		query("to", "RFC 3339; recordedAt before"), limitParamDoc, cursorParamDoc},
	"GET /api/observations/patient/{patientId}": {query("metricDefinitionId", "metric_…"),
		query("source", "DEVICE, MANUAL or PATIENT_REPORTED"), query("from", "RFC 3339"), query("to", "RFC 3339"), limitParamDoc, cursorParamDoc},
	"GET /api/enrollments": {query("patientId", "patient_…"), query("program", "RPM, RTM or CCM"),
		query("status", "ACTIVE, PAUSED or ENDED"), limitParamDoc, cursorParamDoc},
	"GET /api/enrollments/{id}/time-entries": {query("month", "YYYY-MM")},
	"GET /api/alerts": {query("status", "OPEN or RESOLVED"), query("severity", "CRITICAL, HIGH, MEDIUM or LOW"),
		query("patientId", "patient_…"), query("enrollmentId", "enr_…"), limitParamDoc, cursorParamDoc},
	"GET /api/alerts/triage": {limitParamDoc},
}

// requestBodies are the JSON bodies of the writes, by wire type: their
// schemas carry the store's bounds (store.Bounds), which web/attack's
// TestDocumentedBounds proves are the ones enforced.
var requestBodies = map[string]any{
	"POST /api/auth/login":                    loginRequest{},
	"POST /api/auth/mfa/verify":               mfaVerifyRequest{},
	"POST /api/auth/refresh":                  refreshRequest{},
	"POST /api/patients":                      patientInput{},
	"PUT /api/patients/{id}":                  patientInput{},
	"POST /api/observations":                  observationDoc{},
	"POST /api/metric-definitions":            metricInput{},
	"POST /api/enrollments":                   enrollmentInput{},
	"PUT /api/enrollments/{id}":               enrollmentInput{},
	"POST /api/enrollments/{id}/time-entries": timeInput{},
	"POST /api/alerts/{id}/resolve":           resolveInput{},
	"POST /api/alerts/bulk-resolve":           bulkResolveInput{},
}

// observationDoc documents observationInput, whose value is kept raw to
// word its own errors: a number, or {"systolic","diastolic"} for blood
// pressure.
type observationDoc struct {
	PatientID          string `json:"patientId"`
	MetricDefinitionID string `json:"metricDefinitionId"`
	Value              any    `json:"value"`
	Unit               string `json:"unit"`
	Source             string `json:"source"`
	DeviceID           string `json:"deviceId"`
	RecordedAt         string `json:"recordedAt" format:"date-time"`
}

// successStatuses are the routes that do not answer 200.
var successStatuses = map[string]string{
	"POST /api/patients":                      "201",
	"POST /api/observations":                  "201",
	"POST /api/metric-definitions":            "201",
	"POST /api/enrollments":                   "201",
	"POST /api/enrollments/{id}/time-entries": "201",
	"POST /api/auth/logout":                   "204",
}

// OpenAPI builds the OpenAPI 3.1 document of the route table.
func (h *Handler) OpenAPI() map[string]any {
	var ops []openapi.Operation
	for _, rt := range h.table() {
		key := rt.Method + " " + rt.Pattern
		params := append(openapi.PathParams(rt.Pattern, nil), queryParams[key]...)
		status := successStatuses[key]
		if status == "" {
			status = "200"
		}
		ok := map[string]any{"description": "Success"}
		if key == "GET /api/billing/export/{orgId}/{month}" {
			ok["content"] = map[string]any{"text/csv": map[string]any{"schema": openapi.String()}}
		} else if status != "204" {
			ok["content"] = openapi.JSONContent(map[string]any{"type": "object"})
		}
		responses := map[string]any{status: ok, "400": openapi.ErrorResponse("Invalid input"), "default": openapi.ErrorResponse("Error")}
		if key == "POST /api/observations" {
			responses["200"] = map[string]any{"description": "The same reading was stored before; answered again, nothing changed"}
		}
		switch rt.Access {
		case BearerOnly:
			responses["401"] = openapi.ErrorResponse("Missing, invalid or expired access token")
		case Organisation:
			params = append(params, openapi.Param{Name: "X-Organization-ID", In: "header", Required: true,
				Description: "The organisation acted in (org_…); you must be a member", Schema: openapi.String()})
			responses["401"] = openapi.ErrorResponse("Missing, invalid or expired access token")
			responses["403"] = openapi.ErrorResponse("Not a member of the organisation")
			responses["429"] = openapi.ErrorResponse("The organisation's rate limit is used up; see Retry-After")
		}
		op := openapi.Operation{Method: rt.Method, Pattern: rt.Pattern, Summary: rt.Summary, Public: rt.Access == Public,
			ID: openapi.OperationID(rt.Method, rt.Pattern, "api"), Params: params, Responses: responses}
		if b := requestBodies[key]; b != nil {
			op.RequestBody = map[string]any{"required": true, "content": openapi.JSONContent(openapi.SchemaOf(reflect.TypeOf(b), store.Bounds, store.Enums))}
		} else if rt.Method == "POST" || rt.Method == "PUT" {
			op.RequestBody = map[string]any{"content": openapi.JSONContent(map[string]any{"type": "object"})}
		}
		ops = append(ops, op)
	}
	return openapi.Document(openapi.Info{
		Title:   "Clinicbox remote monitoring API",
		Version: "1",
		Description: "The remote patient monitoring face of Clinicbox (VitalEdge API compatible). Sign in with " +
			"POST /api/auth/login, send the access token as Authorization: Bearer and the organisation as " +
			"X-Organization-ID. Errors are {\"error\":{\"code\":\"...\",\"message\":\"...\"}}.",
	}, ops, "bearerAuth", map[string]any{
		"securitySchemes": map[string]any{"bearerAuth": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
		"schemas": map[string]any{"Error": map[string]any{
			"type":     "object",
			"required": []string{"error"},
			"properties": map[string]any{"error": map[string]any{
				"type": "object", "required": []string{"code", "message"},
				"properties": map[string]any{
					"code":    map[string]any{"type": "string", "enum": errorCodes},
					"message": openapi.String(),
					"fields":  map[string]any{"type": "object", "additionalProperties": openapi.String()},
				},
			}},
		}},
	})
}

var errorCodes = []string{codeBadRequest, codeValidation, codeMissingOrg, codeUnauthorized, codeTokenExpired,
	codeBadCredentials, codeBadMFA, codeTokenReused, codeForbidden, codeOrgForbidden, codeMFAEnrol, codeNotFound,
	codeConflict, codeTooLarge, codeRateLimited, codeLocked, codeInternal}

// openAPI: GET /api/openapi.json.
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	openapi.Handler(h.OpenAPI, h.fail)(w, r)
}
