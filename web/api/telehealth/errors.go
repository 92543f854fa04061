package telehealth

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// errorBody is the spec's error shape: {"error":{"message":"..."}}.
type errorBody struct {
	Error errorMessage `json:"error"`
}

type errorMessage struct {
	Message string `json:"message"`
}

// writeError answers status with msg in the spec's error shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	httpx.JSON(w, status, errorBody{Error: errorMessage{Message: msg}})
}

// errUnauthorized is a missing, wrong or revoked Api-Key.
var errUnauthorized = httpx.Error(http.StatusUnauthorized, "Invalid or missing Api-Key")

// badRequest is a 400 with msg.
func badRequest(format string, args ...any) error {
	return httpx.Error(http.StatusBadRequest, fmt.Sprintf(format, args...))
}

// notFound is a 404 naming what was not found.
func notFound(what string) error {
	return httpx.Error(http.StatusNotFound, what+" not found")
}

// fail renders err (classified by httpx.Classify) in the spec's error
// shape: validation → 400 "Bad parameters [field: message.]", not found →
// 404, conflict → 409, forbidden → 403, a body over its limit → 413,
// anything else a logged 500 whose details stay in the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := httpx.Classify(err)
	msg := p.Msg
	switch {
	case p.Fields != nil:
		var ve *store.ValidationError
		errors.As(err, &ve)
		msg = badParameters(ve)
	case msg != "":
	case p.Status == http.StatusNotFound:
		msg = "Not found"
	case p.Status == http.StatusConflict:
		msg = "Conflict with existing data"
	case p.Status == http.StatusForbidden:
		msg = "Forbidden"
	case p.Status == httpx.StatusClientClosed:
		msg = "Client closed request"
	default:
		h.log.Error("telehealth api", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "Internal server error"
	}
	writeError(w, p.Status, msg)
}

// badParameters renders field errors the way the spec's example does:
// "Bad parameters [locationId: This is not a valid UUID.]".
func badParameters(ve *store.ValidationError) string {
	keys := make([]string, 0, len(ve.Fields))
	for k := range ve.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		msg := strings.TrimSuffix(ve.Fields[k], ".")
		parts[i] = k + ": " + msg + "."
	}
	return "Bad parameters [" + strings.Join(parts, " ") + "]"
}
