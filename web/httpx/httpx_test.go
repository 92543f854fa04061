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
		name, in string
		limit    int64
		wantErr  string // "" = decodes
	}{
		{"ok", `{"name":"a","duration":900}`, 0, ""},
		{"unknown fields are allowed", `{"name":"a","extra":true}`, 0, ""},
		{"empty", ``, 0, "request body is empty"},
		{"syntax", `{"name":}`, 0, "not valid JSON (at byte"},
		{"truncated", `{"name":"a"`, 0, "ends too early"},
		{"wrong field type", `{"duration":"long"}`, 0, "field duration must be an integer"},
		{"wrong top-level type", `[1,2]`, 0, "request body must be an object"},
		{"two values", `{"name":"a"} {"name":"b"}`, 0, "single JSON value"},
		{"too large", `{"name":"` + strings.Repeat("x", 100) + `"}`, 50, "larger than 50 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.in))
			var b body
			err := DecodeJSON(httptest.NewRecorder(), r, &b, c.limit)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if _, ok := err.(*DecodeError); !ok || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v (%T), want a DecodeError containing %q", err, err, c.wantErr)
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
