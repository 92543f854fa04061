package instrument

import (
	"errors"
	"net/http"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// errorBody is this face's error shape (the spec documents none):
// {"error":{"message":"...","fields":{"results[0].code":"is required"}}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg string, fields map[string]string) {
	httpx.JSON(w, status, errorBody{Error: errorDetail{Message: msg, Fields: fields}})
}

// statusError is an error with its own status and client-safe message.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func errStatus(status int, msg string) error { return &statusError{status, msg} }

// errUnauthorized is a missing, unknown, expired or revoked access token.
var errUnauthorized = errStatus(http.StatusUnauthorized, "missing, invalid or expired access token: get one from POST /api/v1/integrationAuth and send it as the Authorization header")

// fail is the face's one error mapper; unknown errors are a logged 500
// whose details stay in the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *statusError
	var ve *store.ValidationError
	var de *httpx.DecodeError
	switch {
	case errors.As(err, &se):
		writeError(w, se.status, se.msg, nil)
	case errors.As(err, &de):
		status := http.StatusBadRequest
		if strings.HasPrefix(de.Msg, "request body is larger than") {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, de.Msg, nil)
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, ve.Error(), ve.Fields)
	case errors.Is(err, store.ErrBadClientCredentials):
		writeError(w, http.StatusUnauthorized, "invalid clientID or clientSecret", nil)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found", nil)
	default:
		h.log.Error("instrument api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal server error", nil)
	}
}
