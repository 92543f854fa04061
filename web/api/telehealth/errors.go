package telehealth

import (
	"context"
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
var errUnauthorized = errors.New("unauthorized")

// statusError is an error with its own status and client-safe message
// (a 501 for a feature the appliance does not have, ...).
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// badRequest is a 400 with msg.
func badRequest(format string, args ...any) error {
	return &statusError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// notFound is a 404 naming what was not found.
func notFound(what string) error {
	return &statusError{http.StatusNotFound, what + " not found"}
}

// fail maps err to the face's error shape: the one mapper of this face.
// Validation → 400 "Bad parameters [field: message.]", not found → 404,
// conflict → 409, forbidden → 403, auth → 401, anything else a logged 500
// whose details stay in the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *statusError
	var ve *store.ValidationError
	var de *httpx.DecodeError
	var ce *store.ConflictError
	switch {
	case errors.As(err, &se):
		writeError(w, se.status, se.msg)
	case errors.As(err, &de):
		writeError(w, http.StatusBadRequest, de.Msg)
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, badParameters(ve))
	case errors.Is(err, errUnauthorized):
		writeError(w, http.StatusUnauthorized, "Invalid or missing Api-Key")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "Not found")
	case errors.As(err, &ce):
		writeError(w, http.StatusConflict, ce.Msg)
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "Conflict with existing data")
	case errors.Is(err, store.ErrForbidden):
		writeError(w, http.StatusForbidden, "Forbidden")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads this answer.
		writeError(w, 499, "Client closed request")
	default:
		h.log.Error("telehealth api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "Internal server error")
	}
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
