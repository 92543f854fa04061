package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// selfCert returns the appliance's own certificate from dir/tls, creating it
// on first start (and again when it is about to expire) for localhost, the
// host name and the machine's LAN addresses.
func selfCert(dir string, now time.Time) (cert tls.Certificate, path string, created bool, err error) {
	tlsDir := filepath.Join(dir, "tls")
	certPath, keyPath := filepath.Join(tlsDir, "cert.pem"), filepath.Join(tlsDir, "key.pem")
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil && now.Add(30*24*time.Hour).Before(leaf.NotAfter) {
			return c, certPath, false, nil
		}
	}
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		return cert, "", false, fmt.Errorf("certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cert, "", false, fmt.Errorf("certificate key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	hostname, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Clinicbox " + hostname, Organization: []string{"Clinicbox appliance"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so it can be imported as a trusted root
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if hostname != "" && hostname != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, hostname)
		if !strings.Contains(hostname, ".") {
			tmpl.DNSNames = append(tmpl.DNSNames, hostname+".local")
		}
	}
	tmpl.IPAddresses = append(tmpl.IPAddresses, lanAddrs()...)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return cert, "", false, fmt.Errorf("certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return cert, "", false, fmt.Errorf("certificate key: %w", err)
	}
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return cert, "", false, err
	}
	if err := writeFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return cert, "", false, err
	}
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	return c, certPath, true, err
}

// lanAddrs are the machine's non-loopback unicast addresses.
func lanAddrs() []net.IP {
	var out []net.IP
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			out = append(out, ipn.IP)
		}
	}
	return out
}

func fingerprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// writeFile writes atomically (temp file + rename), so a crash never leaves
// half a key.
func writeFile(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// sessionKeys returns the cookie signing key kept in dir, making it once.
func sessionKeys(dir string) ([][]byte, error) {
	path := filepath.Join(dir, "session.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b = make([]byte, 32)
		rand.Read(b)
		if err := writeFile(path, b, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("session key %s: too short; delete it to make a new one", path)
	}
	return [][]byte{b}, nil
}
