package attack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// documents are the faces' OpenAPI documents, by face.
var documents = map[string]string{
	"telehealth": "/qapi/v1/openapi.json",
	"monitoring": "/api/openapi.json",
	"poct":       "/api/poct/v1/openapi.json",
}

// signIns are the writes whose bodies name no one: at the bound a value
// passes the checks and fails the sign-in (401); one past it is refused as
// invalid input (400) before any look-up.
var signIns = map[string]bool{"POST /api/auth/login": true, "POST /api/auth/mfa/verify": true, "POST /api/auth/refresh": true}

// boundBases are bodies the documented writes accept, holding every field
// whose bound the document states; {{n}} is a fresh number per request.
// A documented write with a bound and no base here fails
// TestDocumentedBounds until one is added.
func (e *env) boundBases() map[string]string {
	a := e.a
	when := time.Now().Add(120 * time.Hour).Truncate(time.Hour).Unix()
	name := `{"use":"official","family":"Fam","firstName":"Ann","middleName":"Mid","lastName":"Bee","alias":"Al"}`
	patient := `{"id":"bnd-{{n}}","mrn":"BM-{{n}}","accountNumber":"AC-{{n}}","birthDate":"1970-01-02","gender":"female",
"maritalStatus":"married","preferredLanguage":"da","race":"r","ethnicity":"e",
"name":[` + name + `],"telecom":[{"use":"home","system":"phone","value":"+4512345678"}],
"contact":[{"name":[` + name + `],"telecom":[{"use":"work","system":"email","value":"c@example.com"}]}],
"address":[{"use":"home","line":["Street 1"],"apartment":"2","city":"Aarhus","state":"Midt","postalcode":"8000","country":"DK"}],
"sharedEmailGroup":{"type":"family","name":"Group"}}`
	update := strings.Replace(patient, `"id":"bnd-{{n}}"`, `"id":"ext-alpha"`, 1)
	appt := fmt.Sprintf(`{"waitingRoom":"Room Qalpha","date":%d,"duration":900,"reasons":["Cough"],"externalId":"bx-{{n}}"}`, when)
	episode := `{"name":"E{{n}}","type":"T","from":"2026-01-01","status":"active","objective":"better","reasonIncomplete":"none"}`
	monPatient := `{"firstName":"Ann","lastName":"Bee","mrn":"BMM-{{n}}","birthDate":"1950-02-03","email":"ann@example.com","phone":"+4511111111"}`
	notified := time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339)
	// A fresh MRN each time: a new patient, so the 24-hour rule never
	// answers 409. An EEG reason fills both note templates.
	perfect := `{"firstName":"Ann","lastName":"Bee","dob":"1970-01-02","locationId":"` + a.ids["geolocation"] + `","mrn":"PA-{{n}}",
"requestingProvider":"Dr Who","consultType":"new","reason":"EEG Stat","physicianCallbackNumber":"+4512345678",
"callCenterNotified":"` + notified + `","physicianNotified":"` + notified + `","patientLocation":"Ward 3","caller":"Nurse Joy"}`
	return map[string]string{
		"POST /qapi/v1/patients":                                                   patient,
		"PUT /qapi/v1/patients/{patient_id}":                                       update,
		"PUT /qapi/v1/patients/id/type/SPID/value/{solo_patient_id}":               update,
		"POST /qapi/v1/patients/{patient_id}/documents":                            fmt.Sprintf(`{"name":"Doc {{n}}","dateTime":%d,"responses":[{"question":"Q","response":"R"}]}`, time.Now().Unix()),
		"POST /qapi/v1/patients/{patient_id}/appointments":                         appt,
		"POST /qapi/v1/patients/HSID/{hsid}/appointments":                          appt,
		"POST /qapi/v1/patients/id/type/SPID/value/{solo_patient_id}/appointments": appt,
		"PUT /qapi/v1/appointments/{appointment_id}":                               fmt.Sprintf(`{"date":%d,"duration":900,"reasons":["Cough"],"externalId":"by-{{n}}"}`, when),
		"PUT /qapi/v1/appointments/{appointment_id}/visit-note":                    e.visitNoteBase(),
		"POST /qapi/v1/patients/{patient_id}/episodes":                             episode,
		"PUT /qapi/v1/episodes/{episode_id}":                                       episode,
		"POST /qapi/v1/perfect-answer":                                             perfect,
		"POST /qapi/v1/encounter-report/create":                                    `{"from":"2026-01-01T00:00:00+00:00","to":"2026-02-01T00:00:00+00:00","presetId":"` + a.ids["preset"] + `","password":"secret-{{n}}"}`,
		"POST /api/patients":                                                       monPatient,
		"PUT /api/patients/{id}":                                                   strings.Replace(monPatient, "BMM-", "BMU-", 1),
		"POST /api/enrollments/{id}/time-entries":                                  `{"startedAt":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `","minutes":5,"interactive":true,"note":"called"}`,
		"POST /api/alerts/{id}/resolve":                                            `{"note":"seen"}`,
		"POST /api/metric-definitions":                                             `{"key":"k{{n}}","name":"Steps {{n}}","unit":"{steps}","unitAliases":["steps"],"codeSystem":"local","code":"C{{n}}"}`,
		"POST /api/enrollments":                                                    `{"patientId":"patient_` + a.ids["patientUUID"] + `","program":"RTM","status":"ACTIVE","conditions":["COPD"],"devices":["Inhaler"]}`,
		"PUT /api/enrollments/{id}":                                                `{"program":"RPM","status":"ACTIVE","conditions":["COPD"],"devices":["Inhaler"]}`,
		"POST /api/auth/login":                                                     `{"email":"nobody{{n}}@example.com","password":"wrong"}`,
		"POST /api/auth/mfa/verify":                                                `{"mfaToken":"not-a-token","code":"123456"}`,
		"POST /api/auth/refresh":                                                   `{"refreshToken":"not-a-token"}`,
		"POST /api/alerts/bulk-resolve":                                            `{"alertIds":["{{alert}}"],"note":"seen"}`,
		"POST /api/poct/v1/patients":                                               `{"mrn":"PM-{{n}}","national_id":"N{{n}}","external_id":"PX-{{n}}","family_name":"Jensen","given_name":"Ann"}`,
		"POST /api/poct/v1/encounters":                                             `{"patient_ref":"` + a.ids["patientUUID"] + `","station":"Lab {{n}}"}`,
		"POST /api/poct/v1/results/{result_id}/corrections":                        `{"value":"7.{{n}}","unit":"mmol/L","reference_range":"4-8","flags":"H","status":"C","note":"typo"}`,
		"POST /api/poct/v1/orders":                                                 `{"encounter_ref":"` + a.ids["encounter"] + `","sample_id":"S-{{n}}","tests":["CRP"]}`,
		"POST /api/poct/v1/qc/runs":                                                `{"device_ref":"` + a.ids["deviceUUID"] + `","analyte":"GLU","lot":"L-alpha","level":"1","value":"5.{{n}}","unit":"mmol/L"}`,
	}
}

// alertBase is where freshAlert's readings are stamped: an hour before the
// suite started, n seconds earlier for request n, so no two share a second
// with each other or with the seed's readings of a minute or two ago (a
// reading of the same second answers 200 as the one already stored).
var alertBase = time.Now().Add(-time.Hour).Truncate(time.Second)

// freshAlert raises a new open alert for A's patient (a low SpO2 reading)
// and answers its id, for a write that resolves one.
func (e *env) freshAlert(n int) string {
	mon := hdr("Authorization", "Bearer "+e.a.monTok, "X-Organization-ID", e.a.monOrg)
	e.must(e.do(jsonReq("POST", "/api/observations", mon, map[string]any{"patientId": "patient_" + e.a.ids["patientUUID"],
		"metricDefinitionId": "metric_spo2", "value": 80, "unit": "%", "source": "DEVICE",
		"recordedAt": alertBase.Add(-time.Duration(n) * time.Second).UTC().Format(time.RFC3339)})), 201, "low reading")
	r := e.must(e.do(req{method: "GET", path: "/api/alerts?status=OPEN&limit=1", header: mon}), 200, "open alerts")
	var out struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(r.body, &out); len(out.Data) == 0 {
		e.t.Fatalf("no open alert after a low reading: %.300s", r.body)
	}
	return out.Data[0].ID
}

// visitNoteBase answers a free-text question of the appointment's note.
func (e *env) visitNoteBase() string {
	r := e.do(req{method: "GET", path: "/qapi/v1/appointments/" + e.a.ids["appointmentID"] + "/visit-note", header: hdr("Api-Key", e.a.apiKey)})
	var notes []struct {
		Template struct {
			Name string `json:"name"`
			Flow struct {
				Sections []struct {
					Questions []struct{ ID, Type string } `json:"questions"`
				} `json:"sections"`
			} `json:"flow"`
		} `json:"template"`
	}
	json.Unmarshal(r.body, &notes)
	for _, n := range notes {
		for _, s := range n.Template.Flow.Sections {
			for _, q := range s.Questions {
				if strings.Contains(q.Type, "text") {
					return fmt.Sprintf(`{"name":%q,"questions":[{"id":%q,"value":["fine"]}]}`, n.Template.Name, q.ID)
				}
			}
		}
	}
	e.t.Fatalf("no free-text question in the visit note: %.300s", r.body)
	return ""
}

// bounded is one documented bound of a request body: the field's path
// (object keys and array indexes) and what the schema says.
type bounded struct {
	path          []string
	kind          string // maxLength, minLength, maximum, minimum, enum
	limit         int
	values        []string // an enum's
	format, where string
}

// boundsOf walks a request schema for the fields that state a bound.
func boundsOf(sc map[string]any, path []string) []bounded {
	var out []bounded
	switch sc["type"] {
	case "object":
		props, _ := sc["properties"].(map[string]any)
		for _, k := range sortedKeys(props) {
			out = append(out, boundsOf(props[k].(map[string]any), append(slices.Clone(path), k))...)
		}
	case "array":
		if items, ok := sc["items"].(map[string]any); ok {
			out = append(out, boundsOf(items, append(slices.Clone(path), "0"))...)
		}
	default:
		format, _ := sc["format"].(string)
		for _, kind := range []string{"maxLength", "minLength", "maximum", "minimum"} {
			if v, ok := sc[kind].(float64); ok {
				out = append(out, bounded{path: path, kind: kind, limit: int(v), format: format, where: strings.Join(path, ".")})
			}
		}
		if list, ok := sc["enum"].([]any); ok {
			b := bounded{path: path, kind: "enum", where: strings.Join(path, ".")}
			for _, v := range list {
				b.values = append(b.values, fmt.Sprint(v))
			}
			out = append(out, b)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// setPath puts v at path in doc (decoded JSON); false when the path is not
// in doc.
func setPath(doc any, path []string, v any) bool {
	for i, p := range path {
		last := i == len(path)-1
		switch d := doc.(type) {
		case map[string]any:
			if _, ok := d[p]; !ok {
				return false
			}
			if last {
				d[p] = v
				return true
			}
			doc = d[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n >= len(d) {
				return false
			}
			if last {
				d[n] = v
				return true
			}
			doc = d[n]
		default:
			return false
		}
	}
	return false
}

// text is a value of n characters, unique per request (tag), of the
// field's format.
func text(n int, tag int, format string) string {
	s := fmt.Sprintf("b%d", tag)
	if format == "email" {
		suffix := "@example.com"
		if n < len(s)+len(suffix) {
			return s[:min(n, len(s))]
		}
		return s + strings.Repeat("x", n-len(s)-len(suffix)) + suffix
	}
	if n <= len(s) {
		return strings.Repeat("x", n)
	}
	return s + strings.Repeat("x", n-len(s))
}

// pathValue is the value at path in doc (decoded JSON), if any.
func pathValue(doc any, path []string) (any, bool) {
	for _, p := range path {
		switch d := doc.(type) {
		case map[string]any:
			v, ok := d[p]
			if !ok {
				return nil, false
			}
			doc = v
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n >= len(d) {
				return nil, false
			}
			doc = d[n]
		default:
			return nil, false
		}
	}
	return doc, true
}

// boundFixtures gives organisation A what the bases of boundBases name
// beyond the seed: a location with a waiting room (perfect answer) and a
// report preset (encounter report).
func (e *env) boundFixtures() {
	a := e.a
	room, err := strconv.ParseInt(a.ids["roomID"], 10, 64)
	e.check(err, "room id")
	loc := &store.Location{Name: "Ward Q" + a.m, GeolocationID: store.NewUUID(), WaitingRoomID: room}
	e.check(e.st.SaveLocation(e.ctx, a.org.ID, loc), "location")
	a.ids["geolocation"] = loc.GeolocationID
	preset := &store.ReportPreset{Name: "Preset Q" + a.m, Columns: store.ReportColumns[:5]}
	e.check(e.st.CreateReportPreset(e.ctx, a.org.ID, preset), "report preset")
	a.ids["preset"] = preset.UUID
}

// settle waits for what an accepted write started in the background to
// finish, so that it does not change rows while the refused request's
// "nothing stored" is checked: an encounter report is generated after its
// 201.
func (e *env) settle(rt string, r resp, cred http.Header) {
	if rt != "POST /qapi/v1/encounter-report/create" {
		return
	}
	id, _ := r.json()["id"].(string)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		s := e.do(req{method: "GET", path: "/qapi/v1/encounter-report/status/" + id, header: cred})
		if st, _ := s.json()["status"].(string); s.status != 200 || st != store.ReportPending {
			if st != store.ReportCompleted {
				e.t.Errorf("encounter report %s: %d %.300s", id, s.status, s.body)
			}
			return
		}
	}
	e.t.Errorf("encounter report %s still pending after 20 s", id)
}

// TestDocumentedBounds: every JSON write of the telehealth, monitoring and
// point-of-care faces (from web.Build's routes) has a request schema in
// its face's OpenAPI document, and every bound a schema states holds: a
// value at the bound (maxLength or minLength characters, the maximum, the
// minimum, the base's value of an enum) is accepted, one past it (a value
// outside the enum) is refused with a 4xx in the face's error shape and
// nothing is stored. A new route or a new documented bound is covered
// without a line here, except a body it accepts (boundBases). For a write
// that starts background work (an encounter report), nothing stored means
// no row in any table: no order, and so no job to run.
func TestDocumentedBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.a
	a.ids["orgUUID"] = a.org.UUID
	// The telehealth API names a patient by HSID but cannot set one: the
	// EHR's id comes from an integration.
	keepIDs := func() {
		_, err := e.st.UpdatePatient(e.ctx, a.org.ID, store.ByUUID, a.ids["patientUUID"], func(p *store.Patient) error {
			p.ExternalID, p.HSID = "ext-"+a.m, "HSID-Q"+a.m
			return nil
		})
		e.check(err, "patient ids")
	}
	keepIDs()
	e.boundFixtures()
	bases := e.boundBases()
	schemas := map[string]map[string]any{} // route key -> request schema
	for face, path := range documents {
		r := e.do(req{method: "GET", path: path})
		var doc struct {
			Paths map[string]map[string]struct {
				RequestBody struct {
					Content map[string]struct {
						Schema map[string]any `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(r.body, &doc); err != nil || len(doc.Paths) == 0 {
			t.Fatalf("%s document %s: %d %v", face, path, r.status, err)
		}
		for p, ops := range doc.Paths {
			for m, op := range ops {
				if c, ok := op.RequestBody.Content["application/json"]; ok {
					schemas[strings.ToUpper(m)+" "+p] = c.Schema
				}
			}
		}
	}

	n, checked, sent := 0, 0, 0
	for _, rt := range e.routes {
		face := faceOf(rt.Pattern)
		if documents[face] == "" || !slices.Contains([]string{"POST", "PUT", "PATCH"}, rt.Method) || notJSON[rt.Key()] != "" ||
			strings.HasSuffix(rt.Pattern, "/logout") {
			continue
		}
		sc := schemas[rt.Key()]
		if props, _ := sc["properties"].(map[string]any); len(props) == 0 {
			t.Errorf("%s: the %s document has no request schema with properties", rt.Key(), face)
			continue
		}
		bs := boundsOf(sc, nil)
		if len(bs) == 0 {
			continue
		}
		base, ok := bases[rt.Key()]
		if !ok {
			t.Errorf("%s documents %d bounds and has no base body in boundBases", rt.Key(), len(bs))
			continue
		}
		path, missing, _, _ := fillPath(rt.Pattern, a)
		if len(missing) > 0 {
			t.Errorf("%s: no fill for %v", rt.Key(), missing)
			continue
		}
		cred := credByName(natural(rt.Pattern)).h(a, e.b)
		cred.Set("Content-Type", "application/json")
		// prepare builds the body with v at the bound's field (nil when the
		// base lacks the field); a fresh alert is raised here, before the
		// refused request's counts are taken.
		prepare := func(b bounded, v any) []byte {
			n++
			var doc any
			json.Unmarshal([]byte(strings.ReplaceAll(base, "{{n}}", fmt.Sprint(n))), &doc)
			if !setPath(doc, b.path, v) {
				return nil
			}
			body, _ := json.Marshal(doc)
			if strings.Contains(string(body), "{{alert}}") {
				body = []byte(strings.ReplaceAll(string(body), "{{alert}}", e.freshAlert(n)))
			}
			return body
		}
		send := func(body []byte) resp {
			sent++
			return e.do(req{method: rt.Method, path: path, header: cred, body: body})
		}
		for _, b := range bs {
			checked++
			where := fmt.Sprintf("%s %s (%s %d)", rt.Key(), b.where, b.kind, b.limit)
			if b.kind == "enum" {
				where = fmt.Sprintf("%s %s (enum %v)", rt.Key(), b.where, b.values)
			}
			var ok, bad any
			switch b.kind {
			case "maxLength":
				ok, bad = text(b.limit, n+1, b.format), text(b.limit+1, n+2, b.format)
			case "maximum":
				ok, bad = b.limit, b.limit+1
			case "minimum":
				ok, bad = b.limit, b.limit-1
			case "minLength":
				ok, bad = text(b.limit, n+1, b.format), text(b.limit-1, n+2, b.format)
			case "enum":
				// The base's own value, which must be a documented one:
				// sending another could end what later checks use (an
				// enrollment, an appointment).
				var doc any
				json.Unmarshal([]byte(base), &doc)
				v, found := pathValue(doc, b.path)
				if s, _ := v.(string); found && !slices.Contains(b.values, s) {
					t.Errorf("%s: the base's value %q is not one the document lists %v", where, s, b.values)
					continue
				}
				ok, bad = v, "not-"+b.values[0]
			}
			body := prepare(b, ok)
			if body == nil {
				t.Errorf("%s: the base body has no such field: add it to boundBases", where)
				continue
			}
			r := send(body)
			if strings.HasSuffix(rt.Pattern, "/corrections") && r.status/100 == 2 {
				// A correction supersedes the version corrected: the
				// next one (one past the bound) names the current one.
				var v struct{ ID string }
				json.Unmarshal(r.body, &v)
				a.ids["result"] = v.ID
				path, _, _, _ = fillPath(rt.Pattern, a)
			}
			if signIns[rt.Key()] {
				if r.status != 401 {
					t.Errorf("%s: the bound answered %d, want 401 (a failed sign-in): %.300s", where, r.status, r.body)
				}
			} else if r.status < 200 || r.status > 299 {
				t.Errorf("%s: the bound itself refused: %d %.300s", where, r.status, r.body)
			} else {
				e.settle(rt.Key(), r, cred)
			}
			if strings.Contains(rt.Pattern, "/qapi/v1/patients/") && rt.Method == "PUT" {
				keepIDs() // the update may have renamed the patient other routes' paths name
			}
			body = prepare(b, bad)
			before, snap := withoutAudit(e.countsFast()), withoutAudit(e.snapshot(a.org.ID))
			r = send(body)
			if signIns[rt.Key()] && r.status != 400 {
				t.Errorf("%s: one past the bound answered %d, want 400 (invalid input): %.300s", where, r.status, r.body)
			} else if r.status < 400 || r.status > 499 {
				t.Errorf("%s: one past the bound answered %d, want a 4xx: %.300s", where, r.status, r.body)
			} else if msg := shapeOf(rt)(r); msg != "" {
				t.Errorf("%s: not the %s error shape (%s): %.300s", where, face, msg, r.body)
			}
			if after := withoutAudit(e.countsFast()); !equalCounts(before, after) {
				t.Errorf("%s: one past the bound stored something: %v", where, diff(before, after))
			} else if d := diff(snap, withoutAudit(e.snapshot(a.org.ID))); len(d) > 0 {
				t.Errorf("%s: one past the bound changed rows:\n%s", where, strings.Join(d, "\n"))
			}
		}
	}
	if checked < 60 {
		t.Errorf("only %d documented bounds found", checked)
	}
	t.Logf("documented bounds: %d checked with %d requests", checked, sent)
}
