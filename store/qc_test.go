package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// TestWestgard checks the multirules against their published definitions:
// Westgard JO, Barry PL, Hunt MR, Groth T. "A multi-rule Shewhart chart
// for quality control in clinical chemistry." Clin Chem 1981;27(3):493-501
// (1-2s warning; 1-3s, 2-2s, R-4s, 4-1s, 10-x rejection), as restated with
// consecutive values in NCSS's "Levey-Jennings Charts" procedure (chapter
// 252: "2S2: two consecutive values either greater than, or less than,
// 2*sigma from the mean; RS4: a difference between consecutive values
// greater than 4*sigma; 4S1: four consecutive values greater than, or less
// than, 1*sigma; 10X: ten consecutive values all greater than, or less
// than, the mean").
//
// The last case is a published QC exercise: 20 days of a normal potassium
// control, 3.8 ... 4.6 mmol/L with SD 0.50 (numerade.com, "establishing a
// Levey-Jennings chart for the new lot number of normal K+ controls"). Its
// mean is 4.64; no value is beyond 2 SD and the longest run on one side is
// eight (days 10-17), so none of the six rules fires: the shift it shows
// is the kind only an 8-x rule would flag.
func TestWestgard(t *testing.T) {
	k := []float64{3.8, 4.2, 4.5, 3.8, 4.3, 4.7, 4.8, 4.8, 4.6, 5.2, 5.0, 5.4, 5.0, 5.2, 5.2, 4.8, 4.9, 3.8, 4.2, 4.6}
	var kz []float64
	for _, v := range k {
		kz = append(kz, (v-4.64)/0.5)
	}
	cases := []struct {
		name   string
		z      []float64
		want   []string
		status string
	}{
		{"in control", []float64{0.3, -0.8, 1.2}, nil, store.QCAccepted},
		{"1-2s warning only", []float64{0.1, 2.4}, []string{store.Rule12s}, store.QCWarning},
		{"exactly 2 SD is inside", []float64{0.1, 2.0}, nil, store.QCAccepted},
		{"1-3s", []float64{0.5, -3.2}, []string{store.Rule12s, store.Rule13s}, store.QCRejected},
		{"2-2s above", []float64{2.1, 2.3}, []string{store.Rule12s, store.Rule22s}, store.QCRejected},
		{"2-2s needs the same side", []float64{-2.1, 2.3}, []string{store.Rule12s, store.RuleR4s}, store.QCRejected},
		{"R-4s", []float64{2.5, -2.2}, []string{store.Rule12s, store.RuleR4s}, store.QCRejected},
		{"4-1s below", []float64{-1.2, -1.5, -1.1, -1.9}, []string{store.Rule41s}, store.QCRejected},
		{"3 of 4 beyond 1s is not 4-1s", []float64{-1.2, -0.5, -1.1, -1.9}, nil, store.QCAccepted},
		{"10-x", []float64{0.2, 0.5, 0.1, 0.9, 0.3, 0.4, 0.2, 0.6, 0.1, 0.3}, []string{store.Rule10x}, store.QCRejected},
		{"9 on one side is not 10-x", []float64{-0.5, 0.2, 0.5, 0.1, 0.9, 0.3, 0.4, 0.2, 0.6, 0.1}, nil, store.QCAccepted},
		{"published K+ exercise", kz, nil, store.QCAccepted},
	}
	for _, c := range cases {
		got := store.Westgard(c.z)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: rules %v, want %v", c.name, got, c.want)
		}
		if s := store.QCStatus(got); s != c.status {
			t.Errorf("%s: status %s, want %s", c.name, s, c.status)
		}
	}
	// Every prefix of the K+ series is in control too (the rules judge each
	// newest value as it arrives).
	for i := 1; i <= len(kz); i++ {
		if r := store.Westgard(kz[:i]); len(r) > 0 {
			t.Errorf("K+ day %d: %v", i, r)
		}
	}
}

// TestQCRunsFlagRunAndDevice: stored runs are judged against the series of
// the same control, the run and the device carry the outcome, and a
// rejection writes qc:failed.
func TestQCRunsFlagRunAndDevice(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "qc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	org := &store.Org{Name: "Q", Slug: "q"}
	if err := st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	dev := &store.Device{Name: "A", Protocol: "astm", PortPath: "/dev/x"}
	if err := st.CreateDevice(ctx, org.ID, dev); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveQCTarget(ctx, org.ID, &store.QCTarget{DeviceID: dev.ID, Code: "K", Lot: "L1", Level: "N", Mean: 4.64, SD: 0.5}); err != nil {
		t.Fatal(err)
	}
	run := func(level, v string) *store.QCRunRecord {
		r, err := st.RecordQCRun(ctx, org.ID, store.QCMeasurement{DeviceID: dev.ID, Code: "K", Lot: "L1", Level: level, Value: v, Unit: "mmol/L"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Another level has no target: stored, not evaluated, not mixed in.
	if r := run("H", "9.9"); r.Status != store.QCNotEvaluated || r.Z != nil {
		t.Errorf("no target: %+v", r)
	}
	for _, v := range []string{"4.6", "5.8", "3.5"} { // +2.32 then -2.28: R-4s
		run("N", v)
	}
	runs, _ := st.QCRunRecords(ctx, org.ID, store.QCRunFilter{Level: "N"})
	if len(runs) != 3 || runs[1].Status != store.QCWarning || runs[2].Status != store.QCRejected ||
		!slices.Equal(runs[2].Rules, []string{store.Rule12s, store.RuleR4s}) {
		t.Fatalf("runs %+v", runs)
	}
	f, err := st.FleetDevice(ctx, org.ID, dev.UUID)
	if err != nil || f.Status.QCState != "failed" {
		t.Fatalf("device qc state: %+v %v", f, err)
	}
	evs, _ := st.EventsAfter(ctx, org.ID, 0, 100)
	n := 0
	for _, e := range evs {
		if e.Type == store.EventQCFailed && e.SubjectID == runs[2].ID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d qc:failed events for the rejected run", n)
	}
	if r := run("N", "4.7"); r.Status != store.QCAccepted {
		t.Errorf("back in control: %+v", r)
	}
	if f, _ := st.FleetDevice(ctx, org.ID, dev.UUID); f.Status.QCState != "ok" {
		t.Errorf("device qc state after a good run: %s", f.Status.QCState)
	}
}
