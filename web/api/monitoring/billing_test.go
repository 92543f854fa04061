package monitoring

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// billingFixture is one patient's month: readings on days 1..days of
// January 2026 (two on the first day, which counts once) and minutes of
// management time.
type billingFixture struct {
	name        string
	days        int
	minutes     int
	interactive bool
	codes       string            // billable codes "code×units", in order
	missing     map[string]string // code → what readiness says is missing
}

func TestBillingRulesAtEachEdge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clk.set(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	tok := e.login(e.clinA.Email)["accessToken"].(string)
	const noTalk = "an interactive communication with the patient"
	cases := []billingFixture{
		{"1 day", 1, 0, false, "", map[string]string{"99453": "1 more day of readings", "99445": "1 more day of readings", "99454": "15 more days of readings"}},
		{"2 days", 2, 0, false, "99453×1 99445×1", map[string]string{"99454": "14 more days of readings"}},
		{"7 days", 7, 0, false, "99453×1 99445×1", map[string]string{"99454": "9 more days of readings"}},
		{"15 days", 15, 0, false, "99453×1 99445×1", map[string]string{"99454": "1 more day of readings"}},
		{"16 days", 16, 0, false, "99453×1 99454×1", map[string]string{"99445": "not billed with 99454"}},
		{"31 days", 31, 0, false, "99453×1 99454×1", nil},
		{"9 minutes", 2, 9, true, "99453×1 99445×1", map[string]string{"99470": "1 more minute", "99457": "11 more minutes", "99458": "31 more minutes"}},
		{"10 minutes", 2, 10, true, "99453×1 99445×1 99470×1", map[string]string{"99457": "10 more minutes"}},
		{"14 minutes", 2, 14, true, "99453×1 99445×1 99470×1", map[string]string{"99457": "6 more minutes"}},
		{"19 minutes", 2, 19, true, "99453×1 99445×1 99470×1", map[string]string{"99457": "1 more minute"}},
		{"20 minutes", 2, 20, true, "99453×1 99445×1 99457×1", map[string]string{"99470": "not billed with 99457", "99458": "20 more minutes"}},
		{"39 minutes", 2, 39, true, "99453×1 99445×1 99457×1", map[string]string{"99458": "1 more minute"}},
		{"40 minutes", 2, 40, true, "99453×1 99445×1 99457×1 99458×1", nil},
		{"59 minutes", 2, 59, true, "99453×1 99445×1 99457×1 99458×1", nil},
		{"60 minutes", 2, 60, true, "99453×1 99445×1 99457×1 99458×2", nil},
		{"25 minutes, no interactive communication", 2, 25, false, "99453×1 99445×1", map[string]string{"99457": noTalk, "99470": noTalk, "99458": "15 more minutes and " + noTalk}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := e.mustCreatePatient(tok, e.hdrA, fmt.Sprintf(`{"firstName":"Bill%d","lastName":"Able"}`, i))
			enr := enroll(t, e, tok, e.hdrA, p, `,"alertRules":[]`)
			for d := 1; d <= c.days; d++ {
				e.obs(tok, e.hdrA, p, "metric_weight", 80, "kg", time.Date(2026, 1, d, 8, 0, 0, 0, time.UTC)).want(t, 201)
			}
			e.obs(tok, e.hdrA, p, "metric_weight", 80.2, "kg", time.Date(2026, 1, 1, 20, 0, 0, 0, time.UTC)).want(t, 201)
			// A manual reading on another day does not count as device data.
			manual := `{"patientId":"` + p + `","metricDefinitionId":"metric_weight","value":79,"unit":"kg","source":"MANUAL","recordedAt":"2026-01-31T09:30:00Z"}`
			e.do("POST", "/api/observations", tok, e.hdrA, manual).want(t, 201)
			if c.minutes > 0 {
				// Split over two entries; only one is interactive.
				first := c.minutes / 2
				e.do("POST", "/api/enrollments/"+enr+"/time-entries", tok, e.hdrA,
					fmt.Sprintf(`{"minutes":%d,"startedAt":"2026-01-10T10:00:00Z","interactive":%t}`, first, c.interactive)).want(t, 201)
				e.do("POST", "/api/enrollments/"+enr+"/time-entries", tok, e.hdrA,
					fmt.Sprintf(`{"minutes":%d,"startedAt":"2026-01-20T10:00:00Z"}`, c.minutes-first)).want(t, 201)
			}
			r := e.do("GET", "/api/billing/readiness/"+enr+"/2026-01", tok, e.hdrA, "").want(t, 200)
			var codes []string
			for _, l := range r.json["codes"].([]any) {
				m := l.(map[string]any)
				codes = append(codes, fmt.Sprintf("%s×%v", m["code"], m["units"]))
			}
			if got := strings.Join(codes, " "); got != c.codes {
				t.Errorf("codes %q, want %q", got, c.codes)
			}
			wantDays := min(c.days, 30)
			if int(r.json["readingDays"].(float64)) != wantDays || int(r.json["minutes"].(float64)) != c.minutes {
				t.Errorf("facts: %s", r.body)
			}
			reqs := map[string]map[string]any{}
			for _, q := range r.json["requirements"].([]any) {
				m := q.(map[string]any)
				reqs[m["code"].(string)] = m
			}
			for code, want := range c.missing {
				if got, _ := reqs[code]["missing"].(string); got != want {
					t.Errorf("%s missing %q, want %q", code, got, want)
				}
			}
			for _, code := range strings.Fields(c.codes) {
				code = strings.Split(code, "×")[0]
				if reqs[code]["met"] != true {
					t.Errorf("%s billed but not met: %v", code, reqs[code])
				}
			}
		})
	}
}

func TestBillingSetupOncePerEpisode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clk.set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	tok := e.login(e.clinA.Email)["accessToken"].(string)
	enr := e.do("POST", "/api/enrollments", tok, e.hdrA, `{"patientId":"`+e.patA+`","program":"RPM","startDate":"2025-12-01","alertRules":[]}`).want(t, 201).str("id")
	for _, d := range []time.Time{time.Date(2025, 12, 31, 8, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 3, 8, 0, 0, 0, time.UTC), time.Date(2026, 2, 4, 8, 0, 0, 0, time.UTC)} {
		e.obs(tok, e.hdrA, e.patA, "metric_weight", 80, "kg", d).want(t, 201)
	}
	setup := func(month string) (bool, string) {
		r := e.do("GET", "/api/billing/readiness/"+enr+"/"+month, tok, e.hdrA, "").want(t, 200)
		billed := strings.Contains(string(r.body), `"code":"99453","units"`)
		for _, q := range r.json["requirements"].([]any) {
			if m := q.(map[string]any); m["code"] == "99453" {
				s, _ := m["missing"].(string)
				return billed, s
			}
		}
		return billed, ""
	}
	for _, c := range []struct {
		month   string
		billed  bool
		missing string
	}{
		{"2025-12", false, "1 more day of readings"},
		{"2026-01", true, ""},
		{"2026-02", false, "billed once per episode, in 2026-01"},
	} {
		if b, m := setup(c.month); b != c.billed || m != c.missing {
			t.Errorf("%s: billed %t missing %q, want %t %q", c.month, b, m, c.billed, c.missing)
		}
	}
	e.do("GET", "/api/billing/readiness/"+enr+"/2026-13", tok, e.hdrA, "").want(t, 400)
	tokB := e.login(e.userB.Email)["accessToken"].(string)
	e.do("GET", "/api/billing/readiness/"+enr+"/2026-01", tokB, e.hdrB, "").want(t, 404)
}

func TestBillingSummaryAndExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clk.set(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	tok := e.login(e.clinA.Email)["accessToken"].(string)
	ctx := context.Background()
	enr := enroll(t, e, tok, e.hdrA, e.patA, `,"alertRules":[]`)
	for d := 1; d <= 16; d++ {
		e.obs(tok, e.hdrA, e.patA, "metric_bp_systolic", 130, "mmHg", time.Date(2026, 1, d, 8, 0, 0, 0, time.UTC)).want(t, 201)
	}
	e.do("POST", "/api/enrollments/"+enr+"/time-entries", tok, e.hdrA, `{"minutes":45,"startedAt":"2026-01-12T10:00:00Z","interactive":true}`).want(t, 201)
	// A CCM enrollment is listed without codes; an enrollment that starts
	// after the month is not listed.
	e.do("POST", "/api/enrollments", tok, e.hdrA, `{"patientId":"`+e.patA+`","program":"CCM","startDate":"2026-01-01","alertRules":[]}`).want(t, 201)
	e.do("POST", "/api/enrollments", tok, e.hdrA, `{"patientId":"`+e.patA+`","program":"RPM","startDate":"2026-02-01","alertRules":[]}`).want(t, 201)
	if _, err := e.st.UpdatePatient(ctx, e.orgA.ID, store.ByUUID, strings.TrimPrefix(e.patA, "patient_"), func(p *store.Patient) error {
		p.MRN = "=HYPERLINK(1)"
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	s := e.do("GET", "/api/billing/summary/"+e.hdrA+"/2026-01", tok, e.hdrA, "").want(t, 200)
	if s.str("organizationId") != e.hdrA || s.str("month") != "2026-01" || len(s.json["enrollments"].([]any)) != 2 {
		t.Fatalf("summary: %s", s.body)
	}
	var totals []string
	for _, l := range s.json["totals"].([]any) {
		m := l.(map[string]any)
		totals = append(totals, fmt.Sprintf("%s×%v", m["code"], m["units"]))
	}
	if got := strings.Join(totals, " "); got != "99453×1 99454×1 99457×1 99458×1" {
		t.Fatalf("totals %q", got)
	}

	x := e.do("GET", "/api/billing/export/"+e.hdrA+"/2026-01", tok, e.hdrA, "").want(t, 200)
	if !strings.HasPrefix(x.header.Get("Content-Type"), "text/csv") || !strings.Contains(x.header.Get("Content-Disposition"), "rpm-billing-2026-01.csv") {
		t.Fatalf("export headers: %v", x.header)
	}
	rows, err := csv.NewReader(strings.NewReader(string(x.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("export rows: %v", rows)
	}
	want := []string{"2026-01", enr, e.patA, "Astrid Andersen", "'=HYPERLINK(1)", "RPM", "99453", "1", "16", "45", "true"}
	if strings.Join(rows[1], "|") != strings.Join(want, "|") {
		t.Fatalf("row %v, want %v", rows[1], want)
	}
	// Another organisation's id in the path: forbidden, never its data.
	tokB := e.login(e.userB.Email)["accessToken"].(string)
	if r := e.do("GET", "/api/billing/summary/"+e.hdrA+"/2026-01", tokB, e.hdrB, "").want(t, 403); strings.Contains(string(r.body), "Astrid") {
		t.Fatal("data leaked")
	}
	e.do("GET", "/api/billing/export/"+e.hdrA+"/2026-01", tokB, e.hdrB, "").want(t, 403)
	e.do("GET", "/api/billing/summary/"+e.hdrA+"/January", tok, e.hdrA, "").want(t, 400)
}
