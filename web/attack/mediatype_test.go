package attack

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/web/httpx"
)

// faceOf names the face (its error shape in shapes) that serves an API
// pattern.
func faceOf(pattern string) string {
	switch {
	case strings.HasPrefix(pattern, "/qapi/"), strings.HasPrefix(pattern, "/integrations/"):
		return "telehealth"
	case strings.HasPrefix(pattern, "/api/v1/"):
		return "instrument"
	case strings.HasPrefix(pattern, "/api/poct/"):
		return "poct"
	case strings.HasPrefix(pattern, "/api/kv/"), strings.HasPrefix(pattern, "/api/reports/"), strings.HasPrefix(pattern, "/api/events/"):
		return "kv"
	case strings.HasPrefix(pattern, "/fhir/"):
		return "fhir"
	case strings.HasPrefix(pattern, "/api/"):
		return "monitoring"
	}
	return "page"
}

// notJSON are the API writes whose body is not a JSON document, and what
// they take instead; every other API write must refuse a body that is not
// sent as JSON.
var notJSON = map[string]string{
	"POST /qapi/v1/appointments/{appointmentId}/attachments": "the file as the raw body, of its own type",
	"POST /api/poct/v1/encounters/{encounter_id}/documents":  "the file as the raw body, of a documented type (TestDocumentTypes)",
	"POST /api/poct/v1/encounters/{encounter_id}/complete":   "no body",
	"PUT /api/kv/v1/{namespace}/{key...}":                    "a JSON value or bytes of any other type, stored with their Content-Type",
	"POST /fhir/R4/auth/token":                               "an OAuth 2.0 token request: a form (RFC 6749)",
	"POST /fhir/R4/Patient/_search":                          "FHIR search by POST: the parameters as a form",
	"POST /fhir/R4/Observation/_search":                      "FHIR search by POST: the parameters as a form",
	"POST /fhir/R4/Encounter/_search":                        "FHIR search by POST: the parameters as a form",
	"POST /fhir/R4/Appointment/_search":                      "FHIR search by POST: the parameters as a form",
	"POST /api/auth/logout":                                  "no body (the token is in the header)",
}

// plainMessage are the routes whose spec gives errors as {"message":"..."}.
var plainMessage = map[string]bool{
	"POST /qapi/v1/request-assistance": true,
}

func plainMessageShape(r resp) string {
	var b struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(r.body, &b) != nil || b.Message == "" {
		return "no message"
	}
	return ""
}

// TestMediaTypes: every API write of every face, as web.Build serves it,
// sent with its own organisation's credential and a well-formed JSON body
// but with no Content-Type, as text/plain or as a form, answers 415 in
// the face's error shape and stores nothing. FHIR takes
// application/fhir+json as well as application/json. The route list is
// web.Build's: a new JSON route is covered without a line here.
func TestMediaTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.a, e.b
	a.ids["orgUUID"], b.ids["orgUUID"] = a.org.UUID, b.org.UUID
	a.ids["enrollmentUUID"] = strings.TrimPrefix(a.ids["enrollment"], "enr_")
	tried, routes := 0, 0
	before, snap := withoutAudit(e.countsFast()), withoutAudit(e.snapshot(a.org.ID))
	// Routes that end the caller's session go last, so a refusal that
	// fails to refuse cannot sign the rest out.
	ordered := slices.Clone(e.routes)
	slices.SortStableFunc(ordered, func(x, y httpx.Route) int {
		return cmp.Compare(b2i(last(x.Pattern)), b2i(last(y.Pattern)))
	})
	for _, rt := range ordered {
		if !isAPI(rt.Pattern) || !slices.Contains([]string{"POST", "PUT", "PATCH"}, rt.Method) {
			continue
		}
		if why := notJSON[rt.Key()]; why != "" {
			continue
		}
		routes++
		path, missing, _, _ := fillPath(rt.Pattern, a)
		if len(missing) > 0 {
			t.Errorf("%s: no fill for %v", rt.Key(), missing)
			continue
		}
		_, body := body(rt.Pattern, a)
		for _, ctype := range []string{"", "text/plain", "application/x-www-form-urlencoded", "text/plain; charset=utf-8", "multipart/form-data; boundary=x"} {
			h := credByName(natural(rt.Pattern)).h(a, b)
			if ctype != "" {
				h.Set("Content-Type", ctype)
			}
			r := e.do(req{method: rt.Method, path: path, header: h, body: body})
			tried++
			where := fmt.Sprintf("%s as %q", rt.Key(), ctype)
			if r.status != 415 {
				t.Errorf("%s: %d, want 415: %.200s", where, r.status, r.body)
			} else if msg := shapeOf(rt)(r); msg != "" {
				t.Errorf("%s: not the %s error shape (%s): %.200s", where, faceOf(rt.Pattern), msg, r.body)
			}
			if after := withoutAudit(e.countsFast()); !equalCounts(before, after) {
				t.Errorf("%s: stored something: %v", where, diff(before, after))
				before = after
			}
		}
	}
	if d := diff(snap, withoutAudit(e.snapshot(a.org.ID))); len(d) > 0 {
		t.Errorf("refused requests changed the organisation's rows:\n%s", strings.Join(d, "\n"))
	}
	// Control, after the refusals (it may store and sign out): the same
	// requests sent as JSON are not refused for their type, so the 415s
	// above are about the type, not a route that refuses everything.
	seen := map[string]bool{}
	for _, rt := range ordered {
		seen[rt.Key()] = true
		if !isAPI(rt.Pattern) || !slices.Contains([]string{"POST", "PUT", "PATCH"}, rt.Method) || notJSON[rt.Key()] != "" {
			continue
		}
		path, _, _, _ := fillPath(rt.Pattern, a)
		_, body := body(rt.Pattern, a)
		ctypes := []string{"application/json", "application/json; charset=utf-8"}
		if faceOf(rt.Pattern) == "fhir" {
			ctypes = append(ctypes, "application/fhir+json")
		}
		for _, ctype := range ctypes {
			h := credByName(natural(rt.Pattern)).h(a, b)
			h.Set("Content-Type", ctype)
			if r := e.do(req{method: rt.Method, path: path, header: h, body: body}); r.status == 415 || r.status >= 500 {
				t.Errorf("control: %s as %q: %d %.200s", rt.Key(), ctype, r.status, r.body)
			}
		}
	}
	for k := range notJSON {
		if !seen[k] {
			t.Errorf("notJSON names %s, which web.Build does not serve", k)
		}
	}
	if routes < 40 {
		t.Errorf("only %d JSON writes found in web.Build's routes", routes)
	}
	t.Logf("media types: %d JSON writes × 5 content types = %d requests", routes, tried)
}

func shapeOf(rt httpx.Route) shape {
	if plainMessage[rt.Key()] {
		return plainMessageShape
	}
	return shapes[faceOf(rt.Pattern)]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// withoutAudit leaves out the audit tables: read audits reach audit_log
// (and its read index) from their journal in the background, so rows
// appear there that no request under test wrote. A write's audit row is
// stored in the same transaction as its model rows, so a write that went
// through still shows in the model's tables.
func withoutAudit[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		if !strings.HasPrefix(k, "audit_") {
			out[k] = v
		}
	}
	return out
}
