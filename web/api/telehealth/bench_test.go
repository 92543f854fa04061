package telehealth

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/cache"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// benchServer serves the face over the database TestSeedBenchDB made in
// $CLINICBOX_BENCH_DATA (skips without it).
func benchServer(b *testing.B) (*httptest.Server, string) {
	dir := os.Getenv("CLINICBOX_BENCH_DATA")
	if dir == "" {
		b.Skip("set CLINICBOX_BENCH_DATA to a database seeded by TestSeedBenchDB")
	}
	key, err := os.ReadFile(filepath.Join(dir, "apikey"))
	if err != nil {
		b.Fatal(err)
	}
	st := storetest.OpenFile(b, filepath.Join(dir, "clinicbox.db"))
	mux := http.NewServeMux()
	httpx.Register(mux, New(Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: "http://bench", Cache: cache.New(128 << 20)}).Routes())
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	// Keep a connection per client goroutine alive (as wrk does): the
	// default of 2 idle connections per host would have most requests
	// open a new connection and measure that instead.
	srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	return srv, string(key)
}

func benchDo(b *testing.B, c *http.Client, req *http.Request, want int) {
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		b.Fatalf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
	}
}

// BenchmarkGetPatient: GET /qapi/v1/patients/{id} of random seeded patients.
func BenchmarkGetPatient(b *testing.B) {
	srv, key := benchServer(b)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		c := srv.Client()
		for pb.Next() {
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/qapi/v1/patients/bench-%d", srv.URL, rand.IntN(100000)), nil)
			req.Header.Set("Api-Key", key)
			benchDo(b, c, req, 200)
		}
	})
}

var benchSeq atomic.Int64

// BenchmarkCreatePatient: POST /qapi/v1/patients with unique ids.
func BenchmarkCreatePatient(b *testing.B) {
	srv, key := benchServer(b)
	run := store.NewToken(4)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		c := srv.Client()
		for pb.Next() {
			id := fmt.Sprintf("gb-%s-%d", run, benchSeq.Add(1))
			body := `{"id":"` + id + `","name":[{"firstName":"Load","lastName":"Test"}],"birthDate":"1983-08-15","gender":"male"}`
			req, _ := http.NewRequest("POST", srv.URL+"/qapi/v1/patients", strings.NewReader(body))
			req.Header.Set("Api-Key", key)
			req.Header.Set("Content-Type", "application/json")
			benchDo(b, c, req, 201)
		}
	})
}

// BenchmarkCreateAppointment: POST /qapi/v1/patients/{id}/appointments.
func BenchmarkCreateAppointment(b *testing.B) {
	srv, key := benchServer(b)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		c := srv.Client()
		for pb.Next() {
			body := `{"waitingRoom":"Bench room","date":1900000000,"duration":900}`
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/qapi/v1/patients/bench-%d/appointments", srv.URL, rand.IntN(100000)), strings.NewReader(body))
			req.Header.Set("Api-Key", key)
			req.Header.Set("Content-Type", "application/json")
			benchDo(b, c, req, 201)
		}
	})
}
