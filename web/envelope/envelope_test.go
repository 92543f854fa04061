package envelope

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/web/envelope/envelopetest"
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

func TestSealDecryptsWithSpecRecipe(t *testing.T) {
	const key = "39VNjjSpgoUWMbUhVCjAoQ=="
	for _, plain := range []string{
		`{"event":"patient:created","data":{"patientId":12}}`,
		"",
		strings.Repeat("x", 16), // exactly one block: a whole block of padding follows
		strings.Repeat("é", 100),
	} {
		sealed, err := Seal(key, []byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		if got := envelopetest.PHPDecrypt(t, key, sealed); string(got) != plain {
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
