package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	// A real over-limit body, decoded as a face decodes it.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"a":"`+strings.Repeat("x", 100)+`"}`))
	r.Header.Set("Content-Type", "application/json")
	tooBig := DecodeJSON(w, r, &map[string]any{}, 10)
	wrapped := func(err error) error { return fmt.Errorf("create patient: %w", err) }
	for _, c := range []struct {
		name   string
		err    error
		status int
		msg    string
		fields bool
	}{
		{"status error", Error(http.StatusNotImplemented, "not here"), 501, "not here", false},
		{"body over the limit", tooBig, 413, "request body is larger than 10 bytes", false},
		{"max bytes wrapped", wrapped(&http.MaxBytesError{Limit: 5}), 413, "request body is larger than 5 bytes", false},
		{"bad json", &DecodeError{Msg: "request body is not valid JSON"}, 400, "request body is not valid JSON", false},
		{"validation", wrapped(store.Invalid("mrn", "is required")), 400, "invalid mrn: is required", true},
		{"not found", wrapped(store.ErrNotFound), 404, "", false},
		{"conflict", wrapped(store.ErrConflict), 409, "", false},
		{"conflict with message", wrapped(store.Conflict("taken")), 409, "taken", false},
		{"forbidden", wrapped(store.ErrForbidden), 403, "", false},
		{"client went away", wrapped(context.Canceled), StatusClientClosed, "", false},
		// A message that merely looks like a limit is not one.
		{"lookalike text", errors.New("request body is larger than 10 bytes"), 500, "", false},
		{"unknown", errors.New("disk on fire"), 500, "", false},
	} {
		p := Classify(c.err)
		if p.Status != c.status || p.Msg != c.msg || (p.Fields != nil) != c.fields {
			t.Errorf("%s: got %d %q fields=%v, want %d %q fields=%v", c.name, p.Status, p.Msg, p.Fields, c.status, c.msg, c.fields)
		}
	}
}

func TestRegisterGuards(t *testing.T) {
	t.Parallel()
	deny := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	}
	ok := func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }
	mux := http.NewServeMux()
	routes := []Route{
		{Method: "GET", Pattern: "/open", Handler: ok},
		{Method: "GET", Pattern: "/closed", Guard: deny, Handler: ok},
	}
	Register(mux, routes)
	for path, want := range map[string]int{"/open": 200, "/closed": 401} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != want {
			t.Errorf("%s: %d, want %d", path, w.Code, want)
		}
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("POST", "/open", bytes.NewReader(nil)))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /open: %d", w.Code)
	}
	if routes[1].Key() != "GET /closed" || (Route{Pattern: "/"}).Key() != "/" {
		t.Error("Key")
	}
}
