package telehealth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// opensslLinkingArg builds an argument the way the spec's recipe does, with
// the real openssl: `openssl enc -aes-256-cbc -k SECRET -P -md sha256`
// prints a random salt (and an IV); the key is SHA-256(secret + salt); the
// JSON is encrypted with `openssl enc -aes-256-cbc -K key -iv iv`.
func opensslLinkingArg(t *testing.T, secret, plain string) string {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CLINICBOX_REQUIRE_TOOLS") != "" {
			t.Fatal("openssl not installed; .ci/run installs it")
		}
		t.Skip("openssl not installed")
	}
	out, err := exec.Command(openssl, "enc", "-aes-256-cbc", "-k", secret, "-P", "-md", "sha256").Output()
	if err != nil {
		t.Fatalf("openssl -P: %v", err)
	}
	vals := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	salt, err1 := hex.DecodeString(vals["salt"])
	iv, err2 := hex.DecodeString(vals["iv"])
	if err1 != nil || err2 != nil || len(salt) != 8 || len(iv) != 16 {
		t.Fatalf("openssl -P printed %q", out)
	}
	key := sha256.Sum256(append([]byte(secret), salt...))
	// With -md sha256, openssl's own key for -k is this same SHA-256.
	if !strings.EqualFold(vals["key"], hex.EncodeToString(key[:])) {
		t.Errorf("openssl key %s != sha256(secret+salt) %x", vals["key"], key)
	}
	cmd := exec.Command(openssl, "enc", "-aes-256-cbc", "-K", hex.EncodeToString(key[:]), "-iv", hex.EncodeToString(iv), "-base64", "-A")
	cmd.Stdin = strings.NewReader(plain)
	ct, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl enc: %v", err)
	}
	b64 := base64.StdEncoding
	return url.QueryEscape(b64.EncodeToString(salt) + b64.EncodeToString(iv) + strings.TrimSpace(string(ct)))
}

// goLinkingArg is an independent Go implementation of the same recipe.
func goLinkingArg(secret, plain string, salt, iv []byte) string {
	if salt == nil {
		salt, iv = make([]byte, 8), make([]byte, 16)
		rand.Read(salt)
		rand.Read(iv)
	}
	key := sha256.Sum256(append([]byte(secret), salt...))
	block, _ := aes.NewCipher(key[:])
	pad := 16 - len(plain)%16
	buf := append([]byte(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	b64 := base64.StdEncoding
	return url.QueryEscape(b64.EncodeToString(salt) + b64.EncodeToString(iv) + b64.EncodeToString(buf))
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestLinking(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	e.createPatient("A", "ext-1")
	said := e.createAppointment("A", "ext-1", `{"waitingRoom": "my waiting room", "date": 1505053800}`)
	appt, err := e.st.Appointment(ctx, e.orgA.ID, said)
	if err != nil {
		t.Fatal(err)
	}
	orgA, _ := e.st.Org(ctx, e.orgA.ID)
	orgB, _ := e.st.Org(ctx, e.orgB.ID)
	secret := orgA.LinkingSecret
	ctxJSON := func(typ, visit string) string {
		return fmt.Sprintf(`{"user":"dr.who","type":%q,"visit":%q,"date":1505053800,
			"patient":{"id":"ext-1","sex":"female","dob":"1990-01-02","firstName":"Ann","lastName":"Lee"}}`, typ, visit)
	}
	sv := fmt.Sprint(said)
	patientURL := "https://clinic.example/visit/" + appt.PatientToken
	providerURL := "https://clinic.example/visit/" + appt.ProviderToken

	cases := []struct {
		name     string
		arg      string // already URL-encoded; "" sends no arg
		status   int
		location string
		msg      string
	}{
		{"openssl recipe, provider", opensslLinkingArg(t, secret, ctxJSON("provider", sv)), 302, providerURL, ""},
		{"openssl recipe, patient", opensslLinkingArg(t, secret, ctxJSON("patient", sv)), 302, patientURL, ""},
		{"go recipe, medical assistant", goLinkingArg(secret, ctxJSON("medicalAssistant", sv), nil, nil), 302, providerURL, ""},
		// A literal "+" in a query means a space: the handler repairs it.
		{"not URL-encoded (+ became space)", strings.ReplaceAll(goLinkingArg(secret, ctxJSON("patient", sv),
			[]byte{0xfb, 0xff, 1, 2, 3, 4, 5, 6}, bytes.Repeat([]byte{0xfb}, 16)), "%2B", "+"), 302, patientURL, ""},
		{"other organisation's secret", goLinkingArg(orgB.LinkingSecret, ctxJSON("provider", sv), nil, nil), 404, "", "Appointment not found"},
		{"wrong secret", goLinkingArg("not the secret", ctxJSON("provider", sv), nil, nil), 400, "",
			"Bad parameters [arg: This value cannot be decrypted with the linking secret.]"},
		{"no arg", "", 400, "", "Bad parameters [arg: This value should not be blank.]"},
		{"garbage arg", "hello", 400, "", "arg: This value is not a valid encrypted argument"},
		{"unknown visit", goLinkingArg(secret, ctxJSON("provider", "999999"), nil, nil), 404, "", "Appointment not found"},
		{"visit not an id", goLinkingArg(secret, ctxJSON("provider", "2e96ed0e"), nil, nil), 400, "",
			"Bad parameters [visit: This value should be the appointment id (SAID), a positive integer.]"},
		{"bad type", goLinkingArg(secret, ctxJSON("nurse", sv), nil, nil), 400, "",
			"Bad parameters [type: The value you selected is not a valid choice. Valid choices: patient, medicalAssistant, provider.]"},
		{"not JSON", goLinkingArg(secret, "visit=1", nil, nil), 400, "", "cannot be decrypted"},
		{"JSON array", goLinkingArg(secret, `[1]`, nil, nil), 400, "", "cannot be decrypted"},
		{"missing fields", goLinkingArg(secret, `{"visit":"12345","user":"1234"}`, nil, nil), 400, "",
			"Bad parameters [date: This value is required. patient: This value is required. type: This value is required.]"},
		{"wrong types", goLinkingArg(secret, `{"user":1,"type":"patient","visit":12,"date":"today","patient":[]}`, nil, nil), 400, "",
			"Bad parameters [date: This value should be of type number. patient: This value should be of type object. user: This value should be of type string. visit: This value should be of type string.]"},
		{"bad patient", goLinkingArg(secret, `{"user":"u","type":"patient","visit":"`+sv+`","date":1.5,
			"patient":{"id":"x","sex":"M","dob":"02/01/1990","firstName":"Ann"}}`, nil, nil), 400, "",
			"Bad parameters [patient.dob: This value is not a valid date. patient.lastName: This value is required. patient.sex: The value you selected is not a valid choice. Valid choices: male, female, other, unknown.]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/integrations/linking"
			if c.arg != "" {
				path += "?arg=" + c.arg
			}
			res, err := noRedirect.Get(e.srv.URL + path) // no Api-Key: the arg is the credential
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Error struct{ Message string } `json:"error"`
			}
			json.NewDecoder(res.Body).Decode(&body)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%q)", res.StatusCode, c.status, body.Error.Message)
			}
			if loc := res.Header.Get("Location"); loc != c.location {
				t.Errorf("Location = %q, want %q", loc, c.location)
			}
			if c.msg != "" && !strings.Contains(body.Error.Message, c.msg) {
				t.Errorf("message %q, want it to contain %q", body.Error.Message, c.msg)
			}
		})
	}

	// The spec's own example: with the secret "some secret" it decrypts to
	// {"visit":"12345","user":"1234"}, which the schema rejects (fields missing).
	if err := e.st.SetLinkingSecret(ctx, e.orgB.ID, "some secret"); err != nil {
		t.Fatal(err)
	}
	status, _, b := e.do("GET", "/integrations/linking?arg="+url.QueryEscape("BizXKL9L4EQ=YuhTK5qXNtOCmbuaHMq5tA==DUPdvDCZPiSUf0Jumt/Mr/wVWv+mr6Vzj5LnKUQtTPc="), "", "", nil)
	if status != 400 || !strings.Contains(string(b), "date: This value is required.") {
		t.Errorf("spec example: %d %s", status, b)
	}

	// Handing out the link is audited with the EHR user as actor.
	e.st.Close()
	st := reopen(t, e)
	entries, err := st.AuditLog(ctx, e.orgA.ID, storeAuditFilter())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range entries {
		found = found || (a.Entity == "visit-link" && a.Actor == "linking:dr.who" && a.PatientID == appt.PatientID)
	}
	if !found {
		t.Error("no audit entry for the linking redirect")
	}
}
