package monitoring

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPatients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Create answers the patient as stored.
	p := e.do("POST", "/api/patients", e.tokA, e.hdrA, `{"firstName":"Carl","lastName":"Carlsen","mrn":"C-7","birthDate":"1961-04-05","gender":"male","email":"carl@example.com","phone":"+45 1234"}`).want(t, 201)
	id := p.str("id")
	for k, v := range map[string]string{"firstName": "Carl", "lastName": "Carlsen", "mrn": "C-7", "birthDate": "1961-04-05", "gender": "male", "email": "carl@example.com", "phone": "+45 1234"} {
		if p.str(k) != v {
			t.Errorf("%s = %q, want %q", k, p.str(k), v)
		}
	}
	if !strings.HasPrefix(id, "patient_") || p.header.Get("Location") != "/api/patients/"+id || p.json["active"] != true {
		t.Fatalf("create: %v %s", p.header, p.body)
	}
	g := e.do("GET", "/api/patients/"+id, e.tokA, e.hdrA, "").want(t, 200)
	if string(g.body) != string(p.body) {
		t.Fatalf("get differs from create:\n%s\n%s", g.body, p.body)
	}
	// Update changes what is sent, keeps the rest.
	u := e.do("PUT", "/api/patients/"+id, e.tokA, e.hdrA, `{"phone":"+45 9999","active":false}`).want(t, 200)
	if u.str("phone") != "+45 9999" || u.json["active"] != false || u.str("mrn") != "C-7" || u.str("firstName") != "Carl" {
		t.Fatalf("update: %s", u.body)
	}
	// Bad input: clear errors, nothing changed.
	for _, c := range []struct{ method, path, body, field string }{
		{"POST", "/api/patients", `{"mrn":"X"}`, "lastName"},
		{"POST", "/api/patients", `{"lastName":"X","birthDate":"31-12-1990"}`, "birthDate"},
		{"POST", "/api/patients", `{"lastName":"X\u0000Y"}`, "lastName"},
		{"PUT", "/api/patients/" + id, `{"gender":"robot"}`, "gender"},
	} {
		r := e.do(c.method, c.path, e.tokA, e.hdrA, c.body).want(t, 400)
		if r.errCode() != codeValidation || r.json["error"].(map[string]any)["fields"].(map[string]any)[c.field] == nil {
			t.Errorf("%s %s: %s", c.method, c.body, r.body)
		}
	}
	e.do("POST", "/api/patients", e.tokA, e.hdrA, `{"lastName": 5}`).want(t, 400)
	if g := e.do("GET", "/api/patients/"+id, e.tokA, e.hdrA, "").want(t, 200); g.str("gender") != "male" {
		t.Fatal("a refused update changed the patient")
	}
	// Another organisation's patient is not found, by id or in lists.
	e.do("GET", "/api/patients/"+id, e.tokB, e.hdrB, "").want(t, 404)
	e.do("PUT", "/api/patients/"+id, e.tokB, e.hdrB, `{"phone":"1"}`).want(t, 404)
	e.do("GET", "/api/patients/"+strings.Replace(id, "patient_", "obs_", 1), e.tokA, e.hdrA, "").want(t, 404)

	// Search, filters and cursor pagination.
	for i := range 5 {
		e.mustCreatePatient(e.tokA, e.hdrA, fmt.Sprintf(`{"firstName":"Page%d","lastName":"Pager"}`, i))
	}
	var seen []string
	next := ""
	for pages := 0; ; pages++ {
		q := "/api/patients?search=pager&limit=2"
		if next != "" {
			q += "&cursor=" + url.QueryEscape(next)
		}
		r := e.do("GET", q, e.tokA, e.hdrA, "").want(t, 200)
		for _, p := range r.list() {
			seen = append(seen, p["firstName"].(string))
		}
		c, _ := r.json["nextCursor"].(string)
		if c == "" {
			break
		}
		next = c
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if strings.Join(seen, ",") != "Page0,Page1,Page2,Page3,Page4" {
		t.Fatalf("pages: %v", seen)
	}
	if r := e.do("GET", "/api/patients?active=false", e.tokA, e.hdrA, "").want(t, 200); len(r.list()) != 1 || r.list()[0]["id"] != id {
		t.Fatalf("active=false: %s", r.body)
	}
	if r := e.do("GET", "/api/patients?search=pager", e.tokB, e.hdrB, "").want(t, 200); len(r.list()) != 0 {
		t.Fatalf("another organisation's search found: %s", r.body)
	}
	e.do("GET", "/api/patients?cursor=xyz", e.tokA, e.hdrA, "").want(t, 400)
	e.do("GET", "/api/patients?limit=0", e.tokA, e.hdrA, "").want(t, 400)
	e.do("GET", "/api/patients?program=XYZ", e.tokA, e.hdrA, "").want(t, 400)
}

func TestObservations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at := start.Add(-2 * time.Hour)
	// The spec's example, as a client sends it.
	body := `{"patientId":"` + e.patA + `","metricDefinitionId":"metric_bp_systolic","value":142,"unit":"mmHg","source":"DEVICE","recordedAt":"2026-01-15T07:00:00Z","deviceId":"omron-1"}`
	c := e.do("POST", "/api/observations", e.tokA, e.hdrA, body).want(t, 201)
	id := c.str("id")
	want := map[string]any{"patientId": e.patA, "metricDefinitionId": "metric_bp_systolic", "value": 142.0, "unit": "mmHg",
		"source": "DEVICE", "recordedAt": "2026-01-15T07:00:00Z", "deviceId": "omron-1", "createdAt": "2026-01-15T09:00:00Z"}
	for k, v := range want {
		if c.json[k] != v {
			t.Errorf("%s = %v, want %v", k, c.json[k], v)
		}
	}
	if code := c.json["code"].(map[string]any); code["system"] != "http://loinc.org" || code["code"] != "8480-6" || !strings.HasPrefix(id, "obs_") {
		t.Fatalf("code: %s", c.body)
	}
	// The same submission again: the same observation, nothing added.
	d := e.do("POST", "/api/observations", e.tokA, e.hdrA, body).want(t, 200)
	if d.str("id") != id {
		t.Fatalf("duplicate got a new id: %s", d.body)
	}
	// Same device, metric and time with another value: a conflict.
	e.do("POST", "/api/observations", e.tokA, e.hdrA, strings.Replace(body, `"value":142`, `"value":150`, 1)).want(t, 409)
	// Another device at the same time is another reading.
	e.do("POST", "/api/observations", e.tokA, e.hdrA, strings.Replace(body, "omron-1", "omron-2", 1)).want(t, 201)

	bad := []struct{ name, body, field string }{
		{"unit of another metric", strings.Replace(body, "mmHg", "kg", 1), "unit"},
		{"unknown metric", strings.Replace(body, "metric_bp_systolic", "metric_nope", 1), "metricDefinitionId"},
		{"not a metric id", strings.Replace(body, "metric_bp_systolic", "bp_systolic", 1), "metricDefinitionId"},
		{"value not a number", strings.Replace(body, "142", `"142"`, 1), "value"},
		{"value out of range", strings.Replace(body, "142", "4200", 1), "value"},
		{"bad source", strings.Replace(body, "DEVICE", "FAX", 1), "source"},
		{"bad time", strings.Replace(body, "2026-01-15T07:00:00Z", "yesterday", 1), "recordedAt"},
		{"future time", strings.Replace(body, "2026-01-15T07:00:00Z", "2026-01-16T07:00:00Z", 1), "recordedAt"},
		{"another organisation's patient", strings.Replace(body, e.patA, e.patB, 1), "patientId"},
		{"unknown patient", strings.Replace(body, e.patA, "patient_0190a1b2-0000-7000-8000-000000000000", 1), "patientId"},
		{"not a patient id", strings.Replace(body, e.patA, strings.TrimPrefix(e.patA, "patient_"), 1), "patientId"},
		{"no patient", strings.Replace(body, `"patientId":"`+e.patA+`",`, "", 1), "patientId"},
	}
	for _, b := range bad {
		r := e.do("POST", "/api/observations", e.tokA, e.hdrA, b.body).want(t, 400)
		f, _ := r.json["error"].(map[string]any)["fields"].(map[string]any)
		if f[b.field] == nil {
			t.Errorf("%s: %s", b.name, r.body)
		}
	}
	// Filters.
	e.obs(e.tokA, e.hdrA, e.patA, "metric_heart_rate", 71, "bpm", at.Add(-time.Hour)).want(t, 201)
	manual := `{"patientId":"` + e.patA + `","metricDefinitionId":"metric_weight","value":81.5,"unit":"kg","source":"MANUAL","recordedAt":"2026-01-14T07:00:00Z"}`
	e.do("POST", "/api/observations", e.tokA, e.hdrA, manual).want(t, 201)
	list := func(q string) []string {
		r := e.do("GET", "/api/observations"+q, e.tokA, e.hdrA, "").want(t, 200)
		var out []string
		for _, o := range r.list() {
			out = append(out, strings.TrimPrefix(o["metricDefinitionId"].(string), "metric_")+"@"+o["recordedAt"].(string)[11:16])
		}
		return out
	}
	cases := []struct{ q, want string }{
		{"", "bp_systolic@07:00,bp_systolic@07:00,heart_rate@06:00,weight@07:00"},
		{"?metricDefinitionId=metric_heart_rate", "heart_rate@06:00"},
		{"?source=MANUAL", "weight@07:00"},
		{"?from=2026-01-15T06:30:00Z", "bp_systolic@07:00,bp_systolic@07:00"},
		{"?to=2026-01-15T06:30:00Z", "heart_rate@06:00,weight@07:00"},
		{"?patientId=" + e.patA + "&metricDefinitionId=metric_weight", "weight@07:00"},
		{"?patientId=" + e.patB, ""},
	}
	for _, c := range cases {
		if got := strings.Join(list(c.q), ","); got != c.want {
			t.Errorf("GET /api/observations%s = %s, want %s", c.q, got, c.want)
		}
	}
	if r := e.do("GET", "/api/observations/patient/"+e.patA+"?limit=2", e.tokA, e.hdrA, "").want(t, 200); len(r.list()) != 2 || r.json["nextCursor"] == nil {
		t.Fatalf("patient observations page: %s", r.body)
	} else {
		r2 := e.do("GET", "/api/observations/patient/"+e.patA+"?limit=2&cursor="+url.QueryEscape(r.json["nextCursor"].(string)), e.tokA, e.hdrA, "").want(t, 200)
		if len(r2.list()) != 2 || r2.list()[0]["id"] == r.list()[1]["id"] {
			t.Fatalf("second page: %s", r2.body)
		}
	}
	e.do("GET", "/api/observations/patient/"+e.patA, e.tokB, e.hdrB, "").want(t, 404)
	if r := e.do("GET", "/api/observations", e.tokB, e.hdrB, "").want(t, 200); len(r.list()) != 0 {
		t.Fatalf("another organisation sees observations: %s", r.body)
	}
	e.do("GET", "/api/observations?source=FAX", e.tokA, e.hdrA, "").want(t, 400)
	e.do("GET", "/api/observations?from=monday", e.tokA, e.hdrA, "").want(t, 400)
}

func TestMetricDefinitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/api/metric-definitions", e.tokA, e.hdrA, "").want(t, 200)
	byID := map[string]map[string]any{}
	for _, m := range r.list() {
		byID[m["id"].(string)] = m
	}
	for id, want := range map[string][2]string{
		"metric_bp_systolic": {"mm[Hg]", "8480-6"}, "metric_bp_diastolic": {"mm[Hg]", "8462-4"}, "metric_heart_rate": {"/min", "8867-4"},
		"metric_spo2": {"%", "59408-5"}, "metric_weight": {"kg", "29463-7"}, "metric_glucose": {"mg/dL", "2339-0"},
		"metric_temperature": {"Cel", "8310-5"}, "metric_respiratory_rate": {"/min", "9279-1"}, "metric_peak_flow": {"L/min", "19935-6"},
	} {
		m := byID[id]
		if m == nil || m["unit"] != want[0] || m["code"] != want[1] || m["codeSystem"] != "http://loinc.org" || m["builtIn"] != true {
			t.Errorf("%s: %v", id, m)
		}
	}
	c := e.do("POST", "/api/metric-definitions", e.tokA, e.hdrA, `{"key":"fatigue","name":"Fatigue (0-10)","unit":"{score}","min":0,"max":10}`).want(t, 201)
	if c.str("id") != "metric_fatigue" || c.json["builtIn"] != false || c.str("codeSystem") != "local" {
		t.Fatalf("create: %s", c.body)
	}
	e.do("POST", "/api/metric-definitions", e.tokA, e.hdrA, `{"key":"fatigue","name":"again","unit":"{score}"}`).want(t, 409)
	e.do("POST", "/api/metric-definitions", e.tokA, e.hdrA, `{"key":"spo2","name":"mine","unit":"%"}`).want(t, 400)
	e.do("POST", "/api/metric-definitions", e.tokA, e.hdrA, `{"key":"Bad Key","name":"x","unit":"1"}`).want(t, 400)
	e.obs(e.tokA, e.hdrA, e.patA, "metric_fatigue", 4, "{score}", start).want(t, 201)
	e.obs(e.tokA, e.hdrA, e.patA, "metric_fatigue", 11, "{score}", start.Add(-time.Minute)).want(t, 400)
	// Another organisation neither sees nor uses it.
	r = e.do("GET", "/api/metric-definitions", e.tokB, e.hdrB, "").want(t, 200)
	if strings.Contains(string(r.body), "fatigue") {
		t.Fatal("another organisation sees the metric")
	}
	e.obs(e.tokB, e.hdrB, e.patB, "metric_fatigue", 4, "{score}", start).want(t, 400)
}

func TestEnrollments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"patientId":"` + e.patA + `","program":"RPM","conditions":["I10"],"devices":["omron-1"],"careTeam":["user_` + e.clinA.UUID + `"],"startDate":"2026-01-01"}`
	c := e.do("POST", "/api/enrollments", e.tokA, e.hdrA, body).want(t, 201)
	id := c.str("id")
	if c.str("patientId") != e.patA || c.str("program") != "RPM" || c.str("status") != "ACTIVE" || c.str("startDate") != "2026-01-01" ||
		c.json["endDate"] != nil || !strings.HasPrefix(id, "enr_") {
		t.Fatalf("create: %s", c.body)
	}
	rules := c.json["alertRules"].([]any)
	if len(rules) != 3 || rules[0].(map[string]any)["description"] != "bp_systolic > 180 twice within 1 day" {
		t.Fatalf("default rules: %v", rules)
	}
	if g := e.do("GET", "/api/enrollments/"+id, e.tokA, e.hdrA, "").want(t, 200); string(g.body) != string(c.body) {
		t.Fatalf("get differs:\n%s\n%s", g.body, c.body)
	}
	// Update: keep the first rule, drop the others, add one.
	keep := rules[0].(map[string]any)["id"].(string)
	u := e.do("PUT", "/api/enrollments/"+id, e.tokA, e.hdrA, `{"status":"PAUSED","endDate":"2026-06-30","alertRules":[{"id":"`+keep+`"},{"type":"THRESHOLD","metricDefinitionId":"metric_weight","operator":">","threshold":100,"count":1,"windowHours":24,"severity":"LOW"}]}`).want(t, 200)
	ur := u.json["alertRules"].([]any)
	if u.str("status") != "PAUSED" || u.str("endDate") != "2026-06-30" || len(ur) != 2 || ur[0].(map[string]any)["id"] != keep ||
		ur[1].(map[string]any)["description"] != "weight > 100 once within 1 day" || u.json["conditions"].([]any)[0] != "I10" {
		t.Fatalf("update: %s", u.body)
	}
	for _, b := range []struct{ method, path, body string }{
		{"POST", "/api/enrollments", strings.Replace(body, "RPM", "XYZ", 1)},
		{"POST", "/api/enrollments", strings.Replace(body, "2026-01-01", "01/01/2026", 1)},
		{"POST", "/api/enrollments", strings.Replace(body, e.patA, e.patB, 1)},
		{"POST", "/api/enrollments", strings.Replace(body, e.clinA.UUID, e.userB.UUID, 1)},
		{"POST", "/api/enrollments", `{"patientId":"` + e.patA + `","program":"RPM","alertRules":[{"type":"THRESHOLD","metricDefinitionId":"metric_nope","operator":">","threshold":1,"count":1,"windowHours":1,"severity":"LOW"}]}`},
		{"POST", "/api/enrollments", `{"patientId":"` + e.patA + `","program":"RPM","alertRules":[{"type":"THRESHOLD","metricDefinitionId":"metric_spo2","operator":"!=","threshold":1,"count":1,"windowHours":1,"severity":"LOW"}]}`},
		{"PUT", "/api/enrollments/" + id, `{"endDate":"2025-01-01"}`},
		{"PUT", "/api/enrollments/" + id, `{"alertRules":[{"id":"rule_999999"}]}`},
		{"PUT", "/api/enrollments/" + id, `{"patientId":"` + e.patA + `"}`},
	} {
		if r := e.do(b.method, b.path, e.tokA, e.hdrA, b.body); r.status != 400 {
			t.Errorf("%s %s: %d %s", b.method, b.body, r.status, r.body)
		}
	}
	if g := e.do("GET", "/api/enrollments/"+id, e.tokA, e.hdrA, "").want(t, 200); string(g.body) != string(u.body) {
		t.Fatal("a refused update changed the enrollment")
	}
	// Lists and filters.
	e.do("POST", "/api/enrollments", e.tokA, e.hdrA, `{"patientId":"`+e.patA+`","program":"CCM","alertRules":[]}`).want(t, 201)
	if r := e.do("GET", "/api/enrollments?program=CCM", e.tokA, e.hdrA, "").want(t, 200); len(r.list()) != 1 || len(r.list()[0]["alertRules"].([]any)) != 0 {
		t.Fatalf("program filter: %s", r.body)
	}
	if r := e.do("GET", "/api/enrollments?patientId="+e.patA+"&status=PAUSED", e.tokA, e.hdrA, "").want(t, 200); len(r.list()) != 1 {
		t.Fatalf("status filter: %s", r.body)
	}
	if r := e.do("GET", "/api/patients?program=CCM", e.tokA, e.hdrA, "").want(t, 200); len(r.list()) != 1 || r.list()[0]["id"] != e.patA {
		t.Fatalf("patients by program: %s", r.body)
	}
	e.do("GET", "/api/enrollments/"+id, e.tokB, e.hdrB, "").want(t, 404)
	e.do("PUT", "/api/enrollments/"+id, e.tokB, e.hdrB, `{"status":"ENDED"}`).want(t, 404)
	if r := e.do("GET", "/api/enrollments", e.tokB, e.hdrB, "").want(t, 200); len(r.list()) != 0 {
		t.Fatal("another organisation lists the enrollments")
	}
}

func enroll(t *testing.T, e *env, tok, org, patient, extra string) string {
	t.Helper()
	r := e.do("POST", "/api/enrollments", tok, org, `{"patientId":"`+patient+`","program":"RPM","startDate":"2026-01-01"`+extra+`}`).want(t, 201)
	return r.str("id")
}

func TestTimeEntries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	enr := enroll(t, e, e.tokA, e.hdrA, e.patA, "")
	c := e.do("POST", "/api/enrollments/"+enr+"/time-entries", e.tokA, e.hdrA, `{"minutes":12.5,"interactive":true,"note":"Called about BP"}`).want(t, 201)
	if c.json["minutes"] != 12.5 || c.json["interactive"] != true || c.str("userId") != "user_"+e.clinA.UUID ||
		c.str("startedAt") != start.Add(-12*time.Minute-30*time.Second).Format(time.RFC3339) || c.str("enrollmentId") != enr {
		t.Fatalf("create: %s", c.body)
	}
	e.do("POST", "/api/enrollments/"+enr+"/time-entries", e.tokA, e.hdrA, `{"minutes":5,"startedAt":"2025-12-20T10:00:00Z"}`).want(t, 201)
	for _, b := range []string{`{"minutes":0}`, `{"minutes":-3}`, `{"minutes":2000}`, `{"minutes":5,"startedAt":"2027-01-01T00:00:00Z"}`, `{"minutes":5,"startedAt":"noon"}`} {
		e.do("POST", "/api/enrollments/"+enr+"/time-entries", e.tokA, e.hdrA, b).want(t, 400)
	}
	if r := e.do("GET", "/api/enrollments/"+enr+"/time-entries?month=2026-01", e.tokA, e.hdrA, "").want(t, 200); len(r.list()) != 1 || r.list()[0]["note"] != "Called about BP" {
		t.Fatalf("month list: %s", r.body)
	}
	if r := e.do("GET", "/api/enrollments/"+enr+"/time-entries", e.tokA, e.hdrA, "").want(t, 200); len(r.list()) != 2 {
		t.Fatalf("list: %s", r.body)
	}
	e.do("GET", "/api/enrollments/"+enr+"/time-entries?month=January", e.tokA, e.hdrA, "").want(t, 400)
	e.do("GET", "/api/enrollments/"+enr+"/time-entries", e.tokB, e.hdrB, "").want(t, 404)
	e.do("POST", "/api/enrollments/"+enr+"/time-entries", e.tokB, e.hdrB, `{"minutes":5}`).want(t, 404)
}

func TestOpenAPIMatchesRouteTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/api/openapi.json", "", "", "").want(t, 200)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: %v %s", err, doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			if op["summary"] == "" || op["operationId"] == "" {
				t.Errorf("%s %s: no summary or operationId", method, path)
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range e.h.Routes() {
		served[rt.Key()] = true
		if !documented[rt.Key()] {
			t.Errorf("served but not documented: %s", rt.Key())
		}
		if rt.Public != (rt.Guard == nil) {
			t.Errorf("%s: public %t but guard %v", rt.Key(), rt.Public, rt.Guard != nil)
		}
	}
	for p := range documented {
		if !served[p] {
			t.Errorf("documented but not served: %s", p)
		}
	}
}
