package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/demo"
	"github.com/clinicbox/clinicbox/store/storetest"
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
	st := storetest.OpenFile(b, path)
	f := fixture{org: &store.Org{}}
	var err error
	if f.org, err = st.OrgBySlug(ctx, "bench"); err != nil {
		f = newFixture(b, st, "bench")
		seedPatients(b, st, f.org.ID, 100_000)
	}
	// The mix of the original queries (name prefixes, two words, an
	// identifier), then the ways staff type: "Last, First", a folded name,
	// an MRN without its prefix, a CPR number without its dash, a phone
	// number with spaces and +45, a partial birth date. Each is also run on
	// its own, so a slow case shows.
	original := []string{"jen", "anna hans", "mrn-0420", "sø", "lars peder"}
	typed := []string{"hansen, anna", "sorensen", "001420", "0101851234", "+45 20 30 40 50", "1985-12"}
	// cpu-ms/op is the process's CPU time per search: a search runs on one
	// goroutine, so on a machine shared with other work it is the figure an
	// idle appliance shows as wall time.
	run := func(b *testing.B, queries []string) {
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			if _, _, err := st.Patients(ctx, f.org.ID, store.PatientFilter{Query: queries[i%len(queries)], Limit: 25}); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
	}
	b.Run("original", func(b *testing.B) { run(b, original) })
	b.Run("as-typed", func(b *testing.B) { run(b, typed) })
	for _, q := range append(original, typed...) {
		b.Run("q="+q, func(b *testing.B) { run(b, []string{q}) })
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

// cpuTime is the process's CPU time (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAuditRead measures a GET's read audit as the faces make it: 16
// concurrent readers, each waiting until its row is committed.
func BenchmarkAuditRead(b *testing.B) {
	st, _ := newStore(b)
	f := newFixture(b, st, "a")
	ctx := store.WithActor(context.Background(), store.Actor{OrgID: f.org.ID, Name: "apikey:bench"})
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
	var n atomic.Int64
	cpu := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st.AuditRead(ctx, f.org.ID, "patient", fmt.Sprint(n.Add(1)), f.patient.ID)
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e3, "cpu-µs/op")
}
