package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writePair(t *testing.T, dir, cn string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		DNSNames: []string{cn}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
}

func servedName(t *testing.T, cs *certSource) string {
	t.Helper()
	c, err := cs.getCertificate(&tls.ClientHelloInfo{ServerName: "clinic.example"})
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(c.Certificate[0])
	return leaf.Subject.CommonName
}

// The operator's certificate is reloaded when its files change, without a
// restart; a broken replacement keeps the working one.
func TestCertificateReloads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writePair(t, dir, "one.example")
	logs := &bytes.Buffer{}
	cs, err := newCertSource(&serveConfig{DataDir: dir, TLSCert: filepath.Join(dir, "cert.pem"), TLSKey: filepath.Join(dir, "key.pem"),
		PublicURL: "https://one.example"}, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cs.checkEvery = 0
	if got := servedName(t, cs); got != "one.example" {
		t.Fatalf("serving %q", got)
	}
	time.Sleep(10 * time.Millisecond) // a different modification time
	writePair(t, dir, "two.example")
	if got := servedName(t, cs); got != "two.example" {
		t.Fatalf("after replacing the files: serving %q", got)
	}
	os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("half a file"), 0o600)
	if got := servedName(t, cs); got != "two.example" {
		t.Fatalf("after a broken write: serving %q", got)
	}
	if !strings.Contains(logs.String(), "do not load") {
		t.Errorf("the broken certificate was not logged: %s", logs)
	}
}

func TestCertificateTrustWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cs, err := newCertSource(&serveConfig{DataDir: dir, PublicURL: "https://localhost:8443"}, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{"https://localhost:8443", "self-made"},
		{"http://clinic.example", "plain http"},
	} {
		ok, why := cs.Trust(tc.url)
		if ok || !strings.Contains(why, tc.want) {
			t.Errorf("Trust(%s) = %v %q, want a warning with %q", tc.url, ok, why, tc.want)
		}
	}
}

func TestACMEFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--acme", "--public-url", "https://192.0.2.1:8443"}, "public DNS name"},
		{[]string{"--acme", "--public-url", "https://video.clinic.example", "--http"}, "--acme and --http"},
		{[]string{"--acme", "--public-url", "https://video.clinic.example", "--acme-directory", "http://ca.example/dir"}, "must be an https URL"},
		{[]string{"--acme", "--public-url", "https://video.clinic.example", "--acme-http-addr", "80"}, "--acme-http-addr"},
		{[]string{"--acme-http-addr", ":80"}, "need --acme"},
		{[]string{"--media-port", "3478"}, "must differ"},
		{[]string{"--turn-port", "70000"}, "--turn-port"},
		{[]string{"--public-ip", "not-an-ip"}, "--public-ip"},
	} {
		_, err := parseServeConfig(env{getenv: func(string) string { return "" }, stderr: io.Discard}, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.err)
		}
	}
	cfg, err := parseServeConfig(env{getenv: func(k string) string {
		return map[string]string{"CLINICBOX_PUBLIC_IP": "203.0.113.7", "CLINICBOX_MEDIA_PORT": "9000"}[k]
	}, stderr: io.Discard}, []string{"--acme", "--public-url", "https://video.clinic.example"})
	if err != nil || !cfg.ACME || cfg.Video.MediaPort != 9000 || cfg.Video.PublicHost != "video.clinic.example" || cfg.Video.PublicIPs[0] != "203.0.113.7" {
		t.Fatalf("config %+v %v", cfg, err)
	}
}
