package httpx

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

type coded struct{}

func (coded) Error() string                    { return "the access token is unknown" }
func (coded) Coded() (status int, code string) { return 401, "invalid_token" }

// TestAPIErrors: the OAuth2 faces' shape, with a face's wording; a coded
// error keeps its own; a 5xx is logged and its cause never shown.
func TestAPIErrors(t *testing.T) {
	word := func(p Problem) (string, string, map[string]string) {
		return fmt.Sprintf("c%d", p.Status), "m:" + p.Msg, p.Fields
	}
	tests := []struct {
		name   string
		err    error
		status int
		body   string
		logged bool
	}{
		{"coded", fmt.Errorf("guard: %w", coded{}), 401, `{"error":{"status":401,"code":"invalid_token","message":"the access token is unknown"}}`, false},
		{"not found", store.ErrNotFound, 404, `{"error":{"status":404,"code":"c404","message":"m:"}}`, false},
		{"fields", &store.ValidationError{Fields: map[string]string{"key": "is required"}}, 400,
			`{"error":{"status":400,"code":"c400","message":"m:invalid key: is required","fields":{"key":"is required"}}}`, false},
		{"status error", Error(http.StatusTooManyRequests, "slow down"), 429, `{"error":{"status":429,"code":"c429","message":"m:slow down"}}`, false},
		{"unknown", errors.New("disk on fire"), 500, `{"error":{"status":500,"code":"c500","message":"m:internal server error"}}`, true},
		{"a 503's own text is hidden too", Error(http.StatusServiceUnavailable, "queue db locked"), 503,
			`{"error":{"status":503,"code":"c503","message":"m:internal server error"}}`, true},
	}
	for _, tt := range tests {
		var log bytes.Buffer
		a := APIErrors{Log: slog.New(slog.NewTextHandler(&log, nil)), Name: "test api", Word: word}
		rec := httptest.NewRecorder()
		a.Fail(rec, httptest.NewRequest("GET", "/api/x", nil), tt.err)
		if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.body {
			t.Errorf("%s: %d %s, want %d %s", tt.name, rec.Code, rec.Body, tt.status, tt.body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", tt.name, ct)
		}
		if got := strings.Contains(log.String(), "test api"); got != tt.logged {
			t.Errorf("%s: logged %v, want %v (%s)", tt.name, got, tt.logged, log.String())
		}
		if tt.logged && !strings.Contains(log.String(), tt.err.Error()) {
			t.Errorf("%s: the log lacks the cause: %s", tt.name, log.String())
		}
	}
}
