package monitoring_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// The enrollment page shows readings, logged time and alerts in the
// clinic's zone (its waiting room's, Europe/Copenhagen here), not in UTC:
// a reading at 23:30 UTC is on the next day in Copenhagen, in English and
// in Danish alike, in the readings table and in the chart's labels.
func TestEnrollmentPageShowsClinicTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	must(t, e.st.CreateWaitingRoom(ctx, e.org.ID, &store.WaitingRoom{Name: "Clinic", SlotDuration: 900, Active: true,
		Timezone: "Europe/Copenhagen"}))
	dane := &store.User{Email: "dansk@c.example", Name: "Dorte Dansk", Role: store.RoleClinician}
	must(t, e.st.CreateUser(ctx, e.org.ID, dane, password))
	must(t, e.st.SetUserLanguage(ctx, e.org.ID, dane.ID, "da"))

	b := e.browser()
	b.signIn(e.doc.Email).want(t, 303)
	r := b.post("/patients/"+itoa(e.patient.ID)+"/enrollments", url.Values{"program": {"RPM"}}).want(t, 303)
	enr := strings.TrimPrefix(r.loc, "/monitoring/enrollments/")
	_, err := e.st.UpdateEnrollment(ctx, e.org.ID, enr, func(en *store.Enrollment) error { en.StartDate = "2026-01-01"; return nil })
	must(t, err)
	add := func(metric string, v float64, unit string, at time.Time) {
		_, err := e.st.RecordReading(ctx, e.org.ID, &store.Observation{PatientID: e.patient.ID, MetricKey: metric, ValueNum: v,
			Unit: unit, Source: store.SourceMonitoringDevice, MeasuredAt: at})
		must(t, err)
	}
	// Half an hour before midnight UTC is half past midnight in Copenhagen
	// (CET, UTC+1), the next day; a minute before 23:00 UTC is still the
	// same day there.
	add("bp_systolic", 121, "mmHg", time.Date(2026, 1, 17, 23, 30, 0, 0, time.UTC))
	add("bp_systolic", 122, "mmHg", time.Date(2026, 1, 18, 22, 59, 0, 0, time.UTC))
	// The clock at 23:10 UTC on the 19th: five minutes logged then started
	// at 00:05 on the 20th in Copenhagen; an alert raised then (SpO2 below
	// the default 88) at 00:10.
	e.now.Store(time.Date(2026, 1, 19, 23, 10, 0, 0, time.UTC).UnixNano())
	b.post("/monitoring/enrollments/"+enr+"/time", url.Values{"minutes": {"5"}, "note": {"call"}}).want(t, 303)
	add("spo2", 80, "%", time.Date(2026, 1, 19, 23, 9, 0, 0, time.UTC))

	d := e.browser()
	d.signIn(dane.Email).want(t, 303)
	cases := []struct {
		lang      string
		b         *browser
		want, not []string
	}{
		{"en", b,
			[]string{"18 Jan 00:30", "18 Jan 23:59", "121 mmHg at 18 Jan 00:30", "122 mmHg at 18 Jan 23:59", "20 Jan 00:05", "20 Jan 00:10", "20 Jan 00:09"},
			[]string{"17 Jan 23:30", "18 Jan 22:59", "19 Jan 23:05", "19 Jan 23:10"}},
		{"da", d,
			[]string{"18. jan. 00.30", "18. jan. 23.59", "121 mmHg at 18 Jan 00:30", "20. jan. 00.05", "20. jan. 00.10", "20. jan. 00.09"},
			[]string{"17. jan. 23.30", "18. jan. 22.59", "19. jan. 23.05", "19. jan. 23.10"}},
	}
	for _, c := range cases {
		page := c.b.get("/monitoring/enrollments/"+enr).want(t, 200).body
		for _, w := range c.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: enrollment page lacks %q", c.lang, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(page, n) {
				t.Errorf("%s: enrollment page shows %q (UTC)", c.lang, n)
			}
		}
	}
}
