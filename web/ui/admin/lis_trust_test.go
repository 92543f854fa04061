package admin_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// selfSigned is a fresh self-signed certificate as PEM with its SHA-256
// fingerprint written the way openssl prints it (AB:CD:...).
func selfSigned(t *testing.T) (pemText, opensslPin, pin string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Hospital LIS CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	pin = hex.EncodeToString(sum[:])
	var colons []string
	for i := 0; i < len(pin); i += 2 {
		colons = append(colons, strings.ToUpper(pin[i:i+2]))
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), strings.Join(colons, ":"), pin
}

// TestLISTrustFields: the LIS form takes what `clinicbox lis add --ca
// FILE --pin SHA256` takes, checked by the same store validation: a bad
// CA or pin is refused on its field with the form kept and nothing
// stored; a good one is stored normalised and shown in the list.
func TestLISTrustFields(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	admin := s.signIn(t, "admin@north.example")
	caPEM, opensslPin, pin := selfSigned(t)
	base := func(name string, kv ...string) url.Values {
		v := url.Values{"name": {name}, "host": {"lis.hospital.example"}, "port": {"6661"}, "tls": {"on"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	bad := []struct {
		name, field, want string
		form              url.Values
	}{
		{"not PEM", "ca", "must be PEM certificates", base("bad-ca", "ca", "this is not a certificate")},
		{"PEM of a key, not a certificate", "ca", "must be PEM certificates", base("bad-ca2", "ca", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")},
		{"CA without TLS", "ca", "needs TLS", url.Values{"name": {"plain"}, "host": {"lis.example"}, "port": {"6661"}, "ca": {caPEM}}},
		{"short pin", "pin", "64 hex digits", base("bad-pin", "pin", "AB:CD:EF")},
		{"pin not hex", "pin", "64 hex digits", base("bad-pin2", "pin", strings.Repeat("zz", 32))},
		{"pin without TLS", "pin", "needs TLS", url.Values{"name": {"plain2"}, "host": {"lis.example"}, "port": {"6661"}, "pin": {pin}}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := admin.do("POST", "/admin/poct/lis", tt.form)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", code)
			}
			i := strings.Index(body, `data-testid="error-`+tt.field+`"`)
			if i < 0 || !strings.Contains(body[i:min(len(body), i+300)], tt.want) {
				t.Errorf("no field error %q on %s", tt.want, tt.field)
			}
			if !strings.Contains(body, `value="`+tt.form.Get("name")+`"`) {
				t.Errorf("the form lost what was typed")
			}
		})
	}
	ds, err := s.st.LISDestinations(ctx, s.north.ID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("a refused form stored something: %+v %v", ds, err)
	}

	if code, _, _ := admin.do("POST", "/admin/poct/lis", base("hospital", "ca", caPEM, "pin", opensslPin)); code != http.StatusSeeOther {
		t.Fatalf("good CA and pin: %d", code)
	}
	if code, _, _ := admin.do("POST", "/admin/poct/lis", base("selfsigned", "pin", " "+pin+" ")); code != http.StatusSeeOther {
		t.Fatalf("good pin: %d", code)
	}
	ds, _ = s.st.LISDestinations(ctx, s.north.ID)
	byName := map[string]int{}
	for i, d := range ds {
		byName[d.Name] = i
	}
	if h := ds[byName["hospital"]]; h.TLSCA != strings.TrimSpace(caPEM) || h.TLSPin != pin || !h.TLS {
		t.Errorf("hospital stored as %+v", h)
	}
	if p := ds[byName["selfsigned"]]; p.TLSCA != "" || p.TLSPin != pin {
		t.Errorf("selfsigned stored as %+v", p)
	}
	_, _, body := admin.do("GET", "/admin/poct/lis", nil)
	for name, want := range map[string]string{"hospital": "CA + pin", "selfsigned": pin[:16], "labka": ""} {
		i := strings.Index(body, `data-testid="lis-`+name+`"`)
		if i < 0 {
			t.Errorf("%s not listed", name)
			continue
		}
		row := body[i:]
		row = row[:strings.Index(row, "</tr>")]
		j := strings.Index(row, `data-testid="trust"`)
		cell := row[j:]
		cell = cell[:strings.Index(cell, "</td>")]
		if want == "" && strings.TrimSpace(cell[strings.Index(cell, ">")+1:]) != "" || !strings.Contains(cell, want) {
			t.Errorf("%s trust cell %q, want %q", name, cell, want)
		}
	}
}
