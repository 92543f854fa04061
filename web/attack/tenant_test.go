package attack

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// fill says how to fill one path parameter of a route with the attacked
// organisation's (A's) value. The key is the route pattern up to and
// including the parameter, so a new route with a new parameter has no
// fill and TestTenantMatrix fails until one is added here.
type fill struct {
	value func(o *org) string
	// own: the value names something in the caller's own space (a key-value
	// namespace, a station name, a month); another organisation may use the
	// same name for its own data, so a 2xx is not by itself a leak.
	own bool
}

func id(name string) func(*org) string     { return func(o *org) string { return o.ids[name] } }
func pre(p, name string) func(*org) string { return func(o *org) string { return p + o.ids[name] } }
func lit(v string) func(*org) string       { return func(*org) string { return v } }
func forged(name string) func(*org) string { // a capability of the right shape that opens nothing
	return func(o *org) string {
		v := []byte(o.ids[name])
		for i := range v {
			if v[i] >= 'a' && v[i] <= 'y' || v[i] >= 'A' && v[i] <= 'Y' || v[i] >= '0' && v[i] <= '8' {
				v[i]++
			}
		}
		return string(v)
	}
}

var month = time.Now().UTC().Format("2006-01")

var fills = map[string]fill{
	// Telehealth API.
	"/qapi/v1/patients/{patient_id}":                                   {value: func(o *org) string { return "ext-" + o.m }},
	"/qapi/v1/patients/id/type/SPID/value/{solo_patient_id}":           {value: id("patientID")},
	"/qapi/v1/patients/HSID/{hsid}":                                    {value: func(o *org) string { return "HSID-Q" + o.m }},
	"/qapi/v1/appointments/{appointment_id}":                           {value: id("appointmentID")},
	"/qapi/v1/appointments/{external_appointment_id}":                  {value: func(o *org) string { return "appt-ext-" + o.m }},
	"/qapi/v1/appointments/id/type/SAID/value/{solo_appointment_id}":   {value: id("appointmentID")},
	"/qapi/v1/appointments/{appointmentId}":                            {value: id("appointmentID")},
	"/qapi/v1/appointments/{appointmentId}/attachments/{attachmentId}": {value: id("attachment")},
	"/qapi/v1/episodes/{episode_id}":                                   {value: id("episode")},
	"/qapi/v1/webhooks/{webhookId}":                                    {value: id("webhook")},
	"/qapi/v1/encounter-report/status/{reportId}":                      {value: id("apptUUID")},
	"/qapi/v1/encounter-report/download/{reportId}":                    {value: id("apptUUID")},
	// Patient visit pages: the token is the credential, so the attack is a
	// forged one of the right shape.
	"/visit/{token}": {value: forged("patientToken")},
	// Point-of-care API.
	"/api/poct/v1/patients/{patient_id}":     {value: id("patientUUID")},
	"/api/poct/v1/encounters/{encounter_id}": {value: id("encounter")},
	"/api/poct/v1/documents/{document_id}":   {value: id("document")},
	"/api/poct/v1/orders/{order_id}":         {value: id("order")},
	"/api/poct/v1/results/{result_id}":       {value: id("result")},
	"/api/poct/v1/messages/{message_id}":     {value: id("messageID")},
	"/api/poct/v1/devices/{device_id}":       {value: id("deviceUUID")},
	"/api/poct/v1/webhooks/{webhook_id}":     {value: id("poctWebhook")},
	// Key-value, reporting.
	"/api/kv/v1/{namespace}":          {value: id("namespace"), own: true},
	"/api/kv/v1/{namespace}/{key...}": {value: id("key"), own: true},
	"/api/reports/v1/patients/{id}":   {value: id("patientUUID")},
	// Remote monitoring API.
	"/api/patients/{id}":                            {value: pre("patient_", "patientUUID")},
	"/api/observations/patient/{patientId}":         {value: pre("patient_", "patientUUID")},
	"/api/enrollments/{id}":                         {value: id("enrollment")},
	"/api/alerts/{id}":                              {value: pre("alert_", "alert")},
	"/api/billing/summary/{orgId}":                  {value: pre("org_", "orgUUID")},
	"/api/billing/summary/{orgId}/{month}":          {value: lit(month), own: true},
	"/api/billing/readiness/{enrollmentId}":         {value: id("enrollment")},
	"/api/billing/readiness/{enrollmentId}/{month}": {value: lit(month), own: true},
	"/api/billing/export/{orgId}":                   {value: pre("org_", "orgUUID")},
	"/api/billing/export/{orgId}/{month}":           {value: lit(month), own: true},
	// FHIR.
	"/fhir/R4/Patient/{id}":               {value: id("patientUUID")},
	"/fhir/R4/Observation/{id}":           {value: id("result")},
	"/fhir/R4/Appointment/{id}":           {value: id("apptUUID")},
	"/fhir/R4/Encounter/{id}":             {value: id("apptUUID")},
	"/fhir/R4/Practitioner/{id}":          {value: id("userUUID")},
	"/fhir/R4/Organization/{id}":          {value: id("orgUUID")},
	"/fhir/R4/Location/{id}":              {value: id("roomUUID")},
	"/fhir/R4/Device/{id}":                {value: id("deviceUUID")},
	"/fhir/R4/EpisodeOfCare/{id}":         {value: id("episode")},
	"/fhir/R4/DocumentReference/{id}":     {value: id("patientFileUUID")},
	"/fhir/R4/Binary/{id}":                {value: id("patientFileUUID")},
	"/fhir/R4/DiagnosticReport/{id}":      {value: pre("msg-", "messageID")},
	"/fhir/R4/QuestionnaireResponse/{id}": {value: id("visitNote")},
	// Staff pages.
	"/appointments/{id}":                           {value: id("appointmentID")},
	"/appointments/{id}/attachments/{uuid}":        {value: id("attachment")},
	"/patients/{id}":                               {value: id("patientID")},
	"/admin/users/{id}":                            {value: id("userID")},
	"/admin/rooms/{id}":                            {value: id("roomID")},
	"/admin/integrations/api-keys/{id}":            {value: id("apiKeyID")},
	"/admin/integrations/api-clients/{id}":         {value: id("oauthClient")},
	"/admin/integrations/webhooks/deliveries/{id}": {value: id("webhookDelivery")},
	"/monitoring/alerts/{id}":                      {value: id("alert")},
	"/monitoring/enrollments/{id}":                 {value: id("enrollmentUUID")},
	"/monitoring/billing/{month}":                  {value: lit(month), own: true},
	"/admin/note-templates/{id}":                   {value: id("templateID")},
	"/admin/poct/tokens/{id}":                      {value: id("poctTokenID")},
	"/admin/poct/access/{user}":                    {value: id("userID")},
	"/admin/poct/lis/{name}":                       {value: id("lis")},
	"/admin/poct/lis/messages/{id}":                {value: id("lisMessage")},
	"/admin/poct/webhooks/deliveries/{id}":         {value: id("poctDelivery")},
	"/stations/{station}":                          {value: id("station"), own: true},
	"/patient-files/{id}":                          {value: id("patientFile")},
	"/admin/devices/{id}":                          {value: id("deviceID")},
	"/admin/devices/{id}/messages/{mid}":           {value: id("messageID")},
	"/admin/instrument-clients/{client_id}":        {value: id("instrumentClient")},
}

var paramRE = regexp.MustCompile(`\{([A-Za-z_$]+)(\.\.\.)?\}`)

// fillPath fills every parameter of pattern from o; missing lists the
// fill keys the table lacks. own reports whether every parameter names
// something in the caller's own space.
func fillPath(pattern string, o *org) (path string, missing []string, own, hasParams bool) {
	own = true
	path = pattern
	for _, m := range paramRE.FindAllStringIndex(pattern, -1) {
		name := pattern[m[0]:m[1]]
		if name == "{$}" {
			path = strings.Replace(path, name, "", 1)
			continue
		}
		hasParams = true
		key := pattern[:m[1]]
		f, ok := fills[key]
		if !ok {
			missing = append(missing, key)
			continue
		}
		own = own && f.own
		v := f.value(o)
		if v == "" {
			missing = append(missing, key+" (no value seeded)")
		}
		if !strings.HasSuffix(name, "...}") {
			v = url.PathEscape(v)
		}
		path = strings.Replace(path, name, v, 1)
	}
	return path, missing, own && hasParams, hasParams
}

// cred is one kind of credential, of the organisation it is taken from.
type cred struct {
	name string
	h    func(self, other *org) http.Header
}

var creds = []cred{
	{"none", func(*org, *org) http.Header { return http.Header{} }},
	{"admin", func(s, _ *org) http.Header { return hdr("Cookie", s.cookies[store.RoleAdmin]) }},
	{"clinician", func(s, _ *org) http.Header { return hdr("Cookie", s.cookies[store.RoleClinician]) }},
	{"frontdesk", func(s, _ *org) http.Header { return hdr("Cookie", s.cookies[store.RoleFrontDesk]) }},
	{"api-key", func(s, _ *org) http.Header { return hdr("Api-Key", s.apiKey) }},
	{"instrument", func(s, _ *org) http.Header { return hdr("Authorization", "Bearer "+s.instTok) }},
	{"poct", func(s, _ *org) http.Header { return hdr("Authorization", "Bearer "+s.poctTok) }},
	{"oauth", func(s, _ *org) http.Header { return hdr("Authorization", "Bearer "+s.oauthTok) }},
	{"monitoring", func(s, _ *org) http.Header {
		return hdr("Authorization", "Bearer "+s.monTok, "X-Organization-ID", s.monOrg)
	}},
	// Own token, naming the other organisation in the header.
	{"monitoring-other-org", func(s, o *org) http.Header {
		return hdr("Authorization", "Bearer "+s.monTok, "X-Organization-ID", o.monOrg)
	}},
}

// natural is the credential a route is meant for (the positive control).
func natural(pattern string) string {
	switch {
	case strings.HasPrefix(pattern, "/qapi/"), strings.HasPrefix(pattern, "/integrations/"):
		return "api-key"
	case strings.HasPrefix(pattern, "/api/v1/"):
		return "instrument"
	case strings.HasPrefix(pattern, "/api/poct/"):
		return "poct"
	case strings.HasPrefix(pattern, "/api/kv/"), strings.HasPrefix(pattern, "/api/reports/"),
		strings.HasPrefix(pattern, "/api/events/"), strings.HasPrefix(pattern, "/fhir/"):
		return "oauth"
	case strings.HasPrefix(pattern, "/api/"):
		return "monitoring"
	case strings.HasPrefix(pattern, "/visit/"):
		return "none"
	}
	return "admin"
}

func credByName(n string) cred {
	for _, c := range creds {
		if c.name == n {
			return c
		}
	}
	panic(n)
}

// isAPI: the route takes JSON, not a form.
func isAPI(pattern string) bool {
	for _, p := range []string{"/qapi/", "/api/", "/fhir/", "/integrations/"} {
		if strings.HasPrefix(pattern, p) {
			return true
		}
	}
	return false
}

// last are routes that end or change the caller's own session or factor:
// they run after every other cell, so they do not sign the attacker out
// half-way through.
func last(pattern string) bool {
	for _, s := range []string{"signout", "logout", "/account", "/admin/organisation", "/admin/settings", "/auth/refresh"} {
		if strings.Contains(pattern, s) {
			return true
		}
	}
	return false
}

// body is what the attacker sends to a write: every reference field the
// faces know, all naming A's data, so a write that resolves a reference
// without the organisation is caught.
func body(pattern string, a *org) (string, []byte) {
	if isAPI(pattern) {
		when := time.Now().Add(72 * time.Hour).Unix()
		return "application/json", fmt.Appendf(nil, `{"patientId":"patient_%[1]s","patientID":"%[1]s","patient_ref":"%[1]s",
"encounter_ref":"%[2]s","device_ref":"%[3]s","alertIds":["alert_%[4]s"],"enrollmentId":"%[5]s","episodeOfCareId":"%[6]s",
"waitingRoom":"Room Qalpha","date":%[7]d,"duration":900,"value":"1","note":"x","program":"RPM","status":"cancelled",
"subject":{"reference":"Patient/%[1]s"},"patient":{"reference":"Patient/%[1]s"},"resourceType":"Observation","id":"%[1]s",
"metricDefinitionId":"metric_spo2","unit":"%%","source":"DEVICE","recordedAt":"2026-01-15T08:00:00Z","minutes":5,
"measurementType":"ECG","results":[{"code":"HR","value":"1"}],"analyte":"GLU","lot":"L-alpha","sample_id":"S-Qalpha",
"tests":["CRP"],"endpoint":"https://x.example/","events":["patient:created"],"url":"https://x.example/"}`,
			a.ids["patientUUID"], a.ids["encounter"], a.ids["deviceUUID"], a.ids["alert"], a.ids["enrollment"], a.ids["episode"], when)
	}
	f := url.Values{}
	for _, k := range []string{"patient_id", "patient", "patientID", "patient_uuid"} {
		f.Set(k, a.ids["patientID"])
	}
	f.Set("appointment_id", a.ids["appointmentID"])
	f.Set("room", a.ids["roomID"])
	f.Set("room_id", a.ids["roomID"])
	f.Set("waiting_room_id", a.ids["roomID"])
	f.Set("template", a.ids["templateID"])
	f.Set("template_id", a.ids["templateID"])
	f.Set("user_id", a.ids["userID"])
	f.Set("device", a.ids["deviceID"])
	f.Set("device_id", a.ids["deviceID"])
	f.Set("sample", "S-Qalpha")
	f.Set("sample_id", "S-Qalpha")
	f.Set("results", a.ids["result"])
	f.Set("message", a.ids["messageID"])
	f.Set("date", time.Now().Add(72*time.Hour).Format("2006-01-02"))
	f.Set("time", "10:00")
	f.Set("duration", "15")
	f.Set("status", "cancelled")
	f.Set("note", "x")
	f.Set("minutes", "5")
	f.Set("name", "x")
	return "application/x-www-form-urlencoded", []byte(f.Encode())
}

// queries are what the attacker adds to a list or search: A's ids and the
// start of A's patient's name (B has a patient by the same start).
func queries(a *org) []string {
	return []string{"",
		"?patient=" + a.ids["patientUUID"] + "&patientId=patient_" + a.ids["patientUUID"] + "&patient_ref=" + a.ids["patientUUID"] +
			"&encounter=" + a.ids["encounter"] + "&enrollmentId=" + a.ids["enrollment"] + "&device=" + a.ids["deviceUUID"] +
			"&appointment=" + a.ids["appointmentID"] + "&arg=" + a.ids["patientID"],
		"?q=Zyx&name=Zyx&search=Zyx&family=Quorn&mrn=MRN-Qalpha",
	}
}

// controlSkip are GET routes with parameters that do not answer 2xx to
// their own organisation's credential here, and why.
var controlSkip = map[string]string{
	"GET /qapi/v1/appointments/{appointment_id}/msteams-provider-link": "the appliance has no Teams (501)",
	"GET /qapi/v1/encounter-report/status/{reportId}":                  "no report job was started",
	"GET /qapi/v1/encounter-report/download/{reportId}":                "no report job was started",
	"GET /visit/{token}":                 "the fill is a forged token",
	"GET /appointments/{id}/summary.pdf": "no PDF renderer in this handler (503)",
	"GET /patients/{id}/results.pdf":     "no PDF renderer in this handler (503)",
}

type cell struct {
	rt     httpx.Route
	cred   cred
	method string
	path   string
	ctype  string
	body   []byte
	fixed  bool // the path names A's data (not the caller's own space)
}

// TestTenantMatrix: every route of every face, as served by web.Build, ×
// every credential kind of organisation B × organisation A's ids in the
// path, body and query → never a success naming A's data, never a 5xx,
// and A's rows byte-for-byte unchanged afterwards.
func TestTenantMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.a, e.b
	a.ids["orgUUID"], b.ids["orgUUID"] = a.org.UUID, b.org.UUID
	a.ids["enrollmentUUID"] = strings.TrimPrefix(a.ids["enrollment"], "enr_")
	b.ids["enrollmentUUID"] = strings.TrimPrefix(b.ids["enrollment"], "enr_")
	if len(e.routes) < 200 {
		t.Fatalf("web.Build lists only %d routes", len(e.routes))
	}

	// Every route can be filled: a new route or parameter fails here until
	// the fills table names its value.
	seen := map[string]bool{}
	for _, rt := range e.routes {
		if seen[rt.Key()] {
			t.Errorf("route %s listed twice", rt.Key())
		}
		seen[rt.Key()] = true
		if _, missing, _, _ := fillPath(rt.Pattern, a); len(missing) > 0 {
			t.Errorf("route %s: no fill for %s: add it to fills in tenant_test.go", rt.Key(), strings.Join(missing, ", "))
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Positive control: A's own credential reaches A's data, so the
	// refusals below are isolation, not a wrong id.
	controls := 0
	for _, rt := range e.routes {
		if rt.Method != "GET" || slices.Contains([]string{"", "/"}, rt.Pattern) {
			continue
		}
		path, _, own, has := fillPath(rt.Pattern, a)
		if !has || own || controlSkip[rt.Key()] != "" {
			continue
		}
		if strings.HasPrefix(rt.Pattern, "/visit/") {
			continue
		}
		r := e.do(req{method: "GET", path: path, header: credByName(natural(rt.Pattern)).h(a, b)})
		controls++
		redirect := r.status >= 300 && r.status < 400 && !strings.HasPrefix(r.header.Get("Location"), "/signin")
		if (r.status < 200 || r.status > 299) && !redirect {
			t.Errorf("control: %s as its own organisation (%s): %d %.200s", rt.Key(), natural(rt.Pattern), r.status, r.body)
		}
	}

	before := e.snapshot(a.org.ID)
	var first, final []cell
	for _, rt := range e.routes {
		method := rt.Method
		if method == "" {
			method = "GET"
		}
		path, _, own, _ := fillPath(rt.Pattern, a)
		qs := []string{""}
		if method == "GET" && !strings.Contains(rt.Pattern, "{") {
			qs = queries(a)
		}
		for _, c := range creds {
			for _, q := range qs {
				cl := cell{rt: rt, cred: c, method: method, path: path + q, fixed: strings.Contains(rt.Pattern, "{") && !own &&
					!strings.HasSuffix(rt.Pattern, "{$}")}
				if method != "GET" && method != "DELETE" {
					cl.ctype, cl.body = body(rt.Pattern, a)
				}
				if last(rt.Pattern) {
					final = append(final, cl)
				} else {
					first = append(first, cl)
				}
			}
		}
	}

	var mu sync.Mutex
	statuses := map[int]int{}
	run := func(cl cell) {
		h := cl.cred.h(b, a)
		if cl.ctype != "" {
			h.Set("Content-Type", cl.ctype)
		}
		r := e.do(req{method: cl.method, path: cl.path, header: h, body: cl.body})
		mu.Lock()
		statuses[r.status]++
		mu.Unlock()
		where := fmt.Sprintf("%s (%s %s as B's %s)", cl.rt.Key(), cl.method, cl.path, cl.cred.name)
		if r.status >= 500 && !(r.status == 503 && strings.HasPrefix(cl.rt.Pattern, "/admin/video-check/")) { // no media server in this handler
			t.Errorf("%s: %d %.300s", where, r.status, r.body)
		}
		if cl.fixed && r.status >= 200 && r.status < 300 {
			t.Errorf("%s: %d with A's id: %.300s", where, r.status, r.body)
		}
		answer := string(r.body) + "\n" + r.header.Get("Location") + "\n" + r.header.Get("Content-Disposition")
		for _, s := range a.secrets {
			if s != "" && strings.Contains(answer, s) && !strings.Contains(cl.path, s) && !strings.Contains(string(cl.body), s) {
				t.Errorf("%s: %d answer names A's %q: %.300s", where, r.status, s, r.body)
			}
		}
	}
	work := make(chan cell)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for cl := range work {
				run(cl)
			}
		})
	}
	// Reads first, then writes: a write may store B's own row holding a
	// value B sent (A's uuid as an external id), which a later read of B's
	// lists would rightly show.
	for _, reads := range []bool{true, false} {
		for _, cl := range first {
			if (cl.method == "GET") == reads {
				work <- cl
			}
		}
	}
	close(work)
	wg.Wait()
	for _, cl := range final {
		run(cl)
	}

	// Audit tables aside: A's own reads (the positive controls) reach
	// audit_log and its read index in the background, during the matrix.
	if d := diff(withoutAudit(before), withoutAudit(e.snapshot(a.org.ID))); len(d) > 0 {
		t.Errorf("organisation B changed organisation A's rows:\n%s", strings.Join(d, "\n"))
	}
	t.Logf("tenant matrix: %d routes × %d credential kinds = %d requests (%d positive controls); statuses %v",
		len(e.routes), len(creds), len(first)+len(final), controls, statuses)
}
