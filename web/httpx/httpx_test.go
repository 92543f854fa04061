package httpx

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name     string `json:"name"`
		Duration int    `json:"duration"`
	}
	cases := []struct {
		name, in   string
		limit      int64
		ctype      string // default application/json
		wantErr    string // "" = decodes
		wantStatus int
	}{
		{"ok", `{"name":"a","duration":900}`, 0, "", "", 0},
		{"charset parameter", `{"name":"a"}`, 0, "application/json; charset=utf-8", "", 0},
		{"JSON-based type", `{"name":"a"}`, 0, "application/fhir+json", "", 0},
		{"unknown fields are allowed", `{"name":"a","extra":true}`, 0, "", "", 0},
		{"empty", ``, 0, "", "request body is empty", 400},
		{"syntax", `{"name":}`, 0, "", "not valid JSON (at byte", 400},
		{"truncated", `{"name":"a"`, 0, "", "ends too early", 400},
		{"wrong field type", `{"duration":"long"}`, 0, "", "field duration must be an integer", 400},
		{"wrong top-level type", `[1,2]`, 0, "", "request body must be an object", 400},
		{"two values", `{"name":"a"} {"name":"b"}`, 0, "", "single JSON value", 400},
		// Found by the attack suite (web/attack, "trailing garbage"): a
		// closing bracket after the value was accepted and the write stored.
		{"stray closing brace", `{"name":"a"}}x`, 0, "", "single JSON value", 400},
		{"stray closing bracket", `{"name":"a"}]`, 0, "", "single JSON value", 400},
		{"trailing white space", "{\"name\":\"a\"} \r\n\t", 0, "", "", 0},
		{"too large", `{"name":"` + strings.Repeat("x", 100) + `"}`, 50, "", "larger than 50 bytes", 413},
		{"no content type", `{"name":"a"}`, 0, "-", "Content-Type must be application/json", 415},
		{"form content type", `{"name":"a"}`, 0, "application/x-www-form-urlencoded", "Content-Type must be application/json", 415},
		{"text content type", `{"name":"a"}`, 0, "text/plain", "Content-Type must be application/json", 415},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.in))
			switch c.ctype {
			case "":
				r.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				r.Header.Set("Content-Type", c.ctype)
			}
			var b body
			err := DecodeJSON(httptest.NewRecorder(), r, &b, c.limit)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v (%T), want one containing %q", err, err, c.wantErr)
			}
			if got := Classify(err).Status; got != c.wantStatus {
				t.Errorf("status %d, want %d", got, c.wantStatus)
			}
		})
	}
}

func TestRedactPath(t *testing.T) {
	for in, want := range map[string]string{
		"/visit/secret-token":  "/visit/…",
		"/qapi/v1/patients/42": "/qapi/v1/patients/42",
	} {
		if got := redactPath(in); got != want {
			t.Errorf("redactPath(%q) = %q, want %q", in, got, want)
		}
	}
}
