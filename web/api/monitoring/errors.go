package monitoring

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/clinicbox/clinicbox/web/httpx"
)

// errorBody is the face's error shape: {"error":{"code","message"}}, with
// per-field messages for invalid input.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Error codes. Each goes with one status.
const (
	codeBadRequest     = "bad_request"             // 400
	codeValidation     = "validation_failed"       // 400, with fields
	codeMissingOrg     = "missing_organization"    // 400
	codeUnauthorized   = "unauthorized"            // 401
	codeTokenExpired   = "token_expired"           // 401
	codeBadCredentials = "invalid_credentials"     // 401
	codeBadMFA         = "invalid_mfa_code"        // 401
	codeTokenReused    = "refresh_token_reused"    // 401
	codeForbidden      = "forbidden"               // 403
	codeOrgForbidden   = "organization_forbidden"  // 403
	codeMFAEnrol       = "mfa_enrollment_required" // 403
	codeNotFound       = "not_found"               // 404
	codeConflict       = "conflict"                // 409
	codeTooLarge       = "payload_too_large"       // 413
	codeMediaType      = "unsupported_media_type"  // 415
	codeRateLimited    = "rate_limited"            // 429
	codeLocked         = "account_locked"          // 429
	codeInternal       = "internal_error"          // 500
)

func writeError(w http.ResponseWriter, status int, code, msg string) {
	httpx.JSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

func badRequest(format string, args ...any) error {
	return httpx.Error(http.StatusBadRequest, fmt.Sprintf(format, args...))
}

func notFound(what string) error { return httpx.Error(http.StatusNotFound, what+" not found") }

// statusCodes are the error codes of the statuses httpx.Classify decides.
var statusCodes = map[int]string{
	http.StatusBadRequest: codeBadRequest, http.StatusUnauthorized: codeUnauthorized, http.StatusForbidden: codeForbidden,
	http.StatusNotFound: codeNotFound, http.StatusConflict: codeConflict, http.StatusRequestEntityTooLarge: codeTooLarge,
	http.StatusUnsupportedMediaType: codeMediaType,
	http.StatusTooManyRequests:      codeRateLimited, httpx.StatusClientClosed: "client_closed_request",
}

// fail answers err in the face's shape; httpx.Classify decides the status.
// Unknown errors are a logged 500 whose details stay in the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := httpx.Classify(err)
	code, ok := statusCodes[p.Status]
	if !ok || p.Status >= 500 {
		h.log.Error("monitoring api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, codeInternal, "internal server error")
		return
	}
	msg := p.Msg
	if p.Fields != nil {
		code = codeValidation
		msg = validationMessage(p.Fields)
	}
	if msg == "" {
		msg = map[int]string{http.StatusNotFound: "not found", http.StatusConflict: "conflicts with existing data",
			http.StatusForbidden: "forbidden"}[p.Status]
	}
	httpx.JSON(w, p.Status, errorBody{Error: errorDetail{Code: code, Message: msg, Fields: p.Fields}})
}

func validationMessage(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + fields[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}
