package lis_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/lis"
	"github.com/clinicbox/clinicbox/store"
)

// issuer is a certificate that can sign others (a hospital's CA, or a
// self-signed LIS certificate that signs only itself).
type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

// newCert makes a certificate for 127.0.0.1 (and "lis.test"), signed by
// parent, or self-signed when parent is nil; isCA makes it a CA.
func newCert(t *testing.T, cn string, parent *issuer, isCA bool) (*issuer, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: isCA,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"lis.test"},
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	iss := &issuer{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
	chain := [][]byte{der}
	if parent != nil {
		chain = append(chain, parent.cert.Raw)
	}
	return iss, tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: cert}
}

// fingerprint is the pin as people copy it from openssl: upper-case hex
// pairs separated by colons.
func fingerprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// newTLSTestLIS is a test LIS speaking MLLP over TLS with the certificate
// *cert points at (swapped by the test while it runs).
func newTLSTestLIS(t *testing.T, cert *atomic.Pointer[tls.Certificate]) *testLIS {
	l := &testLIS{t: t, tried: map[string]bool{}}
	l.mode.Store("AA")
	l.tls = &tls.Config{MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert.Load(), nil }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.addr = ln.Addr().String()
	l.serve(ln)
	t.Cleanup(l.stop)
	return l
}

// syncBuffer collects the worker's log lines.
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

// TestORUOverTLS: a destination with TLS trusts the LIS's certificate
// through the hospital CA it names (chain and host name checked) or
// through a pin of the certificate itself (a self-signed LIS). While the
// LIS presents a certificate the destination does not trust, nothing is
// sent: the handshake is refused, the attempt recorded and logged, and
// retried; once the LIS presents the right certificate the queued ORU^R01
// is delivered, acknowledged, once, with the value as the analyser sent it.
func TestORUOverTLS(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	f := newFixture(t, func(c *lis.Config) { c.Log = slog.New(slog.NewTextHandler(logs, nil)) })

	hospitalCA, _ := newCert(t, "Hospital CA", nil, true)
	_, good := newCert(t, "lis.hospital", hospitalCA, false)
	rogueCA, _ := newCert(t, "Rogue CA", nil, true)
	_, rogue := newCert(t, "lis.hospital", rogueCA, false)
	_, selfSigned := newCert(t, "lis.self", nil, false)
	_, otherSelf := newCert(t, "lis.other", nil, false)

	// CA trust: the LIS starts with a certificate of another CA.
	var caCert atomic.Pointer[tls.Certificate]
	caCert.Store(&rogue)
	caLIS := newTLSTestLIS(t, &caCert)
	f.addLIS(t, caLIS, "ca-lis", store.LISDestination{TLS: true, TLSCA: hospitalCA.pem})
	// Pin trust: the LIS starts with another self-signed certificate.
	var pinCert atomic.Pointer[tls.Certificate]
	pinCert.Store(&otherSelf)
	pinLIS := newTLSTestLIS(t, &pinCert)
	f.addLIS(t, pinLIS, "pin-lis", store.LISDestination{TLS: true, TLSPin: fingerprint(selfSigned)})

	f.ingest(t, astm("MRN-1", "Jensen^Anna", "S-T1", "R|1|^^^WBC|<0,5|10*3/uL|3.5-10.0|L||F||op1||20261202075400\r"))
	refusedTwice := func(dest string) func() bool {
		return func() bool {
			ms, _ := f.st.LISMessages(f.ctx, f.org.ID, 10)
			for _, m := range ms {
				if m.Destination == dest && m.Attempts >= 2 && m.Status == store.LISPending {
					return true
				}
			}
			return false
		}
	}
	waitFor(t, "refused attempts to the CA destination", refusedTwice("ca-lis"))
	waitFor(t, "refused attempts to the pinned destination", refusedTwice("pin-lis"))
	if len(caLIS.got()) != 0 || len(pinLIS.got()) != 0 {
		t.Fatal("a LIS with an untrusted certificate received a message")
	}
	ms, _ := f.st.LISMessages(f.ctx, f.org.ID, 10)
	for _, m := range ms {
		if !strings.Contains(m.LastError, "certificate") {
			t.Errorf("%s: last error %q does not name the certificate", m.Destination, m.LastError)
		}
	}
	if out := logs.String(); !strings.Contains(out, "lis: cannot connect") || !strings.Contains(out, "destination=ca-lis") ||
		!strings.Contains(out, "destination=pin-lis") || !strings.Contains(out, "not the pinned one") {
		t.Errorf("the refusals are not logged:\n%s", out)
	}

	// The right certificates: delivered on the next retry, once each.
	caCert.Store(&good)
	pinCert.Store(&selfSigned)
	waitFor(t, "delivery over TLS", func() bool { return len(caLIS.got()) == 1 && len(pinLIS.got()) == 1 })
	for _, l := range []*testLIS{caLIS, pinLIS} {
		if v := unescape(l.got()[0].get("OBX", 1, 5, 0)); v != "<0,5" {
			t.Errorf("value over TLS %q", v)
		}
	}
	time.Sleep(150 * time.Millisecond)
	if len(caLIS.got()) != 1 || len(pinLIS.got()) != 1 {
		t.Errorf("sent again after the ACK: %d %d", len(caLIS.got()), len(pinLIS.got()))
	}
	// The worker records the ACK after the LIS has the message.
	waitFor(t, "the ACKs recorded", func() bool {
		ms, _ = f.st.LISMessages(f.ctx, f.org.ID, 10)
		return !slices.ContainsFunc(ms, func(m store.LISMessage) bool { return m.Status == store.LISPending })
	})
	for _, m := range ms {
		if m.Status != store.LISAcked || m.AckCode != "AA" || m.Attempts < 3 {
			t.Errorf("%s: %s after %d attempts (%s)", m.Destination, m.Status, m.Attempts, m.AckCode)
		}
	}
}

// TestLISTrustValidation: a CA or pin needs TLS and must be what it says.
func TestLISTrustValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ca, _ := newCert(t, "CA", nil, true)
	for _, c := range []struct {
		name  string
		d     store.LISDestination
		field string
	}{
		{"CA without TLS", store.LISDestination{TLSCA: ca.pem}, "ca"},
		{"CA not PEM", store.LISDestination{TLS: true, TLSCA: "not a certificate"}, "ca"},
		{"pin without TLS", store.LISDestination{TLSPin: strings.Repeat("ab", 32)}, "pin"},
		{"pin too short", store.LISDestination{TLS: true, TLSPin: "AB:CD"}, "pin"},
		{"pin not hex", store.LISDestination{TLS: true, TLSPin: strings.Repeat("zz", 32)}, "pin"},
	} {
		d := c.d
		d.Name, d.Host, d.Port = "x", "127.0.0.1", 2575
		err := f.st.AddLISDestination(f.ctx, f.org.ID, &d)
		if fe, ok := err.(*store.ValidationError); !ok || fe.Fields[c.field] == "" {
			t.Errorf("%s: %v, want an error on %s", c.name, err, c.field)
		}
	}
	if ds, _ := f.st.LISDestinations(f.ctx, f.org.ID); len(ds) != 0 {
		t.Fatalf("invalid destinations stored: %d", len(ds))
	}
	d := store.LISDestination{Name: "ok", Host: "127.0.0.1", Port: 2575, TLS: true, TLSPin: strings.Repeat("AB:", 31) + "AB"}
	if err := f.st.AddLISDestination(f.ctx, f.org.ID, &d); err != nil {
		t.Fatal(err)
	}
	ds, _ := f.st.LISDestinations(f.ctx, f.org.ID)
	if len(ds) != 1 || ds[0].TLSPin != strings.Repeat("ab", 32) || ds[0].Trust() != "pin" {
		t.Fatalf("stored pin: %+v", ds)
	}
}
