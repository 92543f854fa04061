package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// certSource serves the HTTPS certificate: the operator's files, reloaded
// when they change on disk (no restart), or the appliance's own; with ACME,
// a publicly trusted one for the public name and the own one for every
// other name (staff on the LAN opening https://192.168.x.y).
type certSource struct {
	log        *slog.Logger
	certPath   string // operator's files; "" when the appliance's own is used
	keyPath    string
	checkEvery time.Duration
	acme       *autocert.Manager
	acmeHost   string

	mu      sync.Mutex
	cert    *tls.Certificate
	modKey  string // the files' sizes and times when last loaded
	checked time.Time
}

func newCertSource(cfg *serveConfig, log *slog.Logger) (*certSource, error) {
	cs := &certSource{log: log, checkEvery: 2 * time.Second}
	if cfg.TLSCert != "" {
		cs.certPath, cs.keyPath = cfg.TLSCert, cfg.TLSKey
		if err := cs.reload(); err != nil {
			return nil, fmt.Errorf("load --tls-cert/--tls-key: %w", err)
		}
	} else {
		c, err := loadCert(cfg, log)
		if err != nil {
			return nil, err
		}
		cs.cert = &c
	}
	if cfg.ACME {
		u, _ := url.Parse(cfg.PublicURL)
		cs.acmeHost = u.Hostname()
		cs.acme = &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(cs.acmeHost),
			Cache:      autocert.DirCache(filepath.Join(cfg.DataDir, "acme")),
			Email:      cfg.ACMEEmail,
		}
		dir := acme.LetsEncryptURL
		if cfg.ACMEDirectory != "" {
			dir = cfg.ACMEDirectory
			cs.acme.Client = &acme.Client{DirectoryURL: dir}
		}
		needs := "port 443 of " + cs.acmeHost + " forwarded to this server's HTTPS port"
		if cfg.ACMEHTTPAddr != "" {
			needs += ", or port 80 forwarded to " + cfg.ACMEHTTPAddr
		}
		log.Info("ACME: certificates for the public name come from an ACME server", "host", cs.acmeHost,
			"directory", dir, "needs", needs)
	}
	return cs, nil
}

// ACMEHTTPHandler answers ACME's HTTP-01 challenge and redirects every
// other request to the same path under publicURL (nil without ACME).
// autocert tries HTTP-01 only once this has been asked for, after
// TLS-ALPN-01 on the HTTPS port.
func (cs *certSource) ACMEHTTPHandler(publicURL string) http.Handler {
	if cs.acme == nil {
		return nil
	}
	toHTTPS := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, publicURL+r.URL.RequestURI(), http.StatusFound)
	})
	h := cs.acme.HTTPHandler(toHTTPS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The host policy names the host alone; a validation request that
		// reached a forwarded port other than 80 carries the port too.
		if host, _, err := net.SplitHostPort(r.Host); err == nil {
			r.Host = host
		}
		h.ServeHTTP(w, r)
	})
}

// TLSConfig is the HTTPS (and TURNS) configuration.
func (cs *certSource) TLSConfig() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cs.getCertificate}
	if cs.acme != nil {
		c.NextProtos = []string{"h2", "http/1.1", "acme-tls/1"}
	}
	return c
}

func (cs *certSource) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if cs.acme != nil && hello.ServerName == cs.acmeHost {
		return cs.acme.GetCertificate(hello)
	}
	if cs.certPath != "" {
		cs.maybeReload()
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.cert, nil
}

func fileKey(paths ...string) (string, error) {
	key := ""
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		key += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return key, nil
}

// maybeReload looks at the files at most every checkEvery and loads them
// again when they changed. A half-written or broken pair keeps the
// certificate in use and is tried again.
func (cs *certSource) maybeReload() {
	cs.mu.Lock()
	due := time.Since(cs.checked) >= cs.checkEvery
	if due {
		cs.checked = time.Now()
	}
	cs.mu.Unlock()
	if !due {
		return
	}
	key, err := fileKey(cs.certPath, cs.keyPath)
	if err != nil {
		return
	}
	cs.mu.Lock()
	same := key == cs.modKey
	cs.mu.Unlock()
	if same {
		return
	}
	if err := cs.reload(); err != nil {
		cs.log.Warn("certificate files changed but do not load; keeping the current certificate", "err", err)
	}
}

func (cs *certSource) reload() error {
	key, err := fileKey(cs.certPath, cs.keyPath)
	if err != nil {
		return err
	}
	c, err := tls.LoadX509KeyPair(cs.certPath, cs.keyPath)
	if err != nil {
		return err
	}
	if c.Leaf == nil && len(c.Certificate) > 0 {
		c.Leaf, _ = x509.ParseCertificate(c.Certificate[0])
	}
	cs.mu.Lock()
	old := cs.cert
	cs.cert, cs.modKey = &c, key
	cs.mu.Unlock()
	if old != nil {
		cs.log.Info("certificate reloaded", "file", cs.certPath, "sha256", fingerprint(c))
	}
	return nil
}

// Trust says whether a patient's phone opening a link under publicURL
// would trust the certificate, and why not.
func (cs *certSource) Trust(publicURL string) (bool, string) {
	u, err := url.Parse(publicURL)
	if err != nil {
		return false, "the public URL is not valid"
	}
	if u.Scheme != "https" {
		return false, "patient links use plain http: browsers allow the camera only on https pages"
	}
	host := u.Hostname()
	if cs.acme != nil && host == cs.acmeHost {
		return true, ""
	}
	cs.mu.Lock()
	c := cs.cert
	cs.mu.Unlock()
	if c == nil || len(c.Certificate) == 0 {
		return false, "no certificate"
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return false, "the certificate cannot be read"
	}
	inter := x509.NewCertPool()
	for _, der := range c.Certificate[1:] {
		if ic, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(ic)
		}
	}
	opts := x509.VerifyOptions{DNSName: host, Intermediates: inter}
	if ip := net.ParseIP(host); ip != nil {
		opts.DNSName = ip.String()
	}
	if _, err := leaf.Verify(opts); err != nil {
		return false, fmt.Sprintf("patients' phones will warn that the connection is not private: the certificate for %s is not trusted by public authorities (%v). Give a real certificate (--tls-cert/--tls-key) or use --acme with a public name.", host, shortCertErr(err))
	}
	return true, ""
}

func shortCertErr(err error) string {
	switch err.(type) {
	case x509.UnknownAuthorityError:
		return "it is self-made"
	case x509.HostnameError:
		return "it is for another name"
	case x509.CertificateInvalidError:
		return "it has expired or is not valid yet"
	}
	return err.Error()
}
