package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// RecordReadingFor names the patient by public id and resolves it inside
// the write, in the organisation only: another organisation's patient, an
// unknown id or none is refused on patientId and nothing is stored.
func TestRecordReadingForResolvesPatientInOrg(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, clock := newStore(t)
	a, b := newFixture(t, st, "a"), newFixture(t, st, "b")
	at := clock.Now().Add(-time.Hour)
	count := func(orgID int64) int {
		t.Helper()
		var n int
		if err := st.QueryRowForTest(ctx, `SELECT count(*) FROM observations WHERE org_id = ?`, orgID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	cases := []struct {
		name, patientUUID string
		wantID            int64 // 0: refused on patientId
	}{
		{"own patient", a.patient.UUID, a.patient.ID},
		{"another organisation's patient", b.patient.UUID, 0},
		{"unknown id", "0190a1b2-0000-7000-8000-000000000000", 0},
		{"no id", "", 0},
	}
	for i, c := range cases {
		before := count(a.org.ID) + count(b.org.ID)
		o := &store.Observation{MetricKey: "spo2", ValueNum: 97, Unit: "%", Source: store.SourceMonitoringDevice,
			MeasuredAt: at.Add(time.Duration(i) * time.Minute)}
		res, err := st.RecordReadingFor(ctx, a.org.ID, c.patientUUID, o)
		added := count(a.org.ID) + count(b.org.ID) - before
		if c.wantID == 0 {
			var ve *store.ValidationError
			if !errors.As(err, &ve) || ve.Fields["patientId"] == "" {
				t.Errorf("%s: err = %v, want a validation error on patientId", c.name, err)
			}
			if added != 0 {
				t.Errorf("%s: %d observations stored", c.name, added)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if res.Reading.PatientID != c.wantID || res.Reading.PatientUUID != c.patientUUID || res.Reading.OrgID != a.org.ID || added != 1 {
			t.Errorf("%s: patient %d (%s) org %d, %d stored; want patient %d (%s) org %d, 1 stored", c.name,
				res.Reading.PatientID, res.Reading.PatientUUID, res.Reading.OrgID, added, c.wantID, c.patientUUID, a.org.ID)
		}
	}
}
