package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// specLinkingExample is the encrypted example of the spec's "Context Aware
// Linking" section: {"visit":"12345","user":"1234"} with secret "some secret".
const specLinkingExample = "BizXKL9L4EQ=YuhTK5qXNtOCmbuaHMq5tA==DUPdvDCZPiSUf0Jumt/Mr/wVWv+mr6Vzj5LnKUQtTPc="

func TestOpenSpecExample(t *testing.T) {
	got, err := Open("some secret", specLinkingExample)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"visit":"12345","user":"1234"}` {
		t.Errorf("decrypted %q", got)
	}
	if _, err := Open("another secret", specLinkingExample); !errors.Is(err, ErrDecrypt) {
		t.Errorf("wrong secret: err = %v, want ErrDecrypt", err)
	}
}

func TestOpenRejectsMalformed(t *testing.T) {
	for _, s := range []string{"", "abc", specLinkingExample[:40], "!!!!!!!!!!!!" + specLinkingExample[12:],
		specLinkingExample[:36] + "AAAA", specLinkingExample + "A"} {
		if _, err := Open("some secret", s); err == nil {
			t.Errorf("Open(%q) succeeded", s)
		}
	}
}

// phpDecrypt follows the spec's PHP snippet step by step with openssl as
// the cipher: substr(0,12), substr(12,24), substr(36); key =
// hash('SHA256', $decryptionKey . $salt, true); AES-256-CBC, PKCS#7.
func phpDecrypt(t *testing.T, decryptionKey, encrypted string) []byte {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CLINICBOX_REQUIRE_TOOLS") != "" {
			t.Fatal("openssl not installed; .ci/run installs it")
		}
		t.Skip("openssl not installed")
	}
	salt, err1 := base64.StdEncoding.DecodeString(encrypted[0:12])
	iv, err2 := base64.StdEncoding.DecodeString(encrypted[12:36])
	data, err3 := base64.StdEncoding.DecodeString(encrypted[36:])
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("envelope parts are not base64: %v %v %v", err1, err2, err3)
	}
	key := sha256.Sum256(append([]byte(decryptionKey), salt...))
	cmd := exec.Command(openssl, "enc", "-d", "-aes-256-cbc", "-K", hex.EncodeToString(key[:]), "-iv", hex.EncodeToString(iv))
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl enc -d: %v", err)
	}
	return out
}

func TestSealDecryptsWithSpecRecipe(t *testing.T) {
	const key = "39VNjjSpgoUWMbUhVCjAoQ=="
	for _, plain := range []string{
		`{"event":{"type":"patient:created"},"data":{"patientId":12}}`,
		"",
		strings.Repeat("x", 16), // exactly one block: a whole block of padding follows
		strings.Repeat("é", 100),
	} {
		sealed, err := Seal(key, []byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		if got := phpDecrypt(t, key, sealed); string(got) != plain {
			t.Errorf("openssl decrypted %q, want %q", got, plain)
		}
		if got, err := Open(key, sealed); err != nil || string(got) != plain {
			t.Errorf("Open = %q, %v", got, err)
		}
	}
	a, _ := Seal(key, []byte("same"))
	b, _ := Seal(key, []byte("same"))
	if a == b || a[:36] == b[:36] {
		t.Error("two seals share salt and IV")
	}
}

func FuzzOpen(f *testing.F) {
	f.Add("some secret", specLinkingExample)
	f.Add("k", "")
	f.Add("k", "AAAAAAAAAAAA"+"AAAAAAAAAAAAAAAAAAAAAAAA"+"AAAAAAAAAAAAAAAAAAAAAA==")
	f.Fuzz(func(t *testing.T, secret, envelope string) {
		plain, err := Open(secret, envelope)
		if err != nil {
			return
		}
		// Whatever opens must seal and open again to the same bytes.
		again, err := Seal(secret, plain)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Open(secret, again)
		if err != nil || !bytes.Equal(back, plain) {
			t.Fatalf("round trip: %q %v", back, err)
		}
	})
}

func TestBackoffSchedule(t *testing.T) {
	b := DefaultBackoff
	b.Jitter = 0
	want := []string{"30s", "1m0s", "2m0s", "4m0s", "8m0s", "16m0s", "32m0s", "1h4m0s", "2h8m0s", "4h16m0s", "6h0m0s", "6h0m0s", "3h28m30s"}
	var total, last = 0 * b.Base, 0
	for i, w := range want {
		d, giveUp := b.Next(i + 1)
		if giveUp || d.String() != w {
			t.Errorf("after attempt %d: %v (give up %v), want %s", i+1, d, giveUp, w)
		}
		total += d
		last = i + 1
	}
	if total != b.GiveUpAfter {
		t.Errorf("schedule spans %v, want %v", total, b.GiveUpAfter)
	}
	if _, giveUp := b.Next(last + 1); !giveUp {
		t.Errorf("attempt %d should give up", last+1)
	}
	j := DefaultBackoff
	for _, r := range []float64{0, 0.5, 0.999} {
		j.Rand = func() float64 { return r }
		d, _ := j.Next(1)
		if d < 24e9 || d > 36e9 {
			t.Errorf("jitter %v: delay %v outside 30s ±20%%", r, d)
		}
	}
}
