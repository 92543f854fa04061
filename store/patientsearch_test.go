package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// TestPatientSearchAsTyped: each way staff type a patient finds them, and
// only them.
func TestPatientSearchAsTyped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	org := &store.Org{Name: "Search", Slug: "search"}
	if err := st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	mk := func(first, last, mrn, cpr, phone, birth string) *store.Patient {
		p := &store.Patient{MRN: mrn, NationalID: cpr, BirthDate: birth,
			Names: []store.HumanName{{FirstName: first, LastName: last}}}
		if phone != "" {
			p.Telecom = []store.ContactPoint{{System: "phone", Value: phone}}
		}
		if err := st.CreatePatient(ctx, org.ID, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	soren := mk("Søren", "Sørensen", "MRN-1001", "010185-1234", "+45 12 34 56 78", "1985-01-01")
	aase := mk("Åse", "Ægidius", "MRN-2002", "1512852468", "20304050", "1985-12-15")
	jose := mk("José", "Müller", "P-3003", "", "0045 87 65 43 21", "1990-06-30")
	mk("Anna", "Hansen", "MRN-4004", "", "", "1970-03-03")

	tests := []struct {
		query string
		want  []int64
	}{
		{"sorensen", []int64{soren.ID}},
		{"Sørensen", []int64{soren.ID}},
		{"SØREN", []int64{soren.ID}},
		{"aase", []int64{aase.ID}},
		{"aa", []int64{aase.ID}},
		{"aegidius", []int64{aase.ID}},
		{"jose muller", []int64{jose.ID}},
		{"Müller, José", []int64{jose.ID}},
		{"Sørensen, Søren", []int64{soren.ID}},
		{"Søren Sørensen", []int64{soren.ID}},
		{"sorensen,soren", []int64{soren.ID}},
		{"010185-1234", []int64{soren.ID}},
		{"0101851234", []int64{soren.ID}},
		{"151285-2468", []int64{aase.ID}},
		{"MRN-1001", []int64{soren.ID}},
		{"mrn1001", []int64{soren.ID}},
		{"1001", []int64{soren.ID}},
		{"3003", []int64{jose.ID}},
		{"+45 12 34 56 78", []int64{soren.ID}},
		{"12 34 56 78", []int64{soren.ID}},
		{"12345678", []int64{soren.ID}},
		{"+4512345678", []int64{soren.ID}},
		{"20 30 40 50", []int64{aase.ID}},
		{"87654321", []int64{jose.ID}},
		{"1985-12", []int64{aase.ID}},
		{"1985", []int64{soren.ID, aase.ID}},
		{"1985-01-01", []int64{soren.ID}},
		{"nobody", nil},
	}
	for _, tt := range tests {
		got, n, err := st.Patients(ctx, org.ID, store.PatientFilter{Query: tt.query, Limit: 10})
		if err != nil {
			t.Fatalf("%q: %v", tt.query, err)
		}
		ids := map[int64]bool{}
		for _, p := range got {
			ids[p.ID] = true
		}
		if n != len(tt.want) || len(got) != len(tt.want) {
			t.Errorf("%q: %d found (total %d), want %d", tt.query, len(got), n, len(tt.want))
			continue
		}
		for _, id := range tt.want {
			if !ids[id] {
				t.Errorf("%q: patient %d not found", tt.query, id)
			}
		}
	}
}

// TestSearchReindexedOnOpen: a database indexed before folding existed is
// re-indexed once when opened.
func TestSearchReindexedOnOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	org := storetest.Org(t, st, "Old", "old")
	p := &store.Patient{Names: []store.HumanName{{FirstName: "Søren", LastName: "Sørensen"}}}
	if err := st.CreatePatient(ctx, org.ID, p); err != nil {
		t.Fatal(err)
	}
	// Forge the old index: the unfolded words, and no version mark.
	err := st.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`DELETE FROM patient_terms`); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO patient_terms (org_id, term, patient_id, sort_name) VALUES (?, 'sørensen', ?, 'x')`, org.ID, p.ID); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM event_cursors WHERE consumer = 'patient-terms-v2'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, n, _ := st.Patients(ctx, org.ID, store.PatientFilter{Query: "sorensen"}); n != 0 {
		t.Fatalf("the forged old index already finds the folded word")
	}
	st = storetest.Reopen(t, st)
	if _, n, _ := st.Patients(ctx, org.ID, store.PatientFilter{Query: "sorensen"}); n != 1 {
		t.Errorf("after reopening: %d found", n)
	}
}

// TestPatientSearchPagesByName: a search's total and pages, in name order,
// both when the matches are counted and sorted in Go (at most
// PatientSearchCap) and when there are more (the total says "more than",
// the index orders the page).
func TestPatientSearchPagesByName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	org := &store.Org{Name: "Cap", Slug: "cap"}
	if err := st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	// PatientSearchCap+2 patients named Capper; their last names sort in
	// another order than they are created (and than their ids), and every
	// fifth is a "Lars Capper" whose last name also starts with lars
	// (Larsen), so he matches "lars" through two terms.
	n := store.PatientSearchCap + 2
	type made struct {
		id       int64
		sortName string
		mrn      string
	}
	all := make([]made, n)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				first, last := "Capper", fmt.Sprintf("Capper%04d", (i*7919)%n)
				if i%5 == 0 {
					first, last = "Lars", fmt.Sprintf("Larsen%04d", (i*7919)%n)
				}
				p := &store.Patient{MRN: fmt.Sprintf("CAP-%04d", i),
					Names: []store.HumanName{{FirstName: first, LastName: last, Family: "Capfam"}}}
				if err := st.CreatePatient(ctx, org.ID, p); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
				all[i] = made{p.ID, strings.ToLower(last + " " + first), p.MRN}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		t.Fatal(err)
	}
	// want is the ids of the patients keep selects, in name order.
	want := func(keep func(made) bool) []int64 {
		var ms []made
		for _, m := range all {
			if keep(m) {
				ms = append(ms, m)
			}
		}
		slices.SortFunc(ms, func(a, b made) int {
			return cmp.Or(strings.Compare(a.sortName, b.sortName), cmp.Compare(a.id, b.id))
		})
		ids := make([]int64, len(ms))
		for i, m := range ms {
			ids[i] = m.id
		}
		return ids
	}
	everyone := want(func(made) bool { return true })
	lars := want(func(m made) bool { return strings.HasPrefix(m.sortName, "larsen") })
	lars00 := want(func(m made) bool {
		return strings.HasPrefix(m.sortName, "larsen") && strings.HasPrefix(m.mrn, "CAP-00")
	})
	tests := []struct {
		query         string
		limit, offset int
		total         int
		page          []int64
	}{
		{"capfam", 25, 0, store.PatientSearchCap + 1, everyone[:25]},
		{"capfam", 25, 990, store.PatientSearchCap + 1, everyone[990:1002]},
		{"capfam cap-", 10, 500, store.PatientSearchCap + 1, everyone[500:510]},
		{"lars", 25, 0, len(lars), lars[:25]},
		{"lars", 50, 180, len(lars), lars[180:]},
		{"lars capfam", 200, 0, len(lars), lars[:200]},
		{"cap-00 lars", 5, 0, len(lars00), lars00[:5]},
		{"cap-00 lars", 5, 100, len(lars00), nil},
		{"lars nobody", 5, 0, 0, nil},
	}
	for _, tt := range tests {
		got, total, err := st.Patients(ctx, org.ID, store.PatientFilter{Query: tt.query, Limit: tt.limit, Offset: tt.offset})
		if err != nil {
			t.Fatalf("%q: %v", tt.query, err)
		}
		ids := make([]int64, len(got))
		for i, p := range got {
			ids[i] = p.ID
		}
		if total != tt.total || !slices.Equal(ids, tt.page) {
			t.Errorf("%q limit %d offset %d: total %d, page %v; want %d, %v", tt.query, tt.limit, tt.offset, total, ids, tt.total, tt.page)
		}
	}
}
