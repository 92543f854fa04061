package store_test

import (
	"context"
	"strings"
	"testing"
)

// Every query over monitoring readings is answered from an index of
// observations (migration 0015 merged the two reading indexes into one):
// none scans the table, and the ones naming a patient and a metric use
// observations_reading.
func TestReadingQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	plans, err := st.ReadingQueryPlans(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantIndex := map[string]string{
		"duplicate reading":               "observations_reading",
		"readings beyond a threshold":     "observations_reading",
		"readings of a patient":           "observations_patient",
		"readings of a patient's metric":  "observations_reading",
		"a metric's readings in a window": "observations_reading",
		"next page":                       "observations_reading",
	}
	for name, want := range wantIndex {
		plan := plans[name]
		if len(plan) == 0 {
			t.Errorf("%s: no plan", name)
			continue
		}
		used := false
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN") && !strings.Contains(step, "INDEX") {
				t.Errorf("%s scans a table: %q", name, step)
			}
			if strings.Contains(step, "INDEX "+want+" ") {
				used = true
			}
		}
		if !used {
			t.Errorf("%s does not use %s: %q", name, want, plan)
		}
	}
	if len(plans) != len(wantIndex) {
		t.Errorf("%d plans, want %d", len(plans), len(wantIndex))
	}
}
