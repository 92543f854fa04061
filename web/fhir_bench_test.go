package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/api/telehealth"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/cache"
	"github.com/clinicbox/clinicbox/web/fhir"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// BenchmarkFHIRvsTelehealth measures, side by side in one run and
// alternating, the telehealth API's patient GET, FHIR's Patient read and
// FHIR's Observation search (patient + code + date, newest first) over
// 100,000 observations of 2,000 patients. See BENCHMARKS.md.
//
//	go test ./web -run XXX -bench FHIRvsTelehealth -benchtime 2000x
func BenchmarkFHIRvsTelehealth(b *testing.B) {
	const patients, perPatient = 2000, 50 // 100,000 observations
	codes := []string{"NPU02187", "NPU27300", "NPU01685", "NPU19748", "NPU03230"}
	ctx := context.Background()
	st := storetest.Open(b)
	org := &store.Org{Name: "Bench", Slug: "bench"}
	if err := st.CreateOrg(ctx, org); err != nil {
		b.Fatal(err)
	}
	uuids := make([]string, patients)
	var wg sync.WaitGroup
	errs := make(chan error, patients)
	sem := make(chan struct{}, 32)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range patients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p := &store.Patient{ExternalID: fmt.Sprintf("bench-%d", i), MRN: fmt.Sprint("M", i), NationalID: fmt.Sprintf("%010d", i),
				Names: []store.HumanName{{FirstName: "Test", LastName: fmt.Sprint("Patient", i)}}, BirthDate: "1980-01-01", Gender: "female", Active: true}
			if err := st.CreatePatient(ctx, org.ID, p); err != nil {
				errs <- err
				return
			}
			uuids[i] = p.UUID
			obs := make([]store.Observation, perPatient)
			for j := range obs {
				obs[j] = store.Observation{PatientID: p.ID, Source: "serial", CodeSystem: "NPU", Code: codes[j%len(codes)],
					Value: fmt.Sprintf("%d.%d", 4+j%5, j%10), Unit: "mmol/L", Status: "F", MeasuredAt: base.Add(time.Duration(j) * 24 * time.Hour)}
			}
			if err := st.AddObservations(ctx, org.ID, obs); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	key, err := st.CreateAPIKey(ctx, org.ID, &store.APIKey{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	c, secret, err := st.CreateOAuthClient(ctx, org.ID, store.ClientKindFHIR, "bench", []string{"system/*.read"})
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := st.IssueOAuthToken(ctx, c.ClientID, secret, nil)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	httpx.Register(mux, telehealth.New(telehealth.Deps{Store: st, Log: log, PublicURL: "http://bench", Cache: cache.New(32 << 20)}).Routes())
	fhirCache := cache.New(96 << 20)
	httpx.Register(mux, fhir.New(fhir.Deps{Store: st, OAuth: &auth.OAuth{Store: st}, Log: log, PublicURL: "http://bench", Cache: fhirCache}).Routes())
	b.Cleanup(func() { b.Logf("FHIR cache: %d entries, %.1f MiB", fhirCache.Len(), float64(fhirCache.Size())/(1<<20)) })
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 64

	run := func(name string, req func() *http.Request) {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(4)
			cpu0 := processCPU()
			defer func() {
				// The process's CPU time per request (server, client and
				// whatever else runs in it): less at the mercy of the
				// machine's load than the wall time.
				b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
			}()
			b.RunParallel(func(pb *testing.PB) {
				cl := srv.Client()
				for pb.Next() {
					res, err := cl.Do(req())
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Fatalf("%s: %d", name, res.StatusCode)
					}
				}
			})
		})
	}
	for round := range 3 {
		run(fmt.Sprintf("telehealth-patient-get/%d", round), func() *http.Request {
			r, _ := http.NewRequest("GET", fmt.Sprintf("%s/qapi/v1/patients/bench-%d", srv.URL, rand.IntN(patients)), nil)
			r.Header.Set("Api-Key", key)
			return r
		})
		run(fmt.Sprintf("fhir-patient-read/%d", round), func() *http.Request {
			r, _ := http.NewRequest("GET", srv.URL+"/fhir/R4/Patient/"+uuids[rand.IntN(patients)], nil)
			r.Header.Set("Authorization", "Bearer "+token)
			return r
		})
		run(fmt.Sprintf("fhir-observation-search/%d", round), func() *http.Request {
			r, _ := http.NewRequest("GET", fmt.Sprintf("%s/fhir/R4/Observation?patient=Patient/%s&code=http://npu-terminology.org|%s&date=ge2026-01-15&date=lt2026-02-10&_sort=-date",
				srv.URL, uuids[rand.IntN(patients)], codes[rand.IntN(len(codes))]), nil)
			r.Header.Set("Authorization", "Bearer "+token)
			return r
		})
	}
}

// processCPU is the CPU time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
