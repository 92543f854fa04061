package devices

import (
	"context"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

func TestMatch(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	org := storetest.Org(t, st, "C", "c")
	anna := &store.Patient{MRN: "M1", NationalID: "0101801234", Active: true}
	bo := &store.Patient{MRN: "M2", Active: true}
	sel := &store.Patient{MRN: "M3", Active: true}
	for _, p := range []*store.Patient{anna, bo, sel} {
		if err := st.CreatePatient(ctx, org.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateSampleOrder(ctx, org.ID, &store.SampleOrder{SampleID: "S-BO", PatientID: bo.ID}); err != nil {
		t.Fatal(err)
	}
	if err := st.SelectStationPatient(ctx, org.ID, "Lab", sel.ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ids  identifiers
		want int64
	}{
		{"mrn", identifiers{patient: []string{"M1"}}, anna.ID},
		{"national id", identifiers{national: []string{"0101801234"}}, anna.ID},
		{"mrn and an unknown lab number", identifiers{patient: []string{"M1", "LAB-77"}}, anna.ID},
		{"sample label", identifiers{samples: []string{"S-BO"}}, bo.ID},
		{"conflict: mrn of one, sample of another", identifiers{patient: []string{"M1"}, samples: []string{"S-BO"}}, 0},
		{"unknown patient is not the selected one", identifiers{patient: []string{"NOBODY"}}, 0},
		{"no patient named: the selected one", identifiers{}, sel.ID},
		{"unknown sample only: the selected one", identifiers{samples: []string{"0001"}}, sel.ID},
	}
	for _, c := range cases {
		got, ref, err := match(ctx, st, org.ID, "Lab", c.ids)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: matched %d, want %d (%s)", c.name, got, c.want, ref)
		}
	}
	// Another station has no selection: nothing named means unmatched.
	if got, _, _ := match(ctx, st, org.ID, "Other", identifiers{}); got != 0 {
		t.Errorf("no selection: matched %d", got)
	}
}
