package envelopetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"
)

// PHPDecrypt follows the spec's PHP snippet step by step with openssl as
// the cipher: substr(0,12), substr(12,24), substr(36); key =
// hash('SHA256', $decryptionKey . $salt, true); AES-256-CBC, PKCS#7.
func PHPDecrypt(t testing.TB, decryptionKey, encrypted string) []byte {
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
