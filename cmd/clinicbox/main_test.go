package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// runCLI runs the command line as a person would, with its own environment.
func runCLI(t testing.TB, envVars map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return envVars[k] }
	err = run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestCLI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := map[string]string{"CLINICBOX_DATA": data}
	steps := []struct {
		name    string
		stdin   string
		args    []string
		wantErr string // "" = success
		wantOut string
	}{
		{"version", "", []string{"version"}, "", "clinicbox dev"},
		{"unknown command", "", []string{"frobnicate"}, `unknown command "frobnicate"`, ""},
		{"user add before any org", "", []string{"user", "add", "--email", "a@b.example", "--name", "A", "--role", "admin"}, "no organisation exists yet", ""},
		{"org add bad slug", "", []string{"org", "add", "--name", "X", "--slug", "Bad Slug"}, "slug", ""},
		{"org add", "", []string{"org", "add", "--name", "North Clinic", "--slug", "north"}, "", "created organisation north"},
		{"org add duplicate", "", []string{"org", "add", "--name", "North again", "--slug", "north"}, "already exists", ""},
		{"user add generated password", "", []string{"user", "add", "--email", "Ann@North.example", "--name", "Ann", "--role", "admin"}, "", "password: "},
		{"user add bad role", "", []string{"user", "add", "--email", "b@north.example", "--name", "B", "--role", "king"}, "role: must be admin, clinician or frontdesk", ""},
		{"user add short stdin password", "short\n", []string{"user", "add", "--email", "c@north.example", "--name", "C", "--role", "clinician", "--password-stdin"}, "password: must be at least", ""},
		{"user add stdin password", "a long enough password\n", []string{"user", "add", "--email", "c@north.example", "--name", "C", "--role", "clinician", "--password-stdin"}, "", "created clinician c@north.example"},
		{"user add duplicate email", "", []string{"user", "add", "--email", "c@north.example", "--name", "C2", "--role", "clinician"}, "email: is already in use", ""},
		{"org add second", "", []string{"org", "add", "--name", "South", "--slug", "south"}, "", "created organisation south"},
		{"user add ambiguous org", "", []string{"user", "add", "--email", "d@x.example", "--name", "D", "--role", "clinician"}, "name one with --org SLUG", ""},
		{"user add named org", "", []string{"user", "add", "--email", "d@x.example", "--name", "D", "--role", "clinician", "--org", "south"}, "", "in south"},
		{"user add unknown org", "", []string{"user", "add", "--email", "e@x.example", "--name", "E", "--role", "clinician", "--org", "west"}, "not found", ""},
		{"org list", "", []string{"org", "list"}, "", "north\torg_"},
		{"migrate", "", []string{"migrate"}, "", "database is up to date"},
		{"backup without file", "", []string{"backup"}, "name the FILE", ""},
		{"backup", "", []string{"backup", filepath.Join(t.TempDir(), "b.db")}, "", "backup written"},
		{"backup flags after the file", "", []string{"backup", filepath.Join(t.TempDir(), "c.db"), "--data", data}, "", "backup written"},
		{"backup two files", "", []string{"backup", "a.db", "b.db"}, `unexpected argument "b.db"`, ""},
		{"serve bad addr", "", []string{"serve", "--addr", "nonsense"}, "--addr", ""},
		{"serve tls half", "", []string{"serve", "--tls-cert", "x.pem"}, "go together", ""},
		{"serve negative cache", "", []string{"serve", "--cache-mb", "-1"}, "--cache-mb \"-1\": must be a whole number", ""},
		{"serve cache not a number", "", []string{"serve", "--cache-mb", "lots"}, "--cache-mb \"lots\"", ""},
	}
	for _, s := range steps {
		out, _, err := runCLI(t, env, s.stdin, s.args...)
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Errorf("%s: error %v, want it to contain %q", s.name, err, s.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error is not one line: %q", s.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if !strings.Contains(out, s.wantOut) {
			t.Errorf("%s: output %q, want it to contain %q", s.name, out, s.wantOut)
		}
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var insecureClient = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
}

// startServe runs 'clinicbox serve' in the background and waits until it
// answers /readyz; it returns the base URL and a stop function.
func startServe(t testing.TB, data string, extra ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	addr := freeAddr(t)
	base := "https://" + addr
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	args := append([]string{"serve", "--data", data, "--addr", addr, "--public-url", base,
		"--media-port", "0", "--turn-port", "0", "--turns-port", "0"}, extra...)
	go func() {
		done <- run(ctx, args, func(string) string { return "" }, strings.NewReader(""), out, &syncBuffer{})
	}()
	// As long as startChild waits: the tests run side by side, and a first
	// --demo start (seeding, a certificate) on a busy two-core machine
	// took over 20 s. Readiness time is measured by BenchmarkStartupToReady.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := insecureClient.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("serve did not become ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return base, out, func() error { cancel(); return <-done }
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeDemo(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	base, out, stop := startServe(t, data, "--demo")
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := insecureClient.Get(base + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	// The first start prints the URL and the demo admin's login.
	if !strings.Contains(out.String(), "running at "+base) || !strings.Contains(out.String(), "Demo clinic admin: admin@clinic.example  password: ") {
		t.Fatalf("startup output: %q", out.String())
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for _, f := range []string{"clinicbox.db", "session.key", "tls/cert.pem", "tls/key.pem", "demo-login.txt"} {
		st, err := os.Stat(filepath.Join(data, f))
		if err != nil {
			t.Fatalf("data dir lacks %s: %v", f, err)
		}
		if strings.HasSuffix(f, ".key") || strings.HasSuffix(f, "key.pem") || f == "demo-login.txt" {
			if st.Mode().Perm()&0o077 != 0 {
				t.Fatalf("%s is readable by others: %v", f, st.Mode())
			}
		}
	}
	// A second start seeds nothing new but prints the same login again.
	_, out2, stop2 := startServe(t, data, "--demo")
	login := out.String()[strings.Index(out.String(), "Demo clinic admin"):]
	if !strings.Contains(out2.String(), strings.TrimSpace(login)) {
		t.Fatalf("second start output %q lacks %q", out2.String(), login)
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

func TestGracefulShutdownFinishesRequests(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	base, _, stop := startServe(t, data)
	// A request whose body is still arriving when shutdown starts must get
	// its answer; only then may the server stop.
	pr, pw := io.Pipe()
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/signin", pr)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := insecureClient.Do(req)
		if err != nil {
			res <- result{0, err}
			return
		}
		resp.Body.Close()
		res <- result{resp.StatusCode, nil}
	}()
	pw.Write([]byte("email=nobody%40x.example&"))
	time.Sleep(200 * time.Millisecond) // the handler is now reading the body
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("server stopped with a request in flight: %v", err)
	default:
	}
	pw.Write([]byte("password=wrong"))
	pw.Close()
	r := <-res
	if r.err != nil || r.code == 0 {
		t.Fatalf("in-flight request: %+v", r)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := insecureClient.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

// BenchmarkStartupToReady measures 'clinicbox serve' on an existing data
// directory from the call to the first 200 from /readyz.
func BenchmarkStartupToReady(b *testing.B) {
	data := b.TempDir()
	_, _, stop := startServe(b, data, "--demo") // first start seeds and makes the certificate
	stop()
	for b.Loop() {
		_, _, stop := startServe(b, data)
		stop()
	}
}

func TestEnvFallback(t *testing.T) {
	t.Parallel()
	cfg, err := parseServeConfig(env{getenv: func(k string) string {
		return map[string]string{"CLINICBOX_ADDR": "127.0.0.1:9000", "CLINICBOX_HTTP": "true", "CLINICBOX_PUBLIC_URL": "https://clinic.example/"}[k]
	}, stderr: &bytes.Buffer{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" || !cfg.PlainHTTP || cfg.PublicURL != "https://clinic.example" {
		t.Fatalf("config from env: %+v", cfg)
	}
	// A flag beats the environment.
	cfg, err = parseServeConfig(env{getenv: func(k string) string { return map[string]string{"CLINICBOX_ADDR": "127.0.0.1:9000"}[k] }, stderr: &bytes.Buffer{}}, []string{"--addr", ":7000"})
	if err != nil || cfg.Addr != ":7000" || cfg.PublicURL != "https://localhost:7000" {
		t.Fatalf("flag over env: %+v %v", cfg, err)
	}
	_ = fmt.Sprint()
}
