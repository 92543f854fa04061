package openapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Param is an operation's parameter.
type Param struct {
	Name        string         `json:"name"`
	In          string         `json:"in"` // path, query, header
	Required    bool           `json:"required,omitempty"`
	Description string         `json:"description,omitempty"`
	Schema      map[string]any `json:"schema"`
}

// String is the schema of a string.
func String() map[string]any { return map[string]any{"type": "string"} }

// Query is an optional string query parameter.
func Query(name, desc string) Param {
	return Param{Name: name, In: "query", Description: desc, Schema: String()}
}

var wildcardRE = regexp.MustCompile(`\{([^}]+)\}`)

// PathParams are the pattern's {wildcards}, each a required string, or an
// integer where integer names it.
func PathParams(pattern string, integer map[string]bool) []Param {
	var out []Param
	for _, m := range wildcardRE.FindAllStringSubmatch(pattern, -1) {
		typ := "string"
		if integer[m[1]] {
			typ = "integer"
		}
		out = append(out, Param{Name: m[1], In: "path", Required: true, Schema: map[string]any{"type": typ}})
	}
	return out
}

// OperationID is the method and the pattern's words in camel case
// ("GET /api/poct/v1/results/{result_id}" → getResultsResultId), leaving out
// the words in skip (the API's prefix).
func OperationID(method, pattern string, skip ...string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.FieldsFunc(pattern, func(r rune) bool { return strings.ContainsRune("/{}-_.", r) }) {
		if slices.Contains(skip, part) {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// JSONContent is a body of media type application/json with this schema.
func JSONContent(schema map[string]any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

// ErrorResponse is a response whose body is the document's Error schema.
func ErrorResponse(desc string) map[string]any {
	return map[string]any{"description": desc, "content": JSONContent(map[string]any{"$ref": "#/components/schemas/Error"})}
}

// Operation is one method of a path.
type Operation struct {
	Method, Pattern, Summary string
	ID                       string         // operationId
	Params                   []Param        // path, query and header parameters
	Responses                map[string]any // by status ("200", "2XX", "default")
	RequestBody              map[string]any // nil: none
	Public                   bool           // needs no credentials (security: [])
}

// Info is the document's title, version and description.
type Info struct {
	Title, Version, Description string
}

// Document is the OpenAPI 3.1 document of the operations; security names
// the scheme every operation needs unless it is public, components holds
// the security schemes and schemas.
func Document(info Info, ops []Operation, security string, components map[string]any) map[string]any {
	paths := map[string]map[string]any{}
	for _, o := range ops {
		op := map[string]any{"summary": o.Summary, "operationId": o.ID, "responses": o.Responses}
		if len(o.Params) > 0 {
			op["parameters"] = o.Params
		}
		if o.RequestBody != nil {
			op["requestBody"] = o.RequestBody
		}
		if o.Public {
			op["security"] = []any{}
		}
		if paths[o.Pattern] == nil {
			paths[o.Pattern] = map[string]any{}
		}
		paths[o.Pattern][strings.ToLower(o.Method)] = op
	}
	return map[string]any{
		"openapi":    "3.1.0",
		"info":       map[string]any{"title": info.Title, "version": info.Version, "description": info.Description},
		"paths":      paths,
		"security":   []any{map[string]any{security: []any{}}},
		"components": components,
	}
}

// SchemaOf describes a wire type from its JSON tags, so the document
// cannot drift from what the handlers encode. A string field tagged
// `bound:"name"` gets maxLength bounds[name] (the store's limit, so the
// document states the constant that is enforced; on a []string field each
// item gets it); a bound not in bounds is a programming error and panics.
// A number field tagged `range:"name"` gets minimum bounds["name.min"] and
// maximum bounds["name.max"] (either may be absent, not both), and `format:"date"` (or date-time, uri, email) is copied as the
// schema's format. A bound with a bounds["name.min"] also gets that
// minLength. A string field tagged `enum:"name"` lists enums[name], the
// values the handler or the store accepts (unknown: panics, as a bound).
func SchemaOf(t reflect.Type, bounds map[string]int, enums map[string][]string) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return String()
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": SchemaOf(t.Elem(), bounds, enums)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": SchemaOf(t.Elem(), bounds, enums)}
	case reflect.Struct:
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" { // not on the wire
				continue
			}
			sc := SchemaOf(f.Type, bounds, enums)
			target := sc // where string facets go: the items of a list of strings
			if items, ok := sc["items"].(map[string]any); ok && sc["type"] == "array" {
				target = items
			}
			if b := f.Tag.Get("bound"); b != "" {
				max, ok := bounds[b]
				if !ok {
					panic("openapi: unknown bound " + b + " on " + t.Name() + "." + f.Name)
				}
				target["maxLength"] = max
				if lo, ok := bounds[b+".min"]; ok {
					target["minLength"] = lo
				}
			}
			if en := f.Tag.Get("enum"); en != "" {
				vals, ok := enums[en]
				if !ok {
					panic("openapi: unknown enum " + en + " on " + t.Name() + "." + f.Name)
				}
				target["enum"] = vals
			}
			if rg := f.Tag.Get("range"); rg != "" {
				lo, ok1 := bounds[rg+".min"]
				hi, ok2 := bounds[rg+".max"]
				if !ok1 && !ok2 {
					panic("openapi: unknown range " + rg + " on " + t.Name() + "." + f.Name)
				}
				// A range may state one side only (a value that must be
				// more than 0 has no inclusive minimum).
				if ok1 {
					target["minimum"] = lo
				}
				if ok2 {
					target["maximum"] = hi
				}
			}
			if fm := f.Tag.Get("format"); fm != "" {
				target["format"] = fm
			}
			props[name] = sc
		}
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

// Handler serves the document as indented JSON; fail answers an error in
// the face's own shape.
func Handler(doc func() map[string]any, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := json.MarshalIndent(doc(), "", "  ")
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
}
