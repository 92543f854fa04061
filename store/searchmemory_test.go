package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// A face may search a patient's results in memory (ObservationSearch.Match
// and store.PageObservations over what SearchObservations found for the patient):
// it must find exactly what the SQL finds, in the same order, for every
// kind of filter.
func TestObservationSearchInMemoryAgreesWithSQL(t *testing.T) {
	st, _ := newStore(t)
	f := newFixture(t, st, "a")
	ctx := context.Background()
	dev := &store.Device{Name: "Analyser", Protocol: store.ProtocolASTM, PortPath: "/dev/ttyS9", Baud: 9600, DataBits: 8, Parity: "none", StopBits: "1", Active: true}
	if err := st.CreateDevice(ctx, f.org.ID, dev); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	var obs []store.Observation
	for range 300 {
		o := store.Observation{PatientID: f.patient.ID, Source: "serial", Code: pick("NPU02187", "6690-2", "CRP", "crp"),
			CodeSystem: pick("NPU", "LN", "local", ""), Category: pick("", "laboratory", "vital-signs"),
			Status: pick("F", "P", "final", "C", ""), Value: fmt.Sprint(rng.IntN(100)), QC: rng.IntN(20) == 0}
		if rng.IntN(10) > 0 { // some have no measured time
			// Whole hours, often shared: the order's tie-break by id.
			o.MeasuredAt = base.Add(time.Duration(rng.IntN(24*20)) * time.Hour)
		}
		if rng.IntN(2) == 0 {
			o.DeviceID = dev.ID
		}
		obs = append(obs, o)
	}
	if err := st.AddObservations(ctx, f.org.ID, obs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(obs); i += 37 { // some corrected: the earlier version is no longer current
		if obs[i].QC {
			continue
		}
		if _, err := st.CorrectResult(ctx, f.org.ID, obs[i].UUID, store.Correction{Value: "1", Status: "C", Note: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := st.SearchObservations(ctx, f.org.ID, store.ObservationSearch{PatientID: f.patient.ID, Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return base.AddDate(0, 0, d) }
	filters := []store.ObservationSearch{
		{},
		{SortDate: 1},
		{SortDate: -1, Page: store.Page{Limit: 7, Offset: 3}},
		{Codes: []store.CodeRef{{Code: "CRP"}}},
		{Codes: []store.CodeRef{{Code: "NPU02187", Systems: []string{"NPU", "npu"}}, {Code: "crp", Systems: []string{"local", ""}}}, SortDate: -1},
		{Statuses: []string{"F", "final"}},
		{Category: []string{"vital-signs", ""}, SortDate: 1},
		{Effective: []store.TimeRange{{From: day(3)}, {To: day(9)}}, SortDate: -1},
		{Effective: []store.TimeRange{{From: day(5), To: day(6), Not: true}}},
		{Effective: []store.TimeRange{{}}},
		{Effective: []store.TimeRange{{Not: true}}},
		{DeviceID: dev.ID, Page: store.Page{Limit: 10, Offset: 250}},
		{Codes: []store.CodeRef{{Code: "6690-2"}}, Effective: []store.TimeRange{{From: day(2), To: day(12)}}, SortDate: -1, Page: store.Page{Limit: 3}},
		{Page: store.Page{Limit: 2000}},
		{Page: store.Page{Offset: 1000}},
	}
	for i, fl := range filters {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			fl.PatientID = f.patient.ID
			want, err := st.SearchObservations(ctx, f.org.ID, fl)
			if err != nil {
				t.Fatal(err)
			}
			var hits []*store.ObservationFacts
			for j := range all {
				if facts := all[j].Facts(); fl.Match(&facts) {
					hits = append(hits, &facts)
				}
			}
			got := store.PageObservations(&fl, hits, func(r *store.ObservationFacts) *store.ObservationFacts { return r })
			ids := func(n int, at func(int) int64) []int64 {
				out := make([]int64, n)
				for k := range out {
					out[k] = at(k)
				}
				return out
			}
			w := ids(len(want), func(k int) int64 { return want[k].ID })
			g := ids(len(got), func(k int) int64 { return got[k].ID })
			if !slices.Equal(g, w) {
				t.Errorf("filter %+v:\nin memory %v\nSQL       %v", fl, g, w)
			}
		})
	}
	if len(all) < 200 {
		t.Fatalf("only %d current results", len(all))
	}
}
