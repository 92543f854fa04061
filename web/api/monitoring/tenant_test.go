package monitoring

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCrossOrganisationMatrix calls every route of the table with another
// organisation's ids: the answer is never a success with data, and never
// names anything of the first organisation. The route list comes from the
// table, so a new route is covered without touching this test.
func TestCrossOrganisationMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	enr := enroll(t, e, e.tokA, e.hdrA, e.patA, "")
	e.obs(e.tokA, e.hdrA, e.patA, "metric_spo2", 80, "%", start.Add(-time.Minute)).want(t, 201)
	alert := e.do("GET", "/api/alerts", e.tokA, e.hdrA, "").want(t, 200).list()[0]["id"].(string)
	secrets := []string{e.patA, enr, alert, "Astrid", "A-1"}
	values := map[string]string{"id": "", "patientId": e.patA, "enrollmentId": enr, "orgId": e.hdrA, "month": "2026-01"}
	bodies := map[string]string{
		"POST /api/observations":                  `{"patientId":"` + e.patA + `","metricDefinitionId":"metric_spo2","value":90,"unit":"%","source":"DEVICE","recordedAt":"2026-01-15T08:00:00Z"}`,
		"POST /api/enrollments":                   `{"patientId":"` + e.patA + `","program":"RPM"}`,
		"POST /api/alerts/{id}/resolve":           `{"note":"x"}`,
		"POST /api/alerts/bulk-resolve":           `{"alertIds":["` + alert + `"],"note":"x"}`,
		"PUT /api/patients/{id}":                  `{"phone":"1"}`,
		"PUT /api/enrollments/{id}":               `{"status":"ENDED"}`,
		"POST /api/enrollments/{id}/time-entries": `{"minutes":5}`,
		"POST /api/patients":                      `{"lastName":"Other"}`,
		"POST /api/metric-definitions":            `{"key":"other","name":"Other","unit":"1"}`,
	}
	cells := 0
	for _, rt := range e.h.table() {
		if rt.Access != Organisation {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		path := rt.Pattern
		switch {
		case strings.HasPrefix(path, "/api/patients/"):
			values["id"] = e.patA
		case strings.HasPrefix(path, "/api/enrollments/"):
			values["id"] = enr
		case strings.HasPrefix(path, "/api/alerts/"):
			values["id"] = alert
		}
		for name, v := range values {
			path = strings.ReplaceAll(path, "{"+name+"}", v)
		}
		for _, q := range []string{"", "?patientId=" + e.patA, "?enrollmentId=" + enr} {
			if rt.Method != "GET" && q != "" {
				continue
			}
			// Another organisation's user, in their own organisation.
			r := e.do(rt.Method, path+q, e.tokB, e.hdrB, bodies[key])
			cells++
			for _, s := range secrets {
				if strings.Contains(string(r.body), s) {
					t.Errorf("%s%s as another organisation: answer names %q: %s", key, q, s, r.body)
				}
			}
			// A GET may answer the caller's own data (lists); the check
			// above is that none of it is the first organisation's.
			if r.status >= 200 && r.status < 300 && rt.Method == "GET" && strings.Contains(rt.Pattern, "{") {
				t.Errorf("%s%s as another organisation: %d %s", key, q, r.status, r.body)
			}
			if r.status >= 200 && r.status < 300 && rt.Method != "GET" && key != "POST /api/patients" && key != "POST /api/metric-definitions" {
				t.Errorf("%s as another organisation: %d %s", key, r.status, r.body)
			}
			// The first organisation's user naming the other organisation.
			if r := e.do(rt.Method, path+q, e.tokA, e.hdrB, bodies[key]); r.status != http.StatusForbidden {
				t.Errorf("%s%s with another organisation's header: %d", key, q, r.status)
			}
			cells++
		}
	}
	t.Logf("%d cells", cells)
}
