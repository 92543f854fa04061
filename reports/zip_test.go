package reports

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/pbkdf2"
)

// readAESZip is an independent reader of a one-or-more-entry WinZip AES
// archive, written from the AE-2 description (not sharing code with the
// writer): it walks the central directory, checks the password verifier,
// the HMAC and the sizes, decrypts and inflates.
func readAESZip(t testing.TB, data []byte, password string) (map[string]string, error) {
	t.Helper()
	le := binary.LittleEndian
	if len(data) < 22 {
		return nil, errors.New("too short")
	}
	eocd := data[len(data)-22:]
	if le.Uint32(eocd) != 0x06054b50 {
		return nil, errors.New("no end of central directory")
	}
	n := int(le.Uint16(eocd[10:]))
	cdOff := int(le.Uint32(eocd[16:]))
	out := map[string]string{}
	p := cdOff
	for i := 0; i < n; i++ {
		if le.Uint32(data[p:]) != 0x02014b50 {
			return nil, errors.New("bad central header")
		}
		method := le.Uint16(data[p+10:])
		compSize := int(le.Uint32(data[p+20:]))
		size := int(le.Uint32(data[p+24:]))
		nameLen, extraLen, commentLen := int(le.Uint16(data[p+28:])), int(le.Uint16(data[p+30:])), int(le.Uint16(data[p+32:]))
		localOff := int(le.Uint32(data[p+42:]))
		name := string(data[p+46 : p+46+nameLen])
		extra := data[p+46+nameLen : p+46+nameLen+extraLen]
		p += 46 + nameLen + extraLen + commentLen
		if method != 99 {
			return nil, fmt.Errorf("%s: method %d, want 99 (AES)", name, method)
		}
		if le.Uint16(extra) != 0x9901 || le.Uint16(extra[4:]) != 2 || string(extra[6:8]) != "AE" || extra[8] != 3 {
			return nil, fmt.Errorf("%s: AES extra field is not AE-2/AES-256: %x", name, extra)
		}
		realMethod := le.Uint16(extra[9:])
		// local header
		lh := data[localOff:]
		if le.Uint32(lh) != 0x04034b50 || le.Uint16(lh[6:])&1 != 1 {
			return nil, errors.New("bad local header")
		}
		start := localOff + 30 + int(le.Uint16(lh[26:])) + int(le.Uint16(lh[28:]))
		enc := data[start : start+compSize]
		salt, verifier := enc[:16], enc[16:18]
		body, auth := enc[18:len(enc)-10], enc[len(enc)-10:]
		keys := pbkdf2.Key([]byte(password), salt, 1000, 66, sha1.New)
		if !bytes.Equal(keys[64:], verifier) {
			return nil, errors.New("wrong password (verifier)")
		}
		mac := hmac.New(sha1.New, keys[32:64])
		mac.Write(body)
		if !bytes.Equal(mac.Sum(nil)[:10], auth) {
			return nil, errors.New("authentication code mismatch")
		}
		block, _ := aes.NewCipher(keys[:32])
		plain := make([]byte, len(body))
		for off := 0; off < len(body); off += 16 {
			ctr := make([]byte, 16)
			binary.LittleEndian.PutUint64(ctr, uint64(off/16+1))
			ks := make([]byte, 16)
			block.Encrypt(ks, ctr)
			for k := 0; k < 16 && off+k < len(body); k++ {
				plain[off+k] = body[off+k] ^ ks[k]
			}
		}
		if realMethod == 8 {
			inflated, err := io.ReadAll(flate.NewReader(bytes.NewReader(plain)))
			if err != nil {
				return nil, fmt.Errorf("%s: inflate: %w", name, err)
			}
			plain = inflated
		}
		if len(plain) != size {
			return nil, fmt.Errorf("%s: size %d, header says %d", name, len(plain), size)
		}
		out[name] = string(plain)
	}
	return out, nil
}

func makeZip(t *testing.T, files map[string]string, password string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := NewZipWriter(&buf, time.Now())
	for _, name := range []string{"a.csv", "b.csv", "report.csv"} {
		content, ok := files[name]
		if !ok {
			continue
		}
		w, err := zw.Create(name, []byte(password))
		if err != nil {
			t.Fatal(err)
		}
		// Write in odd pieces so the CTR stream crosses block boundaries.
		for len(content) > 0 {
			k := min(7, len(content))
			if _, err := io.WriteString(w, content[:k]); err != nil {
				t.Fatal(err)
			}
			content = content[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestZipRoundTripIndependentReader(t *testing.T) {
	big := strings.Repeat("id,name,date\n1,Mike Shinoda,2024-08-15T15:52:01Z\n", 2000)
	files := map[string]string{"a.csv": "x", "b.csv": "", "report.csv": big}
	const pw = "IK5adv2N5V-gr£9v6"
	data := makeZip(t, files, pw)
	if bytes.Contains(data, []byte("Mike Shinoda")) {
		t.Fatal("plain text visible in the archive")
	}
	got, err := readAESZip(t, data, pw)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		if got[name] != want {
			t.Errorf("%s: got %d bytes, want %d", name, len(got[name]), len(want))
		}
	}
	if _, err := readAESZip(t, data, "wrong password"); err == nil {
		t.Error("wrong password accepted")
	}
	// A flipped bit in the encrypted data must fail authentication.
	bad := bytes.Clone(data)
	bad[30+len("a.csv")+11+20] ^= 1
	if _, err := readAESZip(t, bad, pw); err == nil || !strings.Contains(err.Error(), "authentication") {
		t.Errorf("tampered archive: err = %v, want authentication failure", err)
	}
}

// Test7zOpensArchive checks the archive with 7-Zip itself when it is
// installed (apt-get install p7zip-full).
func Test7zOpensArchive(t *testing.T) {
	sevenZip, err := exec.LookPath("7z")
	if err != nil {
		if os.Getenv("CLINICBOX_REQUIRE_TOOLS") != "" {
			t.Fatal("7z not installed; .ci/run installs it")
		}
		t.Skip("7z not installed")
	}
	content := "appointmentId,firstName\n1,Mike\n2,Zoë\n"
	for _, pw := range []string{"secret", "IK5adv2N5V-gr£9v6"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "r.zip")
		if err := os.WriteFile(path, makeZip(t, map[string]string{"report.csv": content}, pw), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sevenZip, "x", "-p"+pw, "-o"+filepath.Join(dir, "out"), path).CombinedOutput()
		if err != nil {
			t.Fatalf("7z x (password %q): %v\n%s", pw, err, out)
		}
		got, err := os.ReadFile(filepath.Join(dir, "out", "report.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("7z extracted %q, want %q", got, content)
		}
		out, err = exec.Command(sevenZip, "t", "-pnot-it", path).CombinedOutput()
		if err == nil {
			t.Errorf("7z accepted a wrong password:\n%s", out)
		}
		out, err = exec.Command(sevenZip, "l", "-slt", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "AES-256") {
			t.Errorf("7z l does not show AES-256 (err %v):\n%s", err, out)
		}
	}
}
