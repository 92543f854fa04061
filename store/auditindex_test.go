package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// A patient's audit history has every row about the patient, whether its
// read is already in the bulk index or still in the tail after the cursor,
// and pages through it without gaps or repeats.
func TestAuditLogPatientHistory(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	a, b := newFixture(t, st, "a"), newFixture(t, st, "b")
	p, other := a.patient.ID, a.patient.ID+1000 // other: a patient id with reads of its own
	audit := func(org, patient int64, action string, n int) {
		t.Helper()
		actx := store.WithActor(ctx, store.Actor{OrgID: org, UserID: a.user.ID, Name: "someone"})
		if org != a.org.ID {
			actx = store.WithActor(ctx, store.Actor{OrgID: org, Name: "someone else"})
		}
		if err := st.Write(actx, func(tx *store.Tx) error {
			for i := range n {
				if err := tx.Audit(org, action, "patient", fmt.Sprint(i), patient, ""); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	history := func(f store.AuditFilter) []int64 {
		t.Helper()
		f.PatientID = p
		rows, err := st.AuditLog(ctx, a.org.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range rows {
			if r.PatientID != p || r.OrgID != a.org.ID {
				t.Fatalf("row %d is about patient %d of org %d", r.ID, r.PatientID, r.OrgID)
			}
			ids = append(ids, r.ID)
		}
		return ids
	}

	base := len(history(store.AuditFilter{Limit: 500})) // the fixture's own rows
	audit(a.org.ID, p, "read", 30)
	audit(a.org.ID, other, "read", 20)
	audit(b.org.ID, p, "read", 10) // same id, other organisation
	if n, err := st.IndexAuditReads(ctx); err != nil || n != 60 {
		t.Fatalf("indexed %d reads (err %v), want 60", n, err)
	}
	audit(a.org.ID, p, "update", 5)
	audit(a.org.ID, p, "read", 7) // in the tail
	want := base + 30 + 5 + 7

	all := history(store.AuditFilter{Limit: 500})
	if len(all) != want || !slices.IsSortedFunc(all, func(x, y int64) int { return int(y - x) }) {
		t.Fatalf("history has %d rows (sorted newest first: %v), want %d", len(all), slices.IsSortedFunc(all, func(x, y int64) int { return int(y - x) }), want)
	}

	// Pages of 4 cover the same rows once each.
	var paged []int64
	for before := int64(0); ; {
		page := history(store.AuditFilter{Limit: 4, BeforeID: before})
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = page[len(page)-1]
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("pages give %d rows, the whole history %d", len(paged), len(all))
	}

	// With a user filter too: the indexed reads do not know the user, so
	// they are filtered after the merge.
	if got := history(store.AuditFilter{UserID: a.user.ID, Limit: 500}); len(got) < 30+5+7 {
		t.Errorf("history of one user has %d rows, want at least %d", len(got), 30+5+7)
	}

	// A run cut short leaves index rows past the cursor: they are neither
	// shown twice nor in the way of the next run.
	if err := st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`INSERT INTO audit_read_index (org_id, patient_id, audit_id)
			SELECT org_id, patient_id, id FROM audit_log WHERE id > (SELECT last_id FROM audit_read_cursor) AND action = 'read'`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := history(store.AuditFilter{Limit: 500}); !slices.Equal(got, all) {
		t.Fatalf("with index rows past the cursor: %d rows, want %d", len(got), len(all))
	}
	if n, err := st.IndexAuditReads(ctx); err != nil || n != 7 {
		t.Fatalf("second run indexed %d (err %v), want the 7 tail reads", n, err)
	}
	if got := history(store.AuditFilter{Limit: 500}); !slices.Equal(got, all) {
		t.Fatalf("after the second run: %d rows, want %d", len(got), len(all))
	}
	if n, err := st.IndexAuditReads(ctx); err != nil || n != 0 {
		t.Fatalf("a run with nothing new indexed %d (err %v)", n, err)
	}

	// The other organisation sees only its own reads of its patient id.
	rows, err := st.AuditLog(ctx, b.org.ID, store.AuditFilter{PatientID: p, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.OrgID != b.org.ID {
			t.Fatalf("org b sees row %d of org %d", r.ID, r.OrgID)
		}
	}
	if bad, err := st.VerifyAuditChain(ctx); err != nil || bad != 0 {
		t.Fatalf("audit chain broken at %d: %v", bad, err)
	}
}
