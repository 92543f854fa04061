package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// An Observation search of one patient is one indexed query: the index
// serves the patient, the code and the date range and gives the rows in
// the order asked for (no temporary b-tree to sort them), so a page of
// five reads about five rows however many results the patient has.
func TestObservationSearchPlans(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	from, to := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	npu := []store.CodeRef{{Systems: []string{"NPU", "npu", "http://npu-terminology.org"}, Code: "NPU02187"}}
	page := store.Page{Limit: 51}
	for _, tc := range []struct {
		name  string
		f     store.ObservationSearch
		index string
		sorts bool // a temporary b-tree orders the rows (few, or no index gives the order)
	}{
		{"patient, code, date, newest first", store.ObservationSearch{PatientID: 7, Codes: npu,
			Effective: []store.TimeRange{{From: from}, {To: to}}, SortDate: -1, Page: page}, "observations_patient_code", false},
		{"patient, code, date, oldest first", store.ObservationSearch{PatientID: 7, Codes: npu,
			Effective: []store.TimeRange{{From: from, To: to}}, SortDate: 1, Page: page}, "observations_patient_code", false},
		{"patient, code", store.ObservationSearch{PatientID: 7, Codes: npu, SortDate: -1, Page: page}, "observations_patient_code", false},
		{"patient, date, newest first", store.ObservationSearch{PatientID: 7,
			Effective: []store.TimeRange{{From: from, To: to}}, SortDate: -1, Page: page}, "observations_patient", false},
		{"patient, two codes", store.ObservationSearch{PatientID: 7, Codes: append(npu, store.CodeRef{Code: "718-7"}), Page: page}, "observations_patient", true},
		{"device", store.ObservationSearch{DeviceID: 3, Page: page}, "observations_device", true},
		{"ids", store.ObservationSearch{UUIDs: []string{"a", "b"}, Page: page}, "sqlite_autoindex_observations_1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := st.ObservationSearchPlan(context.Background(), 1, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			used := false
			for _, step := range plan {
				if strings.Contains(step, "TEMP B-TREE") && !tc.sorts {
					t.Errorf("sorts in a temporary b-tree: %q", plan)
				}
				if strings.HasPrefix(step, "SCAN o") {
					t.Errorf("scans observations: %q", plan)
				}
				if strings.Contains(step, "INDEX "+tc.index+" ") {
					used = true
				}
			}
			if !used {
				t.Errorf("does not use %s: %q", tc.index, plan)
			}
			t.Log(plan)
		})
	}
}
