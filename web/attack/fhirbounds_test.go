package attack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/fhir"
)

// fhirBounds are the length limits of a FHIR Patient's elements, as the
// README's FHIR section states them: the store's constants, since FHIR has
// no OpenAPI document to carry them.
var fhirBounds = []struct {
	path  string // in the resource: keys and array indexes, dot-separated
	limit int
}{
	{"name.0.family", store.MaxNamePart},
	{"name.0.given.0", store.MaxNamePart},
	{"name.0.given.1", store.MaxNamePart},
	{"identifier.0.value", store.MaxPatientIdentifier}, // MRN
	{"identifier.1.value", store.MaxIDLength},          // the client's id
	{"telecom.0.value", store.MaxShortText},
	{"address.0.line.0", store.MaxShortText},
	{"address.0.city", store.MaxNamePart},
}

// TestFHIRBounds: each documented limit of a FHIR Patient holds on create
// (POST) and update (PUT): a value at the limit is stored, one character
// more is refused with an OperationOutcome and nothing is stored.
func TestFHIRBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.a
	cred := credByName("oauth").h(a, e.b)
	cred.Set("Content-Type", "application/fhir+json")
	base := `{"resourceType":"Patient","identifier":[{"system":"` + fhir.SystemMRN + `","value":"FM-{{n}}"},
{"system":"` + fhir.SystemExternalID + `","value":"FX-{{n}}"}],"name":[{"family":"Fhir","given":["Ann","Beth"]}],
"telecom":[{"system":"phone","value":"+4512345678"}],"address":[{"line":["Street 1"],"city":"Aarhus"}],
"birthDate":"1970-01-01","gender":"female"}`
	// The patient the updates change.
	r := e.must(e.do(req{method: "POST", path: "/fhir/R4/Patient", header: cred, body: []byte(strings.ReplaceAll(base, "{{n}}", "0"))}), 201, "fhir patient")
	id, _ := r.json()["id"].(string)
	n, sent := 0, 0
	body := func(path string, v string) []byte {
		n++
		var doc any
		json.Unmarshal([]byte(strings.ReplaceAll(base, "{{n}}", fmt.Sprint(n))), &doc)
		if !setPath(doc, strings.Split(path, "."), v) {
			t.Fatalf("the base resource has no %s", path)
		}
		b, _ := json.Marshal(doc)
		return b
	}
	for _, method := range []string{"POST", "PUT"} {
		target := "/fhir/R4/Patient"
		if method == "PUT" {
			target += "/" + id
		}
		for _, b := range fhirBounds {
			where := fmt.Sprintf("%s Patient %s (%d characters)", method, b.path, b.limit)
			doc := body(b.path, text(b.limit, n+1, ""))
			if method == "PUT" {
				doc = []byte(strings.Replace(string(doc), `"resourceType":"Patient"`, `"resourceType":"Patient","id":"`+id+`"`, 1))
			}
			sent++
			if r := e.do(req{method: method, path: target, header: cred, body: doc}); r.status != 200 && r.status != 201 {
				t.Errorf("%s: the limit itself refused: %d %.300s", where, r.status, r.body)
			}
			doc = body(b.path, text(b.limit+1, n+1, ""))
			if method == "PUT" {
				doc = []byte(strings.Replace(string(doc), `"resourceType":"Patient"`, `"resourceType":"Patient","id":"`+id+`"`, 1))
			}
			before, snap := withoutAudit(e.countsFast()), withoutAudit(e.snapshot(a.org.ID))
			sent++
			r := e.do(req{method: method, path: target, header: cred, body: doc})
			if r.status < 400 || r.status > 499 {
				t.Errorf("%s: one more answered %d, want a 4xx: %.300s", where, r.status, r.body)
			} else if msg := operationOutcome(r); msg != "" {
				t.Errorf("%s: %s: %.300s", where, msg, r.body)
			}
			if after := withoutAudit(e.countsFast()); !equalCounts(before, after) {
				t.Errorf("%s: one more stored something: %v", where, diff(before, after))
			} else if d := diff(snap, withoutAudit(e.snapshot(a.org.ID))); len(d) > 0 {
				t.Errorf("%s: one more changed rows:\n%s", where, strings.Join(d, "\n"))
			}
		}
	}
	t.Logf("FHIR bounds: %d limits on create and update, %d requests", len(fhirBounds), sent)
}
