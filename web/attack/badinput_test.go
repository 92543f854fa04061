package attack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// shape checks an answer against a face's documented error shape and says
// what is wrong ("" when it holds).
type shape func(r resp) string

func jsonError(codeToo bool) shape {
	return func(r resp) string {
		if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			return "Content-Type " + r.header.Get("Content-Type")
		}
		var b struct {
			Error *struct {
				Code    *string `json:"code"`
				Message *string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(r.body, &b); err != nil || b.Error == nil || b.Error.Message == nil || *b.Error.Message == "" {
			return "no error.message"
		}
		if codeToo && (b.Error.Code == nil || *b.Error.Code == "") {
			return "no error.code"
		}
		return ""
	}
}

func operationOutcome(r resp) string {
	var b struct {
		ResourceType string           `json:"resourceType"`
		Issue        []map[string]any `json:"issue"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.ResourceType != "OperationOutcome" || len(b.Issue) == 0 {
		return "not an OperationOutcome"
	}
	return ""
}

func page(r resp) string {
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		return "Content-Type " + r.header.Get("Content-Type") + ", not an HTML page"
	}
	return ""
}

var shapes = map[string]shape{
	"telehealth": jsonError(false), "instrument": jsonError(false), "poct": jsonError(true), "monitoring": jsonError(true),
	"kv": jsonError(true), "fhir": operationOutcome, "page": page,
}

// target is one write of a face and a body it accepts; {{n}} in the body
// or path is a fresh number per request (so a duplicate id never hides a
// refusal behind a 409) and {{file}} the file name under attack.
type target struct {
	face, method, path string
	cred               func(o *org) http.Header
	ctype              string
	base               string
	raw                []byte // a file upload: the body is the file, the name is in the path
	form               bool
	noHuge             bool // an upload route: its large limit is the limits suite's to test
	// allow are cases the face accepts on purpose, with the reason.
	allow map[string]string
}

func (e *env) targets() []target {
	a := e.a
	key := func(o *org) http.Header { return hdr("Api-Key", o.apiKey) }
	inst := func(o *org) http.Header { return hdr("Authorization", "Bearer "+o.instTok) }
	poct := func(o *org) http.Header { return hdr("Authorization", "Bearer "+o.poctTok) }
	mon := func(o *org) http.Header {
		return hdr("Authorization", "Bearer "+o.monTok, "X-Organization-ID", o.monOrg)
	}
	oauth := func(o *org) http.Header { return hdr("Authorization", "Bearer "+o.oauthTok) }
	admin := func(o *org) http.Header { return hdr("Cookie", o.cookies["admin"]) }
	when := time.Now().Add(96 * time.Hour).Truncate(time.Hour)
	pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 bad input"))
	return []target{
		{face: "telehealth", method: "POST", path: "/qapi/v1/patients", cred: key,
			base: `{"id":"bad-{{n}}","mrn":"M-{{n}}","birthDate":"1970-01-02","gender":"female","name":[{"use":"official","firstName":"Ann","lastName":"Bee"}]}`},
		{face: "telehealth", method: "PUT", path: "/qapi/v1/patients/ext-alpha", cred: key,
			base: `{"mrn":"MRN-Qalpha","birthDate":"1961-04-05","name":[{"use":"official","firstName":"Zyxalpha","lastName":"Quornalpha"}]}`},
		{face: "telehealth", method: "POST", path: "/qapi/v1/patients/ext-alpha/appointments", cred: key,
			base: fmt.Sprintf(`{"waitingRoom":"Room Qalpha","date":%d,"duration":900,"reasons":["Cough"],"externalId":"x-{{n}}"}`, when.Unix())},
		{face: "telehealth", method: "PUT", path: "/qapi/v1/appointments/" + a.ids["appointmentID"], cred: key,
			base: fmt.Sprintf(`{"date":%d,"duration":900}`, time.Now().Add(48*time.Hour).Truncate(time.Hour).Unix())},
		{face: "telehealth", method: "POST", path: "/qapi/v1/patients/ext-alpha/documents", cred: key,
			base: fmt.Sprintf(`{"name":"Doc {{n}}","dateTime":%d,"responses":[{"question":"Q","response":"R"}]}`, time.Now().Unix())},
		{face: "telehealth", method: "POST", path: "/qapi/v1/patients/ext-alpha/episodes", cred: key,
			base: `{"name":"E{{n}}","type":"T","from":"2026-01-01","status":"active","objective":"better"}`},
		{face: "telehealth", method: "POST", path: "/qapi/v1/webhooks", cred: key,
			base: `{"endpoint":"https://h.example/{{n}}","events":["patient:created"]}`},
		{face: "telehealth", method: "POST", path: "/qapi/v1/appointments/" + a.ids["appointmentID"] + "/attachments?fileName={{file}}", cred: key,
			ctype: "application/pdf", raw: []byte("%PDF-1.4 attachment"), noHuge: true},
		{face: "instrument", method: "POST", path: "/api/v1/instrumentResults", cred: inst, noHuge: true,
			allow: map[string]string{".results.0.value: a number": "the spec sends values as strings or numbers; a number is kept as its literal"},
			base:  `{"patientID":"` + a.ids["patientUUID"] + `","measurementType":"ECG","measuredAt":"2026-06-30T07:10:00Z","results":[{"code":"HR","value":"61"}],"files":[{"filename":"ecg{{n}}.pdf","data":"` + pdf + `"}]}`},
		{face: "poct", method: "POST", path: "/api/poct/v1/encounters", cred: poct,
			base: `{"patient_ref":"` + a.ids["patientUUID"] + `","station":"Lab {{n}}"}`},
		{face: "poct", method: "POST", path: "/api/poct/v1/orders", cred: poct,
			base: `{"encounter_ref":"` + a.ids["encounter"] + `","sample_id":"S-{{n}}","tests":["CRP"]}`},
		{face: "poct", method: "POST", path: "/api/poct/v1/qc/runs", cred: poct,
			base: `{"device_ref":"` + a.ids["deviceUUID"] + `","analyte":"GLU","lot":"L-alpha","value":"5.{{n}}"}`},
		{face: "poct", method: "POST", path: "/api/poct/v1/encounters/" + a.ids["encounter"] + "/documents?filename={{file}}&title=T", cred: poct,
			ctype: "application/pdf", raw: []byte("%PDF-1.4 document"), noHuge: true},
		{face: "monitoring", method: "POST", path: "/api/patients", cred: mon,
			base: `{"firstName":"Ann","lastName":"Bee","mrn":"MM-{{n}}","birthDate":"1950-02-03"}`},
		{face: "monitoring", method: "POST", path: "/api/observations", cred: mon,
			base: `{"patientId":"patient_` + a.ids["patientUUID"] + `","metricDefinitionId":"metric_spo2","value":97,"unit":"%","source":"DEVICE","recordedAt":"` +
				// Not a minute ago: the env's own reading (value 80) is stored at
				// that second when the table is built in the same second (409).
				time.Now().Add(-2*time.Minute).UTC().Format(time.RFC3339) + `"}`},
		{face: "kv", method: "PUT", path: "/api/kv/v1/ns-bad/{{file}}", cred: oauth, ctype: "application/json", raw: []byte(`{"a":1}`)},
		{face: "fhir", method: "POST", path: "/fhir/R4/Patient", cred: oauth,
			base: `{"resourceType":"Patient","name":[{"family":"Fhir{{n}}","given":["Ann"]}],"birthDate":"1970-01-01","gender":"female"}`},
		{face: "fhir", method: "POST", path: "/fhir/R4/Observation", cred: oauth,
			allow: map[string]string{".valueQuantity.value: a string": "Go's json.Number takes a quoted number; the same number is stored"},
			base: `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/` +
				a.ids["patientUUID"] + `"},"valueQuantity":{"value":60,"unit":"/min"},"effectiveDateTime":"2026-01-01T00:00:00Z"}`},
		{face: "page", method: "POST", path: "/patients/new", cred: admin, form: true,
			base: `{"firstName":"Ann","lastName":"Bee","birthDate":"1970-01-02","mrn":"PM-{{n}}","email":"ann@example.com","city":"Aarhus"}`},
		{face: "page", method: "POST", path: "/appointments/new", cred: admin, form: true,
			base: `{"patient":"` + a.ids["patientID"] + `","waitingRoom":"` + a.ids["roomID"] + `","date":"` + when.Format("2006-01-02") +
				`","time":"10:00","duration":"15","reasons":"Cough {{n}}","confirmWarnings":"yes"}`},
	}
}

// badCase is one hostile request and the status it must get (0: any 4xx).
type badCase struct {
	name  string
	ctype string
	body  []byte
	file  string // for uploads: the file name
	want  int
}

var (
	traversal = []string{"../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd", "a/../../b.pdf", "ok\x00.pdf", ".."}
	dateRE    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
)

// cases builds the hostile variants of t's base request.
func (t target) cases() []badCase {
	var out []badCase
	if t.raw != nil {
		// A key-value key is a name, not a file: slashes are allowed there.
		for _, f := range traversal {
			if t.face != "kv" {
				out = append(out, badCase{name: "file name " + f, ctype: t.ctype, body: t.raw, file: f})
			}
		}
		out = append(out, badCase{name: "file name with a control character", ctype: t.ctype, body: t.raw, file: "scan\x1b[2J.pdf"},
			badCase{name: "overlong file name", ctype: t.ctype, body: t.raw, file: strings.Repeat("n", 5000) + ".pdf"})
		if t.face == "telehealth" {
			// POCT documents take any declared type and are served back as
			// an attachment; an empty POCT document is reported, not fixed
			// here (store/patientfile.go is being reworked for streaming).
			out = append(out, badCase{name: "wrong Content-Type", ctype: "text/x-shellscript", body: t.raw, file: "ok.pdf"},
				badCase{name: "empty file", ctype: t.ctype, body: nil, file: "ok.pdf"})
		}
		if t.face == "kv" {
			out = append(out, badCase{name: "huge value", ctype: t.ctype, body: hugeJSON(2 << 20), file: "k", want: 413})
		}
		return out
	}
	base := []byte(t.base)
	if t.form {
		return t.formCases()
	}
	out = append(out,
		badCase{name: "truncated JSON", ctype: "application/json", body: base[:len(base)/2]},
		badCase{name: "trailing garbage", ctype: "application/json", body: append(bytes.Clone(base), "}x"...)},
		badCase{name: "not JSON", ctype: "application/json", body: []byte("id=1&name=x")},
		badCase{name: "empty body", ctype: "application/json", body: nil},
		badCase{name: "array of the object", ctype: "application/json", body: append(append([]byte("["), base...), ']')},
		badCase{name: "deeply nested arrays", ctype: "application/json", body: []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000))},
		badCase{name: "deeply nested objects", ctype: "application/json", body: []byte(strings.Repeat(`{"a":`, 50000) + "1" + strings.Repeat("}", 50000))},
		badCase{name: "no Content-Type", ctype: "", body: base, want: 415},
		badCase{name: "Content-Type text/plain", ctype: "text/plain", body: base, want: 415},
		badCase{name: "Content-Type form", ctype: "application/x-www-form-urlencoded", body: base, want: 415},
	)
	if !t.noHuge {
		out = append(out, badCase{name: "huge body", ctype: "application/json", body: hugeJSON(12 << 20), want: 413})
	}
	var doc any
	if err := json.Unmarshal(base, &doc); err != nil {
		panic(t.path + ": base is not JSON: " + err.Error())
	}
	for _, leaf := range leaves(doc, "") {
		for _, m := range leafMutations(leaf) {
			b, _ := json.Marshal(replace(doc, leaf.path, m.v))
			out = append(out, badCase{name: leaf.path + ": " + m.name, ctype: "application/json", body: b})
		}
	}
	return out
}

// formCases are the page forms' hostile variants.
func (t target) formCases() []badCase {
	var fields map[string]string
	if err := json.Unmarshal([]byte(t.base), &fields); err != nil {
		panic(err)
	}
	enc := func(f map[string]string) []byte {
		v := url.Values{}
		for k, x := range f {
			v.Set(k, x)
		}
		return []byte(v.Encode())
	}
	form := "application/x-www-form-urlencoded"
	out := []badCase{
		{name: "huge form", ctype: form, body: []byte("firstName=" + strings.Repeat("x", 12<<20)), want: 413},
		{name: "JSON to a form", ctype: "application/json", body: []byte(t.base)},
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "confirmWarnings" {
			continue
		}
		for _, m := range []struct{ name, v string }{
			{"NUL", "a\x00b"}, {"escape", "a\x1b[2Jb"}, {"overlong", strings.Repeat("x", 100001)},
		} {
			f := map[string]string{}
			for kk, vv := range fields {
				f[kk] = vv
			}
			f[k] = m.v
			out = append(out, badCase{name: k + ": " + m.name, ctype: form, body: enc(f)})
		}
		if dateRE.MatchString(fields[k]) {
			for _, d := range []string{"9999-12-31", "0001-01-01", "2026-13-45", "275760-09-13"} {
				f := map[string]string{}
				for kk, vv := range fields {
					f[kk] = vv
				}
				f[k] = d
				out = append(out, badCase{name: k + ": date " + d, ctype: form, body: enc(f)})
			}
		}
	}
	return out
}

func hugeJSON(n int) []byte {
	return []byte(`{"pad":"` + strings.Repeat("x", n) + `"}`)
}

type leaf struct {
	path string
	v    any
}

func leaves(v any, path string) []leaf {
	switch x := v.(type) {
	case map[string]any:
		var out []leaf
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, leaves(x[k], path+"."+k)...)
		}
		return out
	case []any:
		var out []leaf
		for i, y := range x {
			out = append(out, leaves(y, fmt.Sprintf("%s.%d", path, i))...)
		}
		return out
	}
	return []leaf{{path: path, v: v}}
}

// replace returns a deep copy of doc with the value at path set to v.
func replace(doc any, path string, v any) any {
	var cp any
	b, _ := json.Marshal(doc)
	json.Unmarshal(b, &cp)
	parts := strings.Split(strings.TrimPrefix(path, "."), ".")
	cur := cp
	for i, p := range parts {
		lastPart := i == len(parts)-1
		switch x := cur.(type) {
		case map[string]any:
			if lastPart {
				x[p] = v
			} else {
				cur = x[p]
			}
		case []any:
			var n int
			fmt.Sscan(p, &n)
			if lastPart {
				x[n] = v
			} else {
				cur = x[n]
			}
		}
	}
	return cp
}

type mutation struct {
	name string
	v    any
}

// leafMutations are the hostile values for one field, by what it holds.
func leafMutations(l leaf) []mutation {
	name := strings.ToLower(l.path)
	switch x := l.v.(type) {
	case string:
		ms := []mutation{{"NUL", "a\x00b"}, {"escape sequence", "a\x1b[2Jb"}, {"bell", "a\x07b"},
			{"overlong", strings.Repeat("x", 100001)}, {"a number", 12345}, {"an object", map[string]any{"x": 1}}}
		if dateRE.MatchString(x) {
			ms = append(ms, mutation{"year 9999", "9999-12-31" + x[10:]}, mutation{"year 1", "0001-01-01" + x[10:]},
				mutation{"month 13", "2026-13-45" + x[10:]}, mutation{"far year", "+275760-09-13T00:00:00Z"})
		}
		if strings.Contains(name, "filename") {
			for _, f := range traversal {
				ms = append(ms, mutation{"file name " + f, f})
			}
		}
		if strings.HasSuffix(name, ".data") {
			ms = append(ms, mutation{"bad base64", "not*base64!"}, mutation{"bad padding", "===="})
		}
		return ms
	case float64:
		ms := []mutation{{"a string", "12"}, {"max int64", json.Number("9223372036854775807")},
			{"min int64", json.Number("-9223372036854775808")}, {"1e300", json.Number("1e300")}}
		return ms
	case bool:
		return []mutation{{"a string", "true"}}
	}
	return nil
}

// TestBadInput sends every face's writes malformed and hostile: each is a
// 4xx in that face's error shape, and nothing is stored.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := 0
	tried := 0
	next := func(s string) string {
		n++
		return strings.ReplaceAll(s, "{{n}}", fmt.Sprint(n))
	}
	for _, tg := range e.targets() {
		t.Run(tg.face+" "+tg.method+" "+strings.Split(tg.path, "?")[0], func(t *testing.T) {
			cred := tg.cred(e.a)
			send := func(ctype string, body []byte, file string) resp {
				h := cred.Clone()
				if ctype != "" {
					h.Set("Content-Type", ctype)
				}
				path := strings.ReplaceAll(next(tg.path), "{{file}}", url.PathEscape(file))
				if strings.Contains(tg.path, "?") && file != "" {
					path = strings.ReplaceAll(next(tg.path), "{{file}}", url.QueryEscape(file))
				}
				return e.do(req{method: tg.method, path: path, header: h, body: []byte(next(string(body)))})
			}
			// The base request is accepted: the refusals below are the
			// hostile part, not a wrong request.
			ctype := "application/json"
			body := []byte(tg.base)
			if tg.raw != nil {
				ctype, body = tg.ctype, tg.raw
			}
			if tg.form {
				var f map[string]string
				json.Unmarshal([]byte(tg.base), &f)
				v := url.Values{}
				for k, x := range f {
					v.Set(k, x)
				}
				ctype, body = "application/x-www-form-urlencoded", []byte(v.Encode())
			}
			if r := send(ctype, body, "control.pdf"); r.status >= 400 {
				t.Fatalf("control: the base request is refused: %d %.300s", r.status, r.body)
			}
			before, snap := withoutAudit(e.countsFast()), withoutAudit(e.snapshot(e.a.org.ID))
			for _, c := range tg.cases() {
				if why := tg.allow[c.name]; why != "" {
					continue
				}
				for i := 0; i < *flagRepeat; i++ {
					r := send(c.ctype, c.body, c.file)
					tried++
					where := fmt.Sprintf("%s: %d", c.name, r.status)
					switch {
					case c.want != 0 && r.status != c.want:
						t.Errorf("%s, want %d: %.200s", where, c.want, r.body)
					case r.status < 400 || r.status >= 500:
						t.Errorf("%s, want a 4xx: %.200s", where, r.body)
					}
					if r.status >= 400 && r.status < 500 {
						if msg := shapes[tg.face](r); msg != "" {
							t.Errorf("%s: not the %s error shape (%s): %.200s", where, tg.face, msg, r.body)
						}
					}
					if after := withoutAudit(e.countsFast()); !equalCounts(before, after) {
						t.Errorf("%s: stored something: %v", where, diff(before, after))
						before = after
					}
				}
			}
			if d := diff(snap, withoutAudit(e.snapshot(e.a.org.ID))); len(d) > 0 {
				t.Errorf("refused requests changed the organisation's rows:\n%s", strings.Join(d, "\n"))
			}
		})
	}
	t.Logf("bad input: %d hostile requests over %d writes of %d faces", tried, len(e.targets()), len(shapes))
}

// countsFast counts the rows of every table in one query.
func (e *env) countsFast() map[string]int {
	if e.countSQL == "" {
		db := e.db()
		var parts []string
		for _, tbl := range tables(e.t, db) {
			parts = append(parts, fmt.Sprintf(`SELECT '%s', count(*) FROM "%s"`, tbl, tbl))
		}
		db.Close()
		e.countSQL = strings.Join(parts, " UNION ALL ")
		e.countDB = e.db()
		e.t.Cleanup(func() { e.countDB.Close() })
	}
	rows, err := e.countDB.Query(e.countSQL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var tbl string
		var n int
		rows.Scan(&tbl, &n)
		out[tbl] = n
	}
	return out
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
