package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
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
	st := storetest.Open(t)
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

// TestWestgardPublishedExercise judges, value by value as they arrive, the
// data set of a published worked example with its answer key: Sten
// Westgard, "Break All the Rules! (Answers to Part One)", Westgard QC,
// August 2015 (westgard.com/qc-applications/basic-qc-practices/
// break-all-rules-answers1.html): one control, mean 47, SD 3, measurements
// 1 to 61. The key names the rejection rules broken (not the 1-2s warning)
// and marks a rule over the rows it spans; the rule fires on the last of
// them, when the run that completes it arrives:
//
//	6 1:3s; 12 1:3s; 14-15 2:2s; 26-27 2:2s; 37-40 4:1s; 44-51 8:x;
//	52-55 4:1s; 58-67 10:x (rows 62-67 are beyond the data copied here).
//
// 8:x is not one of this appliance's rules (the classic multirule uses
// 10-x), so 44-51 must flag nothing; that is the one deliberate difference
// from the key. The 1-2s warning fires on exactly the values beyond 2 SD.
func TestWestgardPublishedExercise(t *testing.T) {
	values := []float64{42.5, 55.1, 46.4, 47.0, 43.1, 56.9, 41.3, 44.9, 45.5, 41.3, // 1-10
		47.0, 37.7, 41.6, 53.3, 55.4, 44.6, 47.3, 48.2, 41.3, 42.8, // 11-20
		44.3, 47.6, 44.3, 45.8, 47.6, 39.8, 39.8, 50.9, 49.7, 45.5, // 21-30
		45.2, 47.3, 47.9, 44.3, 40.1, 48.2, 40.7, 41.9, 43.4, 43.7, // 31-40
		49.7, 42.2, 52.1, 44.6, 45.2, 45.8, 41.6, 41.3, 44.9, 43.7, // 41-50
		45.2, 50.6, 50.3, 51.2, 51.5, 44.3, 41.6, 53.9, 48.8, 48.2, // 51-60
		50.6} // 61
	key := map[int][]string{ // measurement number -> rejection rules broken
		6: {store.Rule13s}, 12: {store.Rule13s}, 15: {store.Rule22s}, 27: {store.Rule22s},
		40: {store.Rule41s}, 55: {store.Rule41s},
	}
	const mean, sd = 47.0, 3.0
	var z []float64
	for i, v := range values {
		n := i + 1
		z = append(z, (v-mean)/sd)
		got := store.Westgard(z)
		var reject []string
		warned := false
		for _, r := range got {
			if r == store.Rule12s {
				warned = true
			} else {
				reject = append(reject, r)
			}
		}
		if !slices.Equal(reject, key[n]) {
			t.Errorf("measurement %d (%.1f, z %.1f): rejection rules %v, the key says %v", n, v, z[i], reject, key[n])
		}
		if beyond2 := z[i] > 2 || z[i] < -2; warned != beyond2 {
			t.Errorf("measurement %d (z %.2f): 1-2s %v", n, z[i], warned)
		}
		want := store.QCAccepted
		switch {
		case len(key[n]) > 0:
			want = store.QCRejected
		case warned:
			want = store.QCWarning
		}
		if s := store.QCStatus(got); s != want {
			t.Errorf("measurement %d: status %s, want %s", n, s, want)
		}
	}
}
