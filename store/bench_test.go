package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/demo"
)

// seedPatients creates n patients with concurrent writers (as a busy API
// would), so group commit batches them.
func seedPatients(tb testing.TB, st *store.Store, orgID int64, n int) {
	tb.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := range 32 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				p := demo.RandomPatient(rng, i)
				p.ExternalID = fmt.Sprintf("bench-%d", i)
				if err := st.CreatePatient(context.Background(), orgID, p); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		tb.Fatal(err)
	}
}

// BenchmarkPatientSearch100k measures a clinician's patient search (one
// name prefix, first page with total) among 100,000 patients.
func BenchmarkPatientSearch100k(b *testing.B) {
	ctx := context.Background()
	// Seeding 100,000 patients takes a while: keep the database between runs.
	path := filepath.Join(os.TempDir(), "clinicbox-bench-100k.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f := fixture{org: &store.Org{}}
	if f.org, err = st.OrgBySlug(ctx, "bench"); err != nil {
		f = newFixture(b, st, "bench")
		seedPatients(b, st, f.org.ID, 100_000)
	}
	queries := []string{"jen", "anna hans", "mrn-0420", "sø", "lars peder"}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, _, err := st.Patients(ctx, f.org.ID, store.PatientFilter{Query: queries[i%len(queries)], Limit: 25}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkCreatePatientParallel measures durable patient creation (row,
// search terms, event and audit row, synchronous=FULL) under concurrency.
func BenchmarkCreatePatientParallel(b *testing.B) {
	st, _ := newStore(b)
	f := newFixture(b, st, "a")
	var n atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(uint64(n.Add(1000000)), 2))
		for pb.Next() {
			i := int(n.Add(1))
			p := demo.RandomPatient(rng, i)
			p.ExternalID = fmt.Sprint("p-", i)
			if err := st.CreatePatient(context.Background(), f.org.ID, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestAuditChainAcrossRolledBackWrites checks the audit chain that the
// writer keeps in memory within a group-commit batch: writes that append
// audit rows and then fail are rolled back to their savepoint, and the rows
// written after them must chain to the last row that stayed. (It lives
// here, beside the benchmarks of the same write path.)
func TestAuditChainAcrossRolledBackWrites(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	f := newFixture(t, st, "a")
	before, err := st.AuditLog(ctx, f.org.ID, store.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	errFail := errors.New("fail after auditing")
	const n = 300
	var wg sync.WaitGroup
	var failed, kept atomic.Int64
	for i := range n {
		wg.Go(func() {
			err := st.Write(ctx, func(tx *store.Tx) error {
				for range 1 + i%2 {
					if err := tx.Audit(f.org.ID, "read", "patient", fmt.Sprint(i), f.patient.ID, ""); err != nil {
						return err
					}
				}
				if i%3 == 0 {
					return errFail
				}
				return nil
			})
			switch {
			case err == nil:
				kept.Add(int64(1 + i%2))
			case errors.Is(err, errFail):
				failed.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if failed.Load() != n/3 {
		t.Fatalf("%d writes failed, want %d", failed.Load(), n/3)
	}
	after, err := st.AuditLog(ctx, f.org.ID, store.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if got := int64(len(after) - len(before)); got != kept.Load() {
		t.Fatalf("%d audit rows added, want %d", got, kept.Load())
	}
	if bad, err := st.VerifyAuditChain(ctx); err != nil || bad != 0 {
		t.Fatalf("audit chain broken at row %d: %v", bad, err)
	}
}
