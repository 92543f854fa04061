package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// acmeCA is Let's Encrypt's test server (pebble), in this process: the
// same ACME protocol, and it validates the challenges for real, against
// the ports it is given on 127.0.0.1.
type acmeCA struct {
	dir   string // directory URL
	http  *http.Client
	roots *x509.CertPool
}

func startACME(t *testing.T, httpPort, tlsPort int) *acmeCA {
	t.Helper()
	// No random sleeps before validating, no injected bad nonces: a test
	// wants the protocol, not pebble's chaos.
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_AUTHZREUSE", "0")
	logger := log.New(io.Discard, "", 0)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	validator := va.New(logger, httpPort, tlsPort, false, startDNS(t), store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	srv := httptest.NewTLSServer(front.Handler())
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(authority.GetRootCert(0).Cert)
	return &acmeCA{dir: srv.URL + wfe.DirectoryPath, http: srv.Client(), roots: roots}
}

// startDNS answers every name with 127.0.0.1 (the public name points at
// this box), over TCP as pebble asks.
func startDNS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		for _, q := range r.Question {
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A: net.IPv4(127, 0, 0, 1)})
			}
		}
		w.WriteMsg(m) //nolint:errcheck // the client retries
	})}
	go srv.ActivateAndServe() //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

// closedPort is a port nothing listens on (a challenge sent there fails,
// as it does when the router does not forward that port).
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// The appliance gets a certificate for its public name from an ACME server,
// by TLS-ALPN-01 on its HTTPS port (port 443 forwarded) or, when only port
// 80 reaches it, by HTTP-01 on --acme-http-addr; it serves that certificate
// for the public name, its own for every other name, keeps it in the data
// directory, and serves it from there after a restart without asking again.
func TestACMECertificate(t *testing.T) {
	const host = "video.clinic.example"
	for _, challenge := range []string{"tls-alpn-01", "http-01"} {
		t.Run(challenge, func(t *testing.T) {
			httpsLn, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			httpLn, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			httpsPort, httpPort := httpsLn.Addr().(*net.TCPAddr).Port, httpLn.Addr().(*net.TCPAddr).Port
			var acmeSrv *acmeCA
			if challenge == "tls-alpn-01" {
				acmeSrv = startACME(t, closedPort(t), httpsPort) // port 80 not forwarded
				httpLn.Close()
			} else {
				acmeSrv = startACME(t, httpPort, closedPort(t)) // port 443 not forwarded
			}
			data := t.TempDir()
			args := []string{"--data", data, "--acme", "--public-url", "https://" + host, "--acme-directory", acmeSrv.dir}
			if challenge == "http-01" {
				args = append(args, "--acme-http-addr", httpLn.Addr().String())
			}
			cfg, err := parseServeConfig(env{getenv: func(string) string { return "" }, stderr: io.Discard}, args)
			if err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			cs, err := newCertSource(cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			cs.acme.Client.HTTPClient = acmeSrv.http // trusts the test server's own certificate
			https := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "clinicbox") })}
			go https.Serve(tls.NewListener(httpsLn, cs.TLSConfig())) //nolint:errcheck // ends with Close
			defer https.Close()
			if challenge == "http-01" {
				plain := &http.Server{Handler: cs.ACMEHTTPHandler(cfg.PublicURL)}
				go plain.Serve(httpLn) //nolint:errcheck // ends with Close
				defer plain.Close()
				// Every other plain request goes to https.
				res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
					Get("http://" + httpLn.Addr().String() + "/visit/abc")
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || loc != "https://"+host+"/visit/abc" {
					t.Errorf("plain request: %d to %q, want a redirect to https", res.StatusCode, loc)
				}
			}

			// A patient's phone opens the public name: the first handshake
			// waits for the certificate (the challenge, then the order).
			leaf := handshake(t, httpsPort, host, acmeSrv.roots)
			if leaf.Subject.CommonName != host && (len(leaf.DNSNames) == 0 || leaf.DNSNames[0] != host) {
				t.Errorf("certificate for %v %q", leaf.DNSNames, leaf.Subject.CommonName)
			}
			if ok, why := cs.Trust("https://" + host); !ok {
				t.Errorf("Trust: %s", why)
			}
			// Staff on the LAN (any other name) keep the appliance's own.
			conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(httpsPort), &tls.Config{ServerName: "192.168.1.20", InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			own := conn.ConnectionState().PeerCertificates[0]
			conn.Close()
			if own.Issuer.CommonName == leaf.Issuer.CommonName {
				t.Errorf("a LAN name got the ACME certificate (issuer %q)", own.Issuer.CommonName)
			}

			// Kept in the data directory: a restart serves it without the
			// ACME server (gone now).
			if _, err := os.Stat(filepath.Join(data, "acme", host)); err != nil {
				t.Fatalf("certificate not cached: %v", err)
			}
			cs2, err := newCertSource(cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			cs2.acme.Client.HTTPClient = &http.Client{Transport: failing{}}
			c, err := cs2.TLSConfig().GetCertificate(&tls.ClientHelloInfo{ServerName: host, SupportedProtos: []string{"h2"},
				CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
				SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12}, SupportedCurves: []tls.CurveID{tls.CurveP256}})
			if err != nil {
				t.Fatalf("after a restart: %v", err)
			}
			if got, _ := x509.ParseCertificate(c.Certificate[0]); got == nil || !got.Equal(leaf) {
				t.Error("after a restart: not the cached certificate")
			}
		})
	}
}

type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, os.ErrDeadlineExceeded
}

// handshake connects as a phone would, trusting only the ACME server's
// root, and returns the certificate served.
func handshake(t *testing.T, port int, host string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{ServerName: host, RootCAs: roots}}
	conn, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("handshake for %s: %v", host, err)
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
}
