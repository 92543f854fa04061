package fhir

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/cache"
)

// discardWriter is a ResponseWriter that keeps nothing but the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(s int)           { d.status = s }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkWarmObservationSearch is the handler alone (no HTTP, no token)
// of the search BenchmarkFHIRvsTelehealth sends (web/), answered from
// patients' cached results: what a warm search costs the server beyond
// what every request costs.
//
//	go test ./web/fhir -run XXX -bench WarmObservationSearch -cpuprofile /tmp/warm.prof
func BenchmarkWarmObservationSearch(b *testing.B) {
	const patients, perPatient = 20, 50
	codes := []string{"NPU02187", "NPU27300", "NPU01685", "NPU19748", "NPU03230"}
	ctx := context.Background()
	st := storetest.Open(b)
	org := storetest.Org(b, st, "Bench", "bench")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var uuids []string
	for i := range patients {
		p := &store.Patient{ExternalID: fmt.Sprint("bench-", i), Names: []store.HumanName{{FirstName: "Test", LastName: fmt.Sprint("Patient", i)}},
			BirthDate: "1980-01-01", Gender: "female", Active: true}
		if err := st.CreatePatient(ctx, org.ID, p); err != nil {
			b.Fatal(err)
		}
		uuids = append(uuids, p.UUID)
		obs := make([]store.Observation, perPatient)
		for j := range obs {
			obs[j] = store.Observation{PatientID: p.ID, Source: "serial", CodeSystem: "NPU", Code: codes[j%len(codes)],
				Value: fmt.Sprintf("%d.%d", 4+j%5, j%10), Unit: "mmol/L", Status: "F", MeasuredAt: base.Add(time.Duration(j) * 24 * time.Hour)}
		}
		if err := st.AddObservations(ctx, org.ID, obs); err != nil {
			b.Fatal(err)
		}
	}
	h := New(Deps{Store: st, PublicURL: "http://bench", Cache: cache.New(16 << 20)})
	actx := store.WithActor(ctx, store.Actor{OrgID: org.ID, Name: "bench"})
	var reqs []*http.Request
	for i := range 64 {
		r := httptest.NewRequest("GET", fmt.Sprintf("/fhir/R4/Observation?patient=Patient/%s&code=http://npu-terminology.org|%s&date=ge2026-01-15&date=lt2026-02-10&_sort=-date",
			uuids[i%patients], codes[i%len(codes)]), nil).WithContext(actx)
		reqs = append(reqs, r)
	}
	w := &discardWriter{h: http.Header{}}
	for _, r := range reqs { // warm every patient's entry
		h.searchObservation(w, r)
		if w.status != 200 {
			b.Fatal(w.status)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.searchObservation(w, reqs[i%len(reqs)])
		i++
	}
}

// BenchmarkObservationEncoding is one result's encoding as a patient's
// cache fill does it fifty times: encoding/json against the hand-written
// encoder (the same bytes: TestResourceEncodersAreEncodingJSON).
func BenchmarkObservationEncoding(b *testing.B) {
	h := New(Deps{PublicURL: "http://bench"})
	row := &store.ObservationRow{PatientUUID: "0190a5b2-7c1d-7000-8000-0000000000aa"}
	row.UUID, row.CodeSystem, row.Code, row.Value, row.Unit, row.Status = "0190a5b2-7c1d-7000-8000-000000000001", "NPU", "NPU02187", "5.4", "mmol/L", "F"
	row.MeasuredAt, row.CreatedAt = time.Date(2026, 1, 15, 8, 0, 0, 0, time.UTC), time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(h.toObservation(row)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = h.toObservation(row).appendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
