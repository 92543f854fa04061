package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/api/monitoring"
	"github.com/clinicbox/clinicbox/web/api/telehealth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/live"
)

// unlimited lets the load through: the benchmark measures the ingest path,
// not the plan (10,000 requests a minute would cap it at 167/s).
type unlimited struct{}

func (unlimited) Allow(string, int) monitoring.Decision {
	return monitoring.Decision{Allowed: true, Limit: 1 << 30, Remaining: 1 << 30}
}

// TestIngestLoad measures, side by side in one run over one durable
// database (synchronous=FULL), the telehealth patient create and the
// monitoring observation create with alert evaluation on, with 16
// connections; and how long after the triggering observation was sent its
// alert reaches a live-hub subscriber. It runs only with
// CLINICBOX_LOAD=seconds-per-phase (see BENCHMARKS.md).
func TestIngestLoad(t *testing.T) {
	secs := os.Getenv("CLINICBOX_LOAD")
	if secs == "" {
		t.Skip("set CLINICBOX_LOAD=5 to run the ingest load test")
	}
	phase, err := time.ParseDuration(secs + "s")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	if d := os.Getenv("CLINICBOX_LOAD_DIR"); d != "" {
		dir = d
	}
	st := storetest.OpenFile(t, filepath.Join(dir, "load.db")) // on the disk CLINICBOX_LOAD_DIR names
	org := &store.Org{Name: "Load", Slug: "load"}
	if err := st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, org.ID, &store.User{Email: "load@example.com", Name: "Load", Role: store.RoleClinician}, "load test password"); err != nil {
		t.Fatal(err)
	}
	apiKey, err := st.CreateAPIKey(ctx, org.ID, &store.APIKey{Name: "load"})
	if err != nil {
		t.Fatal(err)
	}
	// 200 enrolled patients with the default rules (systolic > 180 twice
	// in 24 h, SpO2 < 88, no reading for 3 days).
	var patients []string
	for i := range 200 {
		p := &store.Patient{Names: []store.HumanName{{FirstName: "Load", LastName: fmt.Sprint(i)}}, Active: true}
		if err := st.CreatePatient(ctx, org.ID, p); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateEnrollment(ctx, org.ID, &store.Enrollment{PatientID: p.ID, Program: store.ProgramRPM, StartDate: "2026-01-01", Rules: store.DefaultAlertRules()}); err != nil {
			t.Fatal(err)
		}
		patients = append(patients, "patient_"+p.UUID)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, quiet)
	hctx, stopHub := context.WithCancel(ctx)
	defer stopHub()
	go hub.Run(hctx)
	mux := http.NewServeMux()
	httpx.Register(mux, telehealth.New(telehealth.Deps{Store: st, Log: quiet, PublicURL: "http://load"}).Routes())
	httpx.Register(mux, monitoring.New(monitoring.Deps{Store: st, Log: quiet, Limiter: unlimited{}}).Routes())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64

	res, err := client.Post(srv.URL+"/api/auth/login", "application/json", strings.NewReader(`{"email":"load@example.com","password":"load test password"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ AccessToken string }
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	orgHdr := "org_" + org.UUID

	const conns = 16
	var seq atomic.Int64
	base := time.Now().Add(-20 * 24 * time.Hour).Truncate(time.Second)
	run := func(name string, do func(c int) bool) float64 {
		var n, bad atomic.Int64
		var wg sync.WaitGroup
		cpu := processCPU()
		stop := time.Now().Add(phase)
		for c := range conns {
			wg.Go(func() {
				for time.Now().Before(stop) {
					if do(c) {
						n.Add(1)
					} else {
						bad.Add(1)
					}
				}
			})
		}
		wg.Wait()
		rate := float64(n.Load()) / phase.Seconds()
		// CPU per request (client, server and store together, all in this
		// process) is what two cores divide: a busy machine lowers the rate
		// but hardly this figure.
		perReq := (processCPU() - cpu) / time.Duration(max(1, n.Load()+bad.Load()))
		t.Logf("%-34s %8.0f req/s  %4d µs CPU/req  (%d ok, %d failed; %s)", name, rate, perReq.Microseconds(), n.Load(), bad.Load(), loadAverage())
		if bad.Load() > 0 {
			t.Errorf("%s: %d failed requests", name, bad.Load())
		}
		return rate
	}
	post := func(path, body string, hdr map[string]string, want int) bool {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode == want
	}
	patientCreate := func(int) bool {
		i := seq.Add(1)
		return post("/qapi/v1/patients", fmt.Sprintf(`{"id":"load-%d","name":[{"firstName":"Pat","lastName":"Load%d"}]}`, i, i),
			map[string]string{"Api-Key": apiKey}, http.StatusCreated)
	}
	monHdr := map[string]string{"Authorization": "Bearer " + tok.AccessToken, "X-Organization-ID": orgHdr}
	observe := func(c int) bool {
		i := seq.Add(1)
		p := patients[rand.IntN(len(patients))]
		// Normal values: every observation is checked against its rules,
		// few fire. Distinct times keep each one a new reading.
		at := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		return post("/api/observations", `{"patientId":"`+p+`","metricDefinitionId":"metric_bp_systolic","value":`+fmt.Sprint(110+i%60)+
			`,"unit":"mmHg","source":"DEVICE","recordedAt":"`+at+`"}`, monHdr, http.StatusCreated)
	}
	th1 := run("telehealth POST /qapi/v1/patients", patientCreate)
	obs := run("monitoring POST /api/observations", observe)
	th2 := run("telehealth POST /qapi/v1/patients", patientCreate)
	t.Logf("observations / patient creates: %.2f", obs/((th1+th2)/2))

	// Alert latency: a triggering reading (SpO2 80) on a quiet server and
	// under the ingest load; the time until a live-hub subscriber has the
	// alert:raised event.
	sub, cancel := hub.Subscribe(org.ID)
	defer cancel()
	// One goroutine drains the subscription as fast as the hub publishes
	// (the load's own events included, so the subscription never lags and
	// drops the alert) and passes on when each alert event arrived.
	alertsAt := make(chan time.Time, 256)
	drained := make(chan struct{})
	defer close(drained)
	go func() {
		for {
			select {
			case <-drained:
				return
			case e := <-sub.Events:
				if e.Type == store.EventAlertRaised || e.Type == store.EventAlertUpdated {
					alertsAt <- time.Now()
				}
			case <-sub.Lagged:
				t.Error("the live subscription lagged: an alert event may have been dropped")
			}
		}
	}()
	measure := func(label string, n int) {
		var lat []time.Duration
		for k := range n {
			p := patients[k%len(patients)]
			at := base.Add(time.Duration(seq.Add(1)) * time.Second).Format(time.RFC3339)
			sent := time.Now()
			if !post("/api/observations", `{"patientId":"`+p+`","metricDefinitionId":"metric_spo2","value":80,"unit":"%","source":"DEVICE","recordedAt":"`+at+`"}`, monHdr, http.StatusCreated) {
				t.Fatal("trigger refused")
			}
			select {
			case got := <-alertsAt:
				lat = append(lat, got.Sub(sent))
			case <-time.After(5 * time.Second):
				t.Fatal("no alert event within 5 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		slices.Sort(lat)
		t.Logf("alert latency %-22s p50 %v  p95 %v  max %v  (n=%d)", label, lat[len(lat)/2].Round(time.Microsecond),
			lat[len(lat)*95/100].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond), len(lat))
	}
	measure("(quiet)", 50)
	var wg sync.WaitGroup
	loadStop := make(chan struct{})
	for c := range conns - 1 {
		wg.Go(func() {
			for {
				select {
				case <-loadStop:
					return
				default:
					observe(c)
				}
			}
		})
	}
	measure("(under 15-conn load)", 50)
	close(loadStop)
	wg.Wait()
}

// processCPU is the process's CPU time so far (user + system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the machine's load average (1, 5, 15 minutes), for the
// log: figures from a busy machine are read as ratios only.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load ?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load ?"
	}
	return "load " + strings.Join(f[:3], " ")
}
