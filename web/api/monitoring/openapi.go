package monitoring

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

type param struct {
	Name        string         `json:"name"`
	In          string         `json:"in"`
	Required    bool           `json:"required,omitempty"`
	Description string         `json:"description,omitempty"`
	Schema      map[string]any `json:"schema"`
}

func str() map[string]any { return map[string]any{"type": "string"} }

func query(name, desc string) param {
	return param{Name: name, In: "query", Description: desc, Schema: str()}
}

var (
	limitParamDoc  = param{Name: "limit", In: "query", Description: "Page size", Schema: map[string]any{"type": "integer", "minimum": 1}}
	cursorParamDoc = query("cursor", "nextCursor of the previous page")
)

// queryParams documents the query parameters of the routes that have them.
var queryParams = map[string][]param{
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

// successStatuses are the routes that do not answer 200.
var successStatuses = map[string]string{
	"POST /api/patients":                      "201",
	"POST /api/observations":                  "201",
	"POST /api/metric-definitions":            "201",
	"POST /api/enrollments":                   "201",
	"POST /api/enrollments/{id}/time-entries": "201",
	"POST /api/auth/logout":                   "204",
}

var wildcardRE = regexp.MustCompile(`\{([^}]+)\}`)

// OpenAPI builds the OpenAPI 3.1 document of the route table.
func (h *Handler) OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	errorResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	}
	for _, rt := range h.table() {
		key := rt.Method + " " + rt.Pattern
		var params []param
		for _, m := range wildcardRE.FindAllStringSubmatch(rt.Pattern, -1) {
			params = append(params, param{Name: m[1], In: "path", Required: true, Schema: str()})
		}
		params = append(params, queryParams[key]...)
		status := successStatuses[key]
		if status == "" {
			status = "200"
		}
		ok := map[string]any{"description": "Success"}
		if key == "GET /api/billing/export/{orgId}/{month}" {
			ok["content"] = map[string]any{"text/csv": map[string]any{"schema": str()}}
		} else if status != "204" {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		}
		responses := map[string]any{status: ok, "400": errorResp("Invalid input"), "default": errorResp("Error")}
		if key == "POST /api/observations" {
			responses["200"] = map[string]any{"description": "The same reading was stored before; answered again, nothing changed"}
		}
		op := map[string]any{"summary": rt.Summary, "operationId": operationID(rt), "responses": responses}
		switch rt.Access {
		case Public:
			op["security"] = []any{}
		case BearerOnly:
			op["security"] = []any{map[string]any{"bearerAuth": []any{}}}
			responses["401"] = errorResp("Missing, invalid or expired access token")
		case Organisation:
			params = append(params, param{Name: "X-Organization-ID", In: "header", Required: true,
				Description: "The organisation acted in (org_…); you must be a member", Schema: str()})
			responses["401"] = errorResp("Missing, invalid or expired access token")
			responses["403"] = errorResp("Not a member of the organisation")
			responses["429"] = errorResp("The organisation's rate limit is used up; see Retry-After")
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Method == "POST" || rt.Method == "PUT" {
			op["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
		}
		if paths[rt.Pattern] == nil {
			paths[rt.Pattern] = map[string]any{}
		}
		paths[rt.Pattern][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "Clinicbox remote monitoring API",
			"version": "1",
			"description": "The remote patient monitoring face of Clinicbox (VitalEdge API compatible). Sign in with " +
				"POST /api/auth/login, send the access token as Authorization: Bearer and the organisation as " +
				"X-Organization-ID. Errors are {\"error\":{\"code\":\"...\",\"message\":\"...\"}}.",
		},
		"paths":    paths,
		"security": []any{map[string]any{"bearerAuth": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearerAuth": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
			"schemas": map[string]any{"Error": map[string]any{
				"type":     "object",
				"required": []string{"error"},
				"properties": map[string]any{"error": map[string]any{
					"type": "object", "required": []string{"code", "message"},
					"properties": map[string]any{
						"code":    map[string]any{"type": "string", "enum": errorCodes},
						"message": str(),
						"fields":  map[string]any{"type": "object", "additionalProperties": str()},
					},
				}},
			}},
		},
	}
}

var errorCodes = []string{codeBadRequest, codeValidation, codeMissingOrg, codeUnauthorized, codeTokenExpired,
	codeBadCredentials, codeBadMFA, codeTokenReused, codeForbidden, codeOrgForbidden, codeMFAEnrol, codeNotFound,
	codeConflict, codeTooLarge, codeRateLimited, codeLocked, codeInternal}

func operationID(rt Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.FieldsFunc(rt.Pattern, func(r rune) bool { return strings.ContainsRune("/{}-_.", r) }) {
		if part == "api" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// openAPI: GET /api/openapi.json.
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := json.MarshalIndent(h.OpenAPI(), "", "  ")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
