package monitoring

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

func TestAlertsRaisedAsObservationsArrive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	enr := enroll(t, e, e.tokA, e.hdrA, e.patA, "")
	t0 := start.Add(-10 * time.Hour)
	ids := func(r resp) []string {
		var out []string
		for _, v := range r.json["alertIds"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	o1 := e.obs(e.tokA, e.hdrA, e.patA, "metric_bp_systolic", 185, "mmHg", t0).want(t, 201)
	if o1.json["alertIds"] != nil {
		t.Fatalf("one high reading of a twice-rule raised an alert: %s", o1.body)
	}
	e.obs(e.tokA, e.hdrA, e.patA, "metric_bp_systolic", 170, "mmHg", t0.Add(time.Hour)).want(t, 201)
	o3 := e.obs(e.tokA, e.hdrA, e.patA, "metric_bp_systolic", 190, "mmHg", t0.Add(2*time.Hour)).want(t, 201)
	alerts := ids(o3)
	if len(alerts) != 1 {
		t.Fatalf("second high reading within 24 h: %s", o3.body)
	}
	a := e.do("GET", "/api/alerts/"+alerts[0], e.tokA, e.hdrA, "").want(t, 200)
	if a.str("severity") != "HIGH" || a.str("status") != "OPEN" || a.str("enrollmentId") != enr || a.str("patientId") != e.patA ||
		a.str("patientName") != "Astrid Andersen" || a.str("raisedAt") != start.Format(time.RFC3339) ||
		!strings.Contains(a.str("message"), "bp_systolic > 180 twice within 1 day") {
		t.Fatalf("alert: %s", a.body)
	}
	if got := a.json["observationIds"].([]any); len(got) != 2 || got[0] != o1.str("id") || got[1] != o3.str("id") {
		t.Fatalf("alert keeps %v, want the two high readings", got)
	}
	// A further high reading joins the open alert rather than raising another.
	o4 := e.obs(e.tokA, e.hdrA, e.patA, "metric_bp_systolic", 200, "mmHg", t0.Add(3*time.Hour)).want(t, 201)
	if !slices.Equal(ids(o4), alerts) {
		t.Fatalf("third reading: %s", o4.body)
	}
	if a := e.do("GET", "/api/alerts/"+alerts[0], e.tokA, e.hdrA, "").want(t, 200); len(a.json["observationIds"].([]any)) != 3 {
		t.Fatalf("joined alert: %s", a.body)
	}
	// The alert and its event were written with the reading, in one transaction.
	evs, err := e.st.EventsAfter(context.Background(), e.orgA.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var raised int
	for _, ev := range evs {
		if ev.Type == store.EventAlertRaised {
			raised++
		}
	}
	if raised != 1 {
		t.Fatalf("%d alert:raised events, want 1", raised)
	}

	// High readings more than 24 h apart never meet the rule.
	pc := e.mustCreatePatient(e.tokA, e.hdrA, `{"firstName":"Cai","lastName":"Carr"}`)
	enroll(t, e, e.tokA, e.hdrA, pc, "")
	e.obs(e.tokA, e.hdrA, pc, "metric_bp_systolic", 185, "mmHg", start.Add(-50*time.Hour)).want(t, 201)
	if r := e.obs(e.tokA, e.hdrA, pc, "metric_bp_systolic", 185, "mmHg", start.Add(-25*time.Hour)).want(t, 201); r.json["alertIds"] != nil {
		t.Fatalf("readings 25 h apart: %s", r.body)
	}
	// One low SpO2 is enough for the CRITICAL rule.
	crit := ids(e.obs(e.tokA, e.hdrA, pc, "metric_spo2", 85, "%", start.Add(-time.Hour)).want(t, 201))
	if len(crit) != 1 {
		t.Fatal("low SpO2 raised no alert")
	}
	// A paused enrollment raises nothing.
	pd := e.mustCreatePatient(e.tokA, e.hdrA, `{"firstName":"Dan","lastName":"Dahl"}`)
	enroll(t, e, e.tokA, e.hdrA, pd, `,"status":"PAUSED"`)
	if r := e.obs(e.tokA, e.hdrA, pd, "metric_spo2", 80, "%", start.Add(-time.Hour)).want(t, 201); r.json["alertIds"] != nil {
		t.Fatalf("paused enrollment: %s", r.body)
	}

	// Triage: most severe first.
	tr := e.do("GET", "/api/alerts/triage", e.tokA, e.hdrA, "").want(t, 200).list()
	if len(tr) != 2 || tr[0]["id"] != crit[0] || tr[1]["id"] != alerts[0] {
		t.Fatalf("triage order: %v", tr)
	}
	if l := e.do("GET", "/api/alerts?severity=HIGH&status=OPEN", e.tokA, e.hdrA, "").want(t, 200).list(); len(l) != 1 || l[0]["id"] != alerts[0] {
		t.Fatalf("filtered list: %v", l)
	}
	if l := e.do("GET", "/api/alerts?patientId="+pc, e.tokA, e.hdrA, "").want(t, 200).list(); len(l) != 1 || l[0]["id"] != crit[0] {
		t.Fatalf("patient filter: %v", l)
	}

	// Another organisation sees none of it and cannot resolve it.
	e.do("GET", "/api/alerts/"+alerts[0], e.tokB, e.hdrB, "").want(t, 404)
	e.do("POST", "/api/alerts/"+alerts[0]+"/resolve", e.tokB, e.hdrB, `{"note":"mine now"}`).want(t, 404)
	e.do("POST", "/api/alerts/bulk-resolve", e.tokB, e.hdrB, `{"alertIds":["`+alerts[0]+`"],"note":"x"}`).want(t, 404)
	if l := e.do("GET", "/api/alerts/triage", e.tokB, e.hdrB, "").want(t, 200).list(); len(l) != 0 {
		t.Fatal("another organisation's triage shows alerts")
	}

	// Resolving needs a note.
	if r := e.do("POST", "/api/alerts/"+alerts[0]+"/resolve", e.tokA, e.hdrA, `{"note":"  "}`).want(t, 400); r.errCode() != codeValidation {
		t.Fatalf("%s", r.body)
	}
	res := e.do("POST", "/api/alerts/"+alerts[0]+"/resolve", e.tokA, e.hdrA, `{"note":"Called patient; medication adjusted"}`).want(t, 200)
	if res.str("status") != "RESOLVED" || res.str("resolvedBy") != "user_"+e.clinA.UUID || res.str("resolutionNote") != "Called patient; medication adjusted" ||
		res.str("resolvedAt") != start.Format(time.RFC3339) {
		t.Fatalf("resolved: %s", res.body)
	}
	e.do("POST", "/api/alerts/"+alerts[0]+"/resolve", e.tokA, e.hdrA, `{"note":"again"}`).want(t, 409)
	// After resolution, the rule can fire again: a new alert.
	e.obs(e.tokA, e.hdrA, e.patA, "metric_bp_systolic", 181, "mmHg", t0.Add(4*time.Hour)).want(t, 201)
	again := ids(e.obs(e.tokA, e.hdrA, e.patA, "metric_bp_systolic", 182, "mmHg", t0.Add(5*time.Hour)).want(t, 201))
	if len(again) != 1 || again[0] == alerts[0] {
		t.Fatalf("after resolution: %v", again)
	}
	// Bulk resolve is all or none.
	e.do("POST", "/api/alerts/bulk-resolve", e.tokA, e.hdrA, `{"alertIds":["`+again[0]+`","alert_nope"],"note":"done"}`).want(t, 404)
	if l := e.do("GET", "/api/alerts?status=OPEN", e.tokA, e.hdrA, "").want(t, 200).list(); len(l) != 2 {
		t.Fatalf("a failed bulk resolve changed alerts: %v", l)
	}
	e.do("POST", "/api/alerts/bulk-resolve", e.tokA, e.hdrA, `{"alertIds":["`+again[0]+`","`+crit[0]+`"]}`).want(t, 400)
	b := e.do("POST", "/api/alerts/bulk-resolve", e.tokA, e.hdrA, `{"alertIds":["`+again[0]+`","`+crit[0]+`"],"note":"reviewed"}`).want(t, 200)
	if len(b.json["resolved"].([]any)) != 2 {
		t.Fatalf("bulk: %s", b.body)
	}
	if l := e.do("GET", "/api/alerts/triage", e.tokA, e.hdrA, "").want(t, 200).list(); len(l) != 0 {
		t.Fatalf("triage after resolving all: %v", l)
	}
	e.do("GET", "/api/alerts?status=DONE", e.tokA, e.hdrA, "").want(t, 400)
}

func TestNoReadingAlert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.clk.set(time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC))
	enr := enroll(t, e, e.tokA, e.hdrA, e.patA, `,"alertRules":[{"type":"NO_READING","windowHours":72,"severity":"MEDIUM"}]`)
	e.obs(e.tokA, e.hdrA, e.patA, "metric_weight", 80, "kg", time.Date(2026, 1, 3, 8, 0, 0, 0, time.UTC)).want(t, 201)
	for _, c := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 1, 6, 7, 59, 0, 0, time.UTC), 0}, // 71 h 59 min after the reading
		{time.Date(2026, 1, 6, 8, 0, 0, 0, time.UTC), 1},  // 72 h
		{time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC), 0},  // still open: no second alert
	} {
		e.clk.set(c.at)
		n, err := e.st.SweepNoReadings(ctx)
		if err != nil || n != c.want {
			t.Fatalf("sweep at %v: %d %v, want %d", c.at, n, err, c.want)
		}
	}
	l := e.do("GET", "/api/alerts?enrollmentId="+enr, e.tokA, e.hdrA, "").want(t, 200).list()
	if len(l) != 1 || l[0]["message"] != "No reading for 3 days" || l[0]["severity"] != "MEDIUM" {
		t.Fatalf("no-reading alert: %v", l)
	}
}
