package poct

import (
	"net/http"
	"reflect"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/openapi"
)

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
	"state":        "requested (an analyser asked about the sample; no one ordered it here), ordered, partial or resulted",
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
	var ops []openapi.Operation
	for _, rt := range h.Routes() {
		key := rt.Method + " " + rt.Pattern
		params := openapi.PathParams(rt.Pattern, nil)
		for _, q := range queryParams[key] {
			params = append(params, openapi.Query(q, paramDocs[q]))
		}
		ok := map[string]any{"description": "Success"}
		b := bodies[key]
		if b[1] != nil {
			ok["content"] = openapi.JSONContent(openapi.SchemaOf(reflect.TypeOf(b[1]), store.Bounds, store.Enums))
		}
		op := openapi.Operation{Method: rt.Method, Pattern: rt.Pattern, Summary: rt.Summary, Public: rt.Public,
			ID: openapi.OperationID(rt.Method, rt.Pattern, "api", "poct", "v1"), Params: params,
			Responses: map[string]any{successStatus(rt.Method, rt.Pattern): ok, "default": openapi.ErrorResponse("Error")}}
		if b[0] != nil {
			op.RequestBody = map[string]any{"required": true, "content": openapi.JSONContent(openapi.SchemaOf(reflect.TypeOf(b[0]), store.Bounds, store.Enums))}
		}
		ops = append(ops, op)
	}
	doc := openapi.Document(openapi.Info{
		Title:   "Clinicbox point-of-care results API",
		Version: "1",
		Description: "Patients, encounters, orders, results, devices and fleet status, QC, documents and webhooks. " +
			"Values, units, ranges, statuses and flags are the strings the analyser sent; nothing is interpreted and " +
			"no clinical alert is raised. Errors are {\"error\":{\"code\",\"message\",\"fields\"}}.",
	}, ops, "bearer", map[string]any{
		"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
			"description": "A token issued in the admin pages or by clinicbox client create --kind poct"}},
		"schemas": map[string]any{"Error": openapi.SchemaOf(reflect.TypeOf(errorBody{}), store.Bounds, store.Enums)},
	})
	doc["webhooks"] = map[string]any{"result.created": map[string]any{"post": map[string]any{
		"summary": "A result was stored (also result.updated, order.updated, device.status_changed, qc.failed); signed with X-Clinicbox-Signature",
		"requestBody": map[string]any{"content": openapi.JSONContent(map[string]any{"type": "object", "properties": map[string]any{
			"event": openapi.String(), "id": openapi.String(),
			"created_at": openapi.String(), "result": openapi.SchemaOf(reflect.TypeOf(resultJSON{}), store.Bounds, store.Enums)}})},
		"responses": map[string]any{"2XX": map[string]any{"description": "Received"}}}}}
	return doc
}

// openAPI: GET /api/poct/v1/openapi.json.
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	openapi.Handler(h.OpenAPI, h.fail)(w, r)
}
