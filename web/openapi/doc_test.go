package openapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestOperationID(t *testing.T) {
	for _, c := range []struct {
		method, pattern string
		skip            []string
		want            string
	}{
		{"GET", "/api/poct/v1/results/{result_id}", []string{"api", "poct", "v1"}, "getResultsResultId"},
		{"POST", "/qapi/v1/patients/HSID/{hsid}/appointments", []string{"qapi", "v1"}, "postPatientsHSIDHsidAppointments"},
		{"GET", "/qapi/v1/openapi.json", []string{"qapi", "v1"}, "getOpenapiJson"},
		{"DELETE", "/api/auth/logout", []string{"api"}, "deleteAuthLogout"},
	} {
		if got := OperationID(c.method, c.pattern, c.skip...); got != c.want {
			t.Errorf("OperationID(%s %s) = %q, want %q", c.method, c.pattern, got, c.want)
		}
	}
}

func TestPathParams(t *testing.T) {
	got := PathParams("/p/{a}/x/{n}", map[string]bool{"n": true})
	want := []Param{
		{Name: "a", In: "path", Required: true, Schema: map[string]any{"type": "string"}},
		{Name: "n", In: "path", Required: true, Schema: map[string]any{"type": "integer"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PathParams = %#v", got)
	}
	if PathParams("/plain", nil) != nil {
		t.Error("a pattern without wildcards has parameters")
	}
}

type inner struct {
	Code string `json:"code"`
}

type wire struct {
	ID      int64             `json:"id"`
	Value   string            `json:"value,omitempty" bound:"value"`
	OK      bool              `json:"ok"`
	Ratio   float64           `json:"ratio"`
	Tags    []string          `json:"tags"`
	Fields  map[string]string `json:"fields"`
	Inner   *inner            `json:"inner"`
	Skipped string            `json:"-"`
	NoTag   string
}

func TestSchemaOf(t *testing.T) {
	got := SchemaOf(reflect.TypeOf(&wire{}), map[string]int{"value": 40}, nil)
	want := map[string]any{"type": "object", "properties": map[string]any{
		"id": map[string]any{"type": "integer"}, "value": map[string]any{"type": "string", "maxLength": 40},
		"ok": map[string]any{"type": "boolean"}, "ratio": map[string]any{"type": "number"},
		"tags":   map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"fields": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
		"inner":  map[string]any{"type": "object", "properties": map[string]any{"code": map[string]any{"type": "string"}}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SchemaOf =\n%#v\nwant\n%#v", got, want)
	}
}

func TestDocument(t *testing.T) {
	ops := []Operation{
		{Method: "GET", Pattern: "/x/{id}", Summary: "Read", ID: "getX", Params: PathParams("/x/{id}", nil),
			Responses: map[string]any{"200": map[string]any{"description": "Success"}, "default": ErrorResponse("Error")}},
		{Method: "POST", Pattern: "/x/{id}", Summary: "Write", ID: "postX", RequestBody: map[string]any{"content": JSONContent(String())},
			Responses: map[string]any{"201": map[string]any{"description": "Created"}}},
		{Method: "GET", Pattern: "/doc", Summary: "The document", ID: "getDoc", Public: true, Responses: map[string]any{}},
	}
	doc := Document(Info{Title: "T", Version: "1", Description: "D"}, ops, "key", map[string]any{})
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		OpenAPI  string                               `json:"openapi"`
		Security []map[string][]string                `json:"security"`
		Paths    map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.OpenAPI != "3.1.0" || len(back.Security) != 1 || back.Security[0]["key"] == nil {
		t.Errorf("head: %s", b)
	}
	x := back.Paths["/x/{id}"]
	if x["get"]["operationId"] != "getX" || x["post"]["requestBody"] == nil || x["get"]["parameters"] == nil || x["post"]["parameters"] != nil {
		t.Errorf("/x/{id}: %v", x)
	}
	if sec, ok := back.Paths["/doc"]["get"]["security"].([]any); !ok || len(sec) != 0 {
		t.Errorf("public operation's security: %v", back.Paths["/doc"]["get"]["security"])
	}
	if _, ok := x["get"]["security"]; ok {
		t.Error("a secured operation overrides the document's security")
	}
}

func TestHandler(t *testing.T) {
	h := Handler(func() map[string]any { return map[string]any{"openapi": "3.1.0"} }, func(w http.ResponseWriter, _ *http.Request, err error) {
		t.Fatal(err)
	})
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || rec.Body.String() != "{\n  \"openapi\": \"3.1.0\"\n}" {
		t.Errorf("%d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	failed := false
	bad := Handler(func() map[string]any { return map[string]any{"x": func() {}} }, func(w http.ResponseWriter, _ *http.Request, err error) {
		failed = true
		w.WriteHeader(500)
	})
	rec = httptest.NewRecorder()
	bad(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if !failed || rec.Code != 500 {
		t.Errorf("an unencodable document: failed=%v %d", failed, rec.Code)
	}
}

func TestSchemaOfUnknownBound(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("an unknown bound did not panic")
		}
	}()
	SchemaOf(reflect.TypeOf(wire{}), nil, nil)
}

type tagged struct {
	Names    []string `json:"names" bound:"name"`
	Duration int      `json:"duration" range:"duration"`
	Day      string   `json:"day" format:"date"`
	Kind     *string  `json:"kind" enum:"kind"`
	Secret   string   `json:"secret" bound:"secret"`
}

// A bound on a list of strings bounds each item; a range documents
// minimum and maximum from bounds' name.min and name.max; a format is
// copied; an enum lists its values; a bound with name.min also states a
// minLength; a range or an enum not given panics like an unknown bound.
func TestSchemaOfTags(t *testing.T) {
	bounds := map[string]int{"name": 10, "duration.min": 1, "duration.max": 86400, "secret": 200, "secret.min": 8}
	enums := map[string][]string{"kind": {"a", "b"}}
	got := SchemaOf(reflect.TypeOf(tagged{}), bounds, enums)
	want := map[string]any{"type": "object", "properties": map[string]any{
		"names":    map[string]any{"type": "array", "items": map[string]any{"type": "string", "maxLength": 10}},
		"duration": map[string]any{"type": "integer", "minimum": 1, "maximum": 86400},
		"day":      map[string]any{"type": "string", "format": "date"},
		"kind":     map[string]any{"type": "string", "enum": []string{"a", "b"}},
		"secret":   map[string]any{"type": "string", "maxLength": 200, "minLength": 8},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SchemaOf =\n%#v\nwant\n%#v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("an unknown range did not panic")
		}
	}()
	SchemaOf(reflect.TypeOf(tagged{}), map[string]int{"name": 10, "secret": 200}, enums)
}

func TestSchemaOfUnknownEnum(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("an unknown enum did not panic")
		}
	}()
	SchemaOf(reflect.TypeOf(tagged{}), map[string]int{"name": 10, "duration.min": 1, "secret": 200}, nil)
}
