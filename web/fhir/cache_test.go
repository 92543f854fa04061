package fhir

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// uncached serves the same store without a cache, under the first
// server's public URL, so that both answer byte for byte alike.
func (e *testEnv) uncached() *httptest.Server {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	httpx.Register(mux, New(Deps{Store: e.st, OAuth: &auth.OAuth{Store: e.st}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PublicURL: e.srv.URL, Version: "test"}).Routes())
	return srv
}

func (e *testEnv) raw(base, path, token string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	must(e.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(e.t, err)
	return res.StatusCode, string(b)
}

// A search answered from a patient's cached results is the answer SQL
// gives, byte for byte, for every parameter, order and page; asked twice
// (the second time from the cache).
func TestObservationSearchFromCacheAnswersAsSQL(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.seedObservations()
	ctx := context.Background()
	// More results, some on the same instant (the order's tie-break), one
	// corrected (the search finds the current version only).
	at := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	var more []store.Observation
	for i := range 30 {
		more = append(more, store.Observation{PatientID: e.patient.ID, DeviceID: e.device.ID, Source: "serial", Category: "laboratory",
			CodeSystem: []string{"NPU", "LN", "local"}[i%3], Code: []string{"NPU02187", "6690-2", "CRP"}[i%3], Value: fmt.Sprint(i),
			Unit: "mmol/L", Status: []string{"F", "P", "final"}[i%3], MeasuredAt: at.Add(time.Duration(i/2) * time.Hour)})
	}
	must(t, e.st.AddObservations(ctx, e.orgA.ID, more))
	if _, err := e.st.CorrectResult(ctx, e.orgA.ID, more[4].UUID, store.Correction{Value: "4.5", Status: "C", Note: "test"}); err != nil {
		t.Fatal(err)
	}
	plain := e.uncached()
	pt := "Patient/" + e.patient.UUID
	queries := []string{
		"patient=" + pt,
		"patient=" + pt + "&_sort=date",
		"subject=" + pt + "&_sort=-date",
		"patient=" + pt + "&code=http://npu-terminology.org|NPU02187&date=ge2026-03-02&date=lt2026-03-02T10:00:00Z&_sort=-date",
		"patient=" + pt + "&code=6690-2,CRP&_sort=date&_count=4",
		"patient=" + pt + "&code=6690-2,CRP&_sort=date&_count=4&_offset=4",
		"patient=" + pt + "&code=http://loinc.org|CRP",
		"patient=" + pt + "&date=ne2026-03-02T07:00:00Z&_count=7&_offset=14",
		"patient=" + pt + "&date=2026-03-01",
		"patient=" + pt + "&status=final&_sort=-date",
		"patient=" + pt + "&status=preliminary,corrected",
		"patient=" + pt + "&category=vital-signs",
		"patient=" + pt + "&device=Device/" + e.device.UUID + "&_count=3",
		"patient=" + pt + "&_include=Observation:patient&_count=2",
		"patient=" + pt + "&_count=500&_offset=30",
		"patient=Patient/" + e.other.UUID,
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			wantStatus, want := e.raw(plain.URL, "/fhir/R4/Observation?"+q, e.readA)
			for round := range 2 {
				status, got := e.raw(e.srv.URL, "/fhir/R4/Observation?"+q, e.readA)
				if status != wantStatus || got != want {
					t.Fatalf("round %d: cached answer\n%d %s\nSQL answer\n%d %s", round, status, got, wantStatus, want)
				}
			}
			valid(t, []byte(want))
		})
	}
}

// A search sent after a write's answer sees the write, while other
// clients keep filling the cache with what they read before it: new
// results, corrections, a device's new name, a patient's update.
func TestCachesCoherentWithWrites(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	pt := "Patient/" + e.patient.UUID
	search := "/fhir/R4/Observation?patient=" + pt + "&code=http://loinc.org|718-7&_sort=-date"

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 { // readers racing the writers to fill the caches
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, p := range []string{search, "/fhir/R4/Patient/" + e.patient.UUID} {
					if status, body := e.raw(e.srv.URL, p, e.readA); status != 200 {
						t.Errorf("GET %s: %d %s", p, status, body)
						return
					}
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	var last string
	for i := range 40 {
		in := map[string]any{
			"resourceType": "Observation", "status": "final",
			"code":              map[string]any{"coding": []any{map[string]any{"system": SystemLOINC, "code": "718-7"}}},
			"subject":           map[string]any{"reference": pt},
			"device":            map[string]any{"reference": "Device/" + e.device.UUID},
			"effectiveDateTime": time.Date(2026, 3, 1, 0, i, 0, 0, time.UTC).Format(time.RFC3339),
			"valueQuantity":     map[string]any{"value": 8 + float64(i)/100, "unit": "mmol/L", "system": SystemUCUM, "code": "mmol/L"},
		}
		status, b, raw, _ := e.do("POST", "/fhir/R4/Observation", e.writeA, in)
		if status != 201 {
			t.Fatalf("create %d: %d %s", i, status, raw)
		}
		last = str(b, "id")
		got := e.get(search, e.readA, 200)
		if n := len(entries(got)); n != i+1 || str(entries(got)[0], "resource.id") != last {
			t.Fatalf("after create %d: %d entries, first %s; want %d, first %s", i, n, str(entries(got)[0], "resource.id"), i+1, last)
		}
	}
	// A correction (its event names no patient) replaces the value.
	row, err := e.st.CorrectResult(ctx, e.orgA.ID, last, store.Correction{Value: "9.99", Status: "C", Note: "test"})
	must(t, err)
	if got := e.get(search, e.readA, 200); str(entries(got)[0], "resource.id") != row.UUID || !strings.Contains(fmt.Sprint(path(entries(got)[0], "resource.valueQuantity.value")), "9.99") {
		t.Fatalf("after correction: %v", entries(got)[0])
	}
	// A device's new name is in every one of its results.
	if _, err := e.st.UpdateDevice(ctx, e.orgA.ID, e.device.ID, func(d *store.Device) error {
		d.Name = "Renamed analyser"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := e.get(search, e.readA, 200); str(entries(got)[0], "resource.device.display") != "Renamed analyser" {
		t.Fatalf("after rename: device %v", path(entries(got)[0], "resource.device"))
	}
	// Patient reads see each update.
	for i := range 20 {
		want := fmt.Sprintf("Family%d", i)
		if _, err := e.st.UpdatePatient(ctx, e.orgA.ID, store.ByID, fmt.Sprint(e.patient.ID), func(p *store.Patient) error {
			p.Names[0].LastName = want
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := e.get("/fhir/R4/Patient/"+e.patient.UUID, e.readA, 200); str(got, "name.0.family") != want {
			t.Fatalf("after update %d: family %q, want %q", i, str(got, "name.0.family"), want)
		}
	}
}

// Every cached search is still audited: one read row per answer.
func TestCachedSearchIsAudited(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.seedObservations()
	ctx := context.Background()
	count := func() int {
		rows, err := e.st.AuditLog(ctx, e.orgA.ID, store.AuditFilter{PatientID: e.patient.ID, Limit: 500})
		must(t, err)
		n := 0
		for _, a := range rows {
			if a.Action == "read" && a.Entity == "observation" {
				n++
			}
		}
		return n
	}
	for i := range 3 {
		e.get("/fhir/R4/Observation?patient="+e.patient.UUID, e.readA, 200)
		deadline := time.Now().Add(5 * time.Second)
		for count() != i+1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond) // read audits are written in groups, and indexed by patient in the background
		}
		if n := count(); n != i+1 {
			t.Fatalf("after %d searches, %d read audits", i+1, n)
		}
	}
}

// A patient's results are read and encoded once, by the patient's first
// search, into one cache entry; the searches after it, of any code, read
// nothing. Counted as the cache's entries (the cache is large enough that
// nothing is evicted): the patient's id, its results, its Patient.
func TestSearchReadsAPatientOnce(t *testing.T) {
	e := newTestEnv(t)
	e.seedPatientResults(e.patient)
	pt := "/fhir/R4/Observation?patient=Patient/" + e.patient.UUID
	cases := []struct {
		query   string
		entries int // the cache's, after the search
	}{
		{"&code=NPU02187&_count=3", 2},
		{"&code=NPU27300", 2},
		{"&code=NPU19748&_sort=-date", 2},
		{"&_count=100&_include=Observation:patient", 3},
	}
	for _, tc := range cases {
		got := e.get(pt+tc.query, e.readA, 200)
		if len(entries(got)) == 0 {
			t.Fatalf("%s: no entries", tc.query)
		}
		if n := e.cache.Len(); n != tc.entries {
			t.Fatalf("%s: %d cache entries, want %d", tc.query, n, tc.entries)
		}
	}
}

// seedPatientResults gives the patient 50 results of five codes, ten of
// each, one a day from 1 January 2026.
func (e *testEnv) seedPatientResults(p *store.Patient) {
	e.t.Helper()
	codes := []string{"NPU02187", "NPU27300", "NPU01685", "NPU19748", "NPU03230"}
	base := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	var obs []store.Observation
	for j := range 50 {
		obs = append(obs, store.Observation{PatientID: p.ID, DeviceID: e.device.ID, Source: "serial", CodeSystem: "NPU",
			Code: codes[j%5], Value: fmt.Sprint(j), Unit: "mmol/L", Status: "F", MeasuredAt: base.AddDate(0, 0, j)})
	}
	must(e.t, e.st.AddObservations(context.Background(), e.orgA.ID, obs))
}
