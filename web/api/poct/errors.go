package poct

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

// errorBody is this face's error shape:
// {"error":{"code":"invalid","message":"...","fields":{"value":"is required"}}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	httpx.JSON(w, status, errorBody{errorDetail{Code: code, Message: msg}})
}

// statusCode is the error code of a status raised by shared code.
func statusCode(status int) string {
	switch status {
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	}
	if status >= 500 {
		return "internal"
	}
	return "invalid"
}

// apiError is an error with its own status, code and message.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, "invalid", fmt.Sprintf(format, args...)}
}

// fail maps err to the error shape: the one mapper of this face.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var ve *store.ValidationError
	var de *httpx.DecodeError
	var ce *store.ConflictError
	var se *httpx.StatusError
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.status, ae.code, ae.msg)
	case errors.As(err, &se):
		// Raised by shared code: 415 for a body that is not JSON, 503
		// when too many large uploads run at once.
		writeError(w, se.Status, statusCode(se.Status), se.Msg)
	case errors.As(err, &de):
		status, code := httpx.Classify(err).Status, "invalid_body"
		if status == http.StatusRequestEntityTooLarge {
			code = "too_large"
		}
		writeError(w, status, code, de.Msg)
	case errors.As(err, &ve):
		keys := make([]string, 0, len(ve.Fields))
		for k := range ve.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " " + ve.Fields[k]
		}
		httpx.JSON(w, http.StatusUnprocessableEntity, errorBody{errorDetail{Code: "invalid",
			Message: strings.Join(parts, "; "), Fields: ve.Fields}})
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found")
	case errors.As(err, &ce):
		writeError(w, http.StatusConflict, "conflict", ce.Msg)
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", "conflicts with existing data")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		writeError(w, 499, "cancelled", "client closed request")
	default:
		h.log.Error("poct api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal server error")
	}
}
