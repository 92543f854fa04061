package poct

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

var wildcardRE = regexp.MustCompile(`\{([^}]+)\}`)

// queryParams documents the query parameters of the routes that have them.
var queryParams = map[string][]string{
	"GET /api/poct/v1/patients":                             {"identifier", "q", "limit", "cursor"},
	"GET /api/poct/v1/encounters":                           {"patient", "station", "open", "from", "to", "limit", "cursor"},
	"GET /api/poct/v1/orders":                               {"patient", "encounter", "state", "limit", "cursor"},
	"GET /api/poct/v1/results":                              {"patient", "encounter", "device", "analyte", "from", "to", "all_versions", "limit", "cursor"},
	"GET /api/poct/v1/qc/runs":                              {"device", "analyte", "lot", "level", "status", "limit", "cursor"},
	"GET /api/poct/v1/qc/targets":                           {"device"},
	"POST /api/poct/v1/encounters/{encounter_id}/documents": {"filename", "title"},
}

var paramDocs = map[string]string{
	"identifier":   "Any patient identifier: MRN, national id, the client's id",
	"q":            "Words matching the start of a name or identifier",
	"limit":        "Page size, 1..1000 (default 100)",
	"cursor":       "next_cursor of the previous page",
	"patient":      "A patient id",
	"encounter":    "An encounter id",
	"device":       "A device id",
	"station":      "Instrument station (walk-ins opened there)",
	"open":         "true: only encounters neither finished nor cancelled",
	"from":         "RFC 3339; results measured (else stored) at or after",
	"to":           "RFC 3339; before",
	"analyte":      "The device's code, exactly as sent",
	"all_versions": "true: include versions replaced by a correction",
	"state":        "ordered, partial or resulted",
	"status":       "accepted, warning, rejected or not-evaluated",
	"lot":          "Control lot",
	"level":        "Control level",
	"filename":     "The document's file name",
	"title":        "What the document is",
}

// bodies names the request and answer schemas of routes (by wire type).
var bodies = map[string][2]any{
	"POST /api/poct/v1/patients":                            {patientInput{}, patientJSON{}},
	"GET /api/poct/v1/patients/{patient_id}":                {nil, patientJSON{}},
	"GET /api/poct/v1/patients":                             {nil, page[patientJSON]{}},
	"POST /api/poct/v1/encounters":                          {walkInInput{}, encounterJSON{}},
	"GET /api/poct/v1/encounters":                           {nil, page[encounterJSON]{}},
	"GET /api/poct/v1/encounters/{encounter_id}":            {nil, encounterJSON{}},
	"POST /api/poct/v1/encounters/{encounter_id}/complete":  {nil, encounterJSON{}},
	"GET /api/poct/v1/encounters/{encounter_id}/documents":  {nil, page[documentJSON]{}},
	"POST /api/poct/v1/encounters/{encounter_id}/documents": {nil, documentJSON{}},
	"POST /api/poct/v1/orders":                              {orderInput{}, orderJSON{}},
	"GET /api/poct/v1/orders":                               {nil, page[orderJSON]{}},
	"GET /api/poct/v1/orders/{order_id}":                    {nil, orderJSON{}},
	"GET /api/poct/v1/results":                              {nil, page[resultJSON]{}},
	"GET /api/poct/v1/results/{result_id}":                  {nil, resultJSON{}},
	"GET /api/poct/v1/results/{result_id}/versions":         {nil, page[resultJSON]{}},
	"POST /api/poct/v1/results/{result_id}/corrections":     {correctionInput{}, resultJSON{}},
	"GET /api/poct/v1/devices":                              {nil, page[deviceJSON]{}},
	"GET /api/poct/v1/devices/{device_id}":                  {nil, deviceJSON{}},
	"GET /api/poct/v1/qc/runs":                              {nil, page[qcRunJSON]{}},
	"POST /api/poct/v1/qc/runs":                             {qcRunInput{}, qcRunJSON{}},
	"GET /api/poct/v1/qc/targets":                           {nil, page[qcTargetJSON]{}},
	"PUT /api/poct/v1/qc/targets":                           {qcTargetJSON{}, qcTargetJSON{}},
	"GET /api/poct/v1/webhooks":                             {nil, page[webhookJSON]{}},
	"POST /api/poct/v1/webhooks":                            {webhookInput{}, webhookJSON{}},
}

// schemaOf describes a wire type from its JSON tags: the document cannot
// drift from what the handlers encode.
func schemaOf(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			sc := schemaOf(f.Type)
			// `bound:"namePart"`: the store's limit (store.Bounds), so the
			// document states the constant that is enforced.
			if b := f.Tag.Get("bound"); b != "" {
				max, ok := store.Bounds[b]
				if !ok {
					panic("poct: unknown bound " + b + " on " + t.Name() + "." + f.Name)
				}
				sc["maxLength"] = max
			}
			props[name] = sc
		}
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

func successStatus(method, pattern string) string {
	switch {
	case method == "DELETE":
		return "204"
	case method == "POST" && !strings.HasSuffix(pattern, "/complete"):
		return "201"
	}
	return "200"
}

// OpenAPI builds the OpenAPI 3.1 document of the route table.
func (h *Handler) OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	errResp := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	for _, rt := range h.Routes() {
		key := rt.Method + " " + rt.Pattern
		var params []map[string]any
		for _, m := range wildcardRE.FindAllStringSubmatch(rt.Pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range queryParams[key] {
			params = append(params, map[string]any{"name": q, "in": "query", "description": paramDocs[q], "schema": map[string]any{"type": "string"}})
		}
		ok := map[string]any{"description": "Success"}
		b := bodies[key]
		if b[1] != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(b[1]))}}
		}
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt),
			"responses":   map[string]any{successStatus(rt.Method, rt.Pattern): ok, "default": errResp},
		}
		if b[0] != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{
				"schema": schemaOf(reflect.TypeOf(b[0]))}}}
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
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "Clinicbox point-of-care results API",
			"version": "1",
			"description": "Patients, encounters, orders, results, devices and fleet status, QC, documents and webhooks. " +
				"Values, units, ranges, statuses and flags are the strings the analyser sent; nothing is interpreted and " +
				"no clinical alert is raised. Errors are {\"error\":{\"code\",\"message\",\"fields\"}}.",
		},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}},
		"webhooks": map[string]any{"result.created": map[string]any{"post": map[string]any{
			"summary": "A result was stored (also result.updated, order.updated, device.status_changed, qc.failed); signed with X-Clinicbox-Signature",
			"requestBody": map[string]any{"content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"type": "object", "properties": map[string]any{
					"event": map[string]any{"type": "string"}, "id": map[string]any{"type": "string"},
					"created_at": map[string]any{"type": "string"}, "result": schemaOf(reflect.TypeOf(resultJSON{}))}}}}},
			"responses": map[string]any{"2XX": map[string]any{"description": "Received"}}}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "A token issued in the admin pages or by clinicbox client create --kind poct"}},
			"schemas": map[string]any{"Error": schemaOf(reflect.TypeOf(errorBody{}))},
		},
	}
}

func operationID(rt httpx.Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.FieldsFunc(rt.Pattern, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '-' || r == '_' || r == '.' }) {
		if part == "api" || part == "poct" || part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// openAPI: GET /api/poct/v1/openapi.json.
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := json.MarshalIndent(h.OpenAPI(), "", "  ")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
