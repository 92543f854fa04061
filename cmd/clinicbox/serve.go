package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/devices/lis"
	"github.com/clinicbox/clinicbox/reports"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/demo"
	"github.com/clinicbox/clinicbox/video"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/live"
	"github.com/clinicbox/clinicbox/web/webhook"
)

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// worker is a background loop that runs for the life of the server.
type worker struct {
	name string
	run  func(ctx context.Context) error
}

// serveCmd runs the appliance until ctx ends: the store, the HTTP server,
// the media server and the background workers, then a graceful shutdown.
// Each step is a function below, in the order they run.
func serveCmd(ctx context.Context, e env, args []string) error {
	started := time.Now()
	cfg, err := parseServeConfig(e, args)
	if err != nil {
		return err
	}
	log, stopLog := startLog(e.stderr, cfg.LogFormat)
	defer stopLog()
	st, login, err := openServeStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := sessionKeys(cfg.DataDir)
	if err != nil {
		return err
	}
	media, err := startVideo(cfg, st, log)
	if err != nil {
		return err
	}
	defer media.Close()
	certs, trust, err := tlsTrust(cfg, log)
	if err != nil {
		return err
	}

	hub := live.NewHub(st, log)
	reportJobs := reports.NewJobs(st, log)
	instruments := devices.NewManager(st, devices.Options{Log: log})
	srv := &http.Server{
		Handler: web.New(web.Deps{
			Store: st, Log: log, Live: hub, PublicURL: cfg.PublicURL, SessionKeys: keys,
			SecureCookies: !cfg.PlainHTTP || strings.HasPrefix(cfg.PublicURL, "https:"), Version: version,
			Reports: reportJobs, Devices: instruments, APICacheBytes: cfg.CacheMB << 20, Video: media, TLSTrust: trust, PDFs: reports.PDF{},
			TrustedProxies: cfg.TrustedProxies,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(hub.Close)
	ln, err := listen(cfg, srv, certs, media, log)
	if err != nil {
		return err
	}
	if cfg.ACME && cfg.ACMEHTTPAddr != "" {
		stop, err := serveACMEHTTP(cfg.ACMEHTTPAddr, certs.ACMEHTTPHandler(cfg.PublicURL), log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}

	stopWorkers := runWorkers([]worker{
		{"live", hub.Run},
		{"webhooks", webhook.New(webhook.Config{Store: st, Log: log}).Run},
		{"poct-webhooks", webhook.NewPoct(webhook.PoctConfig{Store: st, Log: log}).Run},
		{"lis", lis.New(lis.Config{Store: st, Log: log}).Run},
		{"encounter-reports", reportJobs.Run},
		{"instruments", instruments.Run},
		{"session-purge", func(ctx context.Context) error { return every(ctx, 10*time.Minute, st.PurgeExpiredSessions) }},
		{"monitoring-no-reading", func(ctx context.Context) error {
			return every(ctx, time.Minute, func(ctx context.Context) error { _, err := st.SweepNoReadings(ctx); return err })
		}},
	}, log)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("ready", "addr", ln.Addr().String(), "url", cfg.PublicURL, "startup_ms", time.Since(started).Milliseconds())
	announce(e.stdout, cfg, login)
	return awaitShutdown(ctx, srv, serveErr, stopWorkers, log)
}

// startLog starts the buffered logger (log lines are written off the
// request path); stop flushes it.
func startLog(w io.Writer, format string) (log *slog.Logger, stop func()) {
	log, logBuf := newBufferedLogger(w, format)
	logCtx, stopLog := context.WithCancel(context.Background())
	logDone := make(chan struct{})
	go func() { logBuf.run(logCtx); close(logDone) }()
	return log, func() { stopLog(); <-logDone }
}

// openServeStore opens the data directory's store and, with --demo, seeds
// the demo clinic (login is then its admin's sign-in, else nil).
func openServeStore(ctx context.Context, cfg *serveConfig, log *slog.Logger) (*store.Store, *demo.Login, error) {
	st, err := openStore(ctx, cfg.DataDir, log)
	if err != nil {
		return nil, nil, err
	}
	if !cfg.Demo {
		return st, nil, nil
	}
	login, err := demoLogin(ctx, st, cfg.DataDir)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	// Seeding hashed the staff's passwords (argon2id takes 19 MiB each):
	// hand that memory back now rather than whenever the scavenger gets to it.
	debug.FreeOSMemory()
	return st, login, nil
}

// tlsTrust loads the certificates (nil with --plain-http) and says whether
// patients' phones will trust the public URL; a problem is logged now and
// shown on the admin pages.
func tlsTrust(cfg *serveConfig, log *slog.Logger) (*certSource, func() (bool, string), error) {
	var certs *certSource
	trust := func() (bool, string) { why := plainHTTPTrust(cfg); return why == "", why }
	if !cfg.PlainHTTP {
		var err error
		if certs, err = newCertSource(cfg, log); err != nil {
			return nil, nil, err
		}
		trust = func() (bool, string) { return certs.Trust(cfg.PublicURL) }
	}
	if ok, why := trust(); !ok {
		log.Warn("patient links", "problem", why)
	}
	return certs, trust, nil
}

// listen opens the server's socket, capped per client, with TLS unless
// --plain-http; TURN over TLS shares the certificate.
func listen(cfg *serveConfig, srv *http.Server, certs *certSource, media *video.Server, log *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	ln = httpx.LimitPerClient(ln, cfg.MaxConnsPerIP, cfg.TrustedProxies, log)
	if cfg.PlainHTTP {
		return ln, nil
	}
	srv.TLSConfig = certs.TLSConfig()
	ln = tls.NewListener(ln, srv.TLSConfig)
	if err := media.StartTURNS(cfg.Video.TURNSPort, srv.TLSConfig); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// runWorkers starts the background loops; stop ends them and waits.
func runWorkers(workers []worker, log *slog.Logger) (stop func()) {
	wctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			if err := w.run(wctx); err != nil {
				log.Error("worker stopped", "worker", w.name, "err", err)
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

// announce tells the person at the terminal where the appliance is, and
// the demo admin's sign-in.
func announce(out io.Writer, cfg *serveConfig, login *demo.Login) {
	fmt.Fprintf(out, "Clinicbox %s is running at %s\n", version, cfg.PublicURL)
	if host, port, err := net.SplitHostPort(cfg.Addr); err == nil && (host == "" || host == "0.0.0.0" || host == "::") &&
		strings.Contains(cfg.PublicURL, "://localhost:") {
		// Tablets and phones on the clinic network need an address, not localhost.
		scheme := strings.SplitN(cfg.PublicURL, "://", 2)[0]
		for _, ip := range lanAddrs() {
			if ip.To4() != nil {
				fmt.Fprintf(out, "  on the clinic network: %s://%s (set --public-url for visit links)\n", scheme, net.JoinHostPort(ip.String(), port))
			}
		}
	}
	if login != nil {
		fmt.Fprintf(out, "Demo clinic admin: %s  password: %s\n", login.Email, login.Password)
	}
}

// awaitShutdown serves until the server fails or ctx ends, then lets the
// requests in flight finish (20 s at most) and stops the workers.
func awaitShutdown(ctx context.Context, srv *http.Server, serveErr <-chan error, stopWorkers func(), log *slog.Logger) error {
	select {
	case err := <-serveErr:
		stopWorkers()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	stopWorkers()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// serveACMEHTTP listens on addr for ACME's HTTP-01 challenge (plain HTTP,
// port 80 of the public name); the returned func stops it.
func serveACMEHTTP(addr string, h http.Handler, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--acme-http-addr %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	log.Info("ACME HTTP-01 challenges answered", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

// plainHTTPTrust: behind a reverse proxy the proxy's certificate is what
// patients meet; only an http:// public URL is certainly wrong.
func plainHTTPTrust(cfg *serveConfig) string {
	if strings.HasPrefix(cfg.PublicURL, "https:") {
		return ""
	}
	return "patient links use plain http: browsers allow the camera only on https pages (set --public-url to the proxy's https address)"
}

// loadCert returns the appliance's own certificate, making it on first start.
func loadCert(cfg *serveConfig, log *slog.Logger) (tls.Certificate, error) {
	c, path, created, err := selfCert(cfg.DataDir, time.Now())
	if err != nil {
		return c, err
	}
	if created {
		log.Info("created a self-signed certificate", "file", path)
	}
	log.Info("serving HTTPS with the appliance's own certificate", "sha256", fingerprint(c), "file", path,
		"trust", "import this file as a trusted certificate on each device, or give --tls-cert/--tls-key")
	return c, nil
}

// demoLogin seeds the demo clinic into an empty database and returns the
// admin's login, which is kept in the data directory so every later start
// can print it again.
func demoLogin(ctx context.Context, st *store.Store, dataDir string) (*demo.Login, error) {
	path := filepath.Join(dataDir, "demo-login.txt")
	login, err := demo.Seed(ctx, st, demo.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if login != nil {
		if err := writeFile(path, []byte(login.Email+"\n"+login.Password+"\n"), 0o600); err != nil {
			return nil, err
		}
		return login, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // not a database this binary seeded
	}
	if err != nil {
		return nil, fmt.Errorf("demo login: %w", err)
	}
	lines := strings.SplitN(strings.TrimSpace(string(b)), "\n", 2)
	if len(lines) != 2 {
		return nil, nil
	}
	return &demo.Login{Email: lines[0], Password: lines[1]}, nil
}

// every runs fn now and then every d until ctx ends; errors are returned
// only from ctx.
func every(ctx context.Context, d time.Duration, fn func(context.Context) error) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
