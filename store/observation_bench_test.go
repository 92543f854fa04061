package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// BenchmarkObservationSearch100k measures the reads of the FHIR
// Observation search (BenchmarkFHIRvsTelehealth in web) at the store:
// 2,000 patients with 50 results each, random patients. "fill" is what a
// patient's first search reads (all 50 current results), "page" the
// patient + code + date query (5 rows), "patient" a GET-sized PatientBy
// for scale. The "-after-commit" variants commit a write before each read,
// as a busy appliance does, so the reader's page cache starts empty; the
// write's own cost is in their figures ("commit" alone is that cost).
func BenchmarkObservationSearch100k(b *testing.B) {
	const patients, perPatient = 2000, 50
	codes := []string{"NPU02187", "NPU27300", "NPU01685", "NPU19748", "NPU03230"}
	ctx := context.Background()
	// Seeding takes a while: keep the database between runs.
	path := filepath.Join(os.TempDir(), "clinicbox-bench-obs100k.db")
	st := storetest.OpenFile(b, path)
	org, err := st.OrgBySlug(ctx, "obsbench")
	if err != nil {
		org = &store.Org{Name: "Bench", Slug: "obsbench"}
		if err := st.CreateOrg(ctx, org); err != nil {
			b.Fatal(err)
		}
		seedObservations(b, st, org.ID, patients, perPatient, codes)
	}
	var ids []int64
	for i := range patients {
		p, err := st.PatientBy(ctx, org.ID, store.ByExternalID, fmt.Sprint("obsbench-", i))
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	npu := []string{"NPU", "npu", "http://npu-terminology.org"}
	from, to := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	kv := 0
	commit := func(b *testing.B) {
		kv++
		e := &store.KVEntry{Namespace: "bench", Key: fmt.Sprint("k", kv%100), Value: []byte("1"), ContentType: "text/plain"}
		if err := st.PutKV(ctx, org.ID, e, store.KVCondition{}); err != nil {
			b.Fatal(err)
		}
	}
	ops := map[string]func(b *testing.B, pid int64, i int){
		"fill": func(b *testing.B, pid int64, i int) {
			rows, err := st.SearchObservations(ctx, org.ID, store.ObservationSearch{PatientID: pid, Page: store.Page{Limit: 1000}})
			if err != nil || len(rows) != perPatient {
				b.Fatal(len(rows), err)
			}
		},
		"page": func(b *testing.B, pid int64, i int) {
			rows, err := st.SearchObservations(ctx, org.ID, store.ObservationSearch{PatientID: pid,
				Codes:     []store.CodeRef{{Systems: npu, Code: codes[i%len(codes)]}},
				Effective: []store.TimeRange{{From: from}, {To: to}}, SortDate: -1, Page: store.Page{Limit: 51}})
			if err != nil || len(rows) < 5 || len(rows) > 6 {
				b.Fatal(len(rows), err)
			}
		},
		"patient": func(b *testing.B, pid int64, i int) {
			if _, err := st.PatientBy(ctx, org.ID, store.ByID, fmt.Sprint(pid)); err != nil {
				b.Fatal(err)
			}
		},
		"commit": func(b *testing.B, pid int64, i int) {},
	}
	for _, name := range []string{"fill", "page", "patient", "commit"} {
		for _, after := range []bool{false, true} {
			if name == "commit" && !after {
				continue
			}
			sub := name
			if after {
				sub += "-after-commit"
			}
			b.Run(sub, func(b *testing.B) {
				cpu := cpuTime()
				i := 0
				for b.Loop() {
					if after {
						commit(b)
					}
					ops[name](b, ids[rng.IntN(len(ids))], i)
					i++
				}
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e3, "cpu-µs/op")
			})
		}
	}
}

// seedObservations creates patients with perPatient results each (one
// write per patient, as an instrument message brings them), with
// concurrent writers.
func seedObservations(b *testing.B, st *store.Store, orgID int64, patients, perPatient int, codes []string) {
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, patients)
	sem := make(chan struct{}, 32)
	for i := range patients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p := &store.Patient{ExternalID: fmt.Sprint("obsbench-", i), MRN: fmt.Sprint("M", i), NationalID: fmt.Sprintf("%010d", i),
				Names: []store.HumanName{{FirstName: "Test", LastName: fmt.Sprint("Patient", i)}}, BirthDate: "1980-01-01", Gender: "female", Active: true}
			if err := st.CreatePatient(ctx, orgID, p); err != nil {
				errs <- err
				return
			}
			obs := make([]store.Observation, perPatient)
			for j := range obs {
				obs[j] = store.Observation{PatientID: p.ID, Source: "serial", CodeSystem: "NPU", Code: codes[j%len(codes)],
					Value: fmt.Sprintf("%d.%d", 4+j%5, j%10), Unit: "mmol/L", Status: "F", MeasuredAt: base.Add(time.Duration(j) * 24 * time.Hour)}
			}
			if err := st.AddObservations(ctx, orgID, obs); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}
