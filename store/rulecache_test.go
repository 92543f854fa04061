package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// The writer keeps each patient's alert rules in memory; every change
// reaches the next reading: an enrollment created, a change that failed
// (and must not leave its rules behind), an enrollment paused, and one
// re-activated through another connection to the same file, as a second
// process (the command line) would.
func TestAlertRulesFollowChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, clock := newStore(t)
	f := newFixture(t, st, "rules")
	at := clock.Now().Add(-2 * time.Hour)
	n := 0
	alerts := func(st *store.Store) int {
		t.Helper()
		n++
		res, err := st.RecordReading(ctx, f.org.ID, &store.Observation{PatientID: f.patient.ID, MetricKey: "spo2", ValueNum: 80,
			Unit: "%", Source: store.SourceMonitoringDevice, MeasuredAt: at.Add(time.Duration(n) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Alerts)
	}
	if got := alerts(st); got != 0 {
		t.Fatalf("not enrolled: %d alerts", got)
	}
	e := &store.Enrollment{PatientID: f.patient.ID, Program: store.ProgramRPM, StartDate: "2026-01-01",
		Rules: []store.AlertRule{{Kind: store.RuleThreshold, MetricKey: "spo2", Operator: "<", Threshold: 88, Count: 1,
			Window: time.Hour, Severity: "CRITICAL"}}}
	if err := st.CreateEnrollment(ctx, f.org.ID, e); err != nil {
		t.Fatal(err)
	}
	if got := alerts(st); got != 1 {
		t.Fatalf("enrolled: %d alerts, want 1", got)
	}
	refused := errors.New("refused")
	if _, err := st.UpdateEnrollment(ctx, f.org.ID, e.UUID, func(e *store.Enrollment) error {
		e.Status = store.EnrollmentPaused
		return refused
	}); !errors.Is(err, refused) {
		t.Fatalf("failed change: %v", err)
	}
	if got := alerts(st); got != 1 {
		t.Fatalf("after a failed pause: %d alerts, want 1", got)
	}
	pause := func(st *store.Store, status string) {
		t.Helper()
		if _, err := st.UpdateEnrollment(ctx, f.org.ID, e.UUID, func(e *store.Enrollment) error { e.Status = status; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	pause(st, store.EnrollmentPaused)
	if got := alerts(st); got != 0 {
		t.Fatalf("paused: %d alerts, want 0", got)
	}
	other := storetest.OpenFile(t, st.Path(), store.WithClock(clock.Now))
	pause(other, store.EnrollmentActive)
	if got := alerts(st); got != 1 {
		t.Fatalf("re-activated by another connection: %d alerts, want 1", got)
	}
}
