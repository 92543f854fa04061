package httpx

import (
	"errors"
	"log/slog"
	"net/http"
)

// The OAuth2 faces (key-value, reports, events) document one error shape,
// so it is written here once:
//
//	{"error":{"status":404,"code":"not_found","message":"no such key","fields":{...}}}
//
// fields only where the face gives per-field messages. Each face keeps its
// own wording of a classified error (APIErrors.Word): the codes and
// messages are part of each API's documentation.

// apiErrorBody is that shape.
type apiErrorBody struct {
	Error apiErrorDetail `json:"error"`
}

type apiErrorDetail struct {
	Status  int               `json:"status"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// WriteAPIError answers status in the OAuth2 faces' error shape.
func WriteAPIError(w http.ResponseWriter, status int, code, msg string, fields map[string]string) {
	JSON(w, status, apiErrorBody{apiErrorDetail{status, code, msg, fields}})
}

// CodedError is an error that names its own status and code, kept as it
// is by APIErrors: the bearer-token refusals (auth.AuthError, 401
// invalid_token and 403 insufficient_scope), worded alike by every face.
type CodedError interface {
	error
	Coded() (status int, code string)
}

// APIErrors renders a face's errors in the OAuth2 faces' shape.
type APIErrors struct {
	Log  *slog.Logger
	Name string // the face in the log ("kv api")
	// Word gives the code, message and fields that the face answers for a
	// classified error. A 5xx reaches it logged, with the message
	// "internal server error" (the cause is never shown).
	Word func(p Problem) (code, msg string, fields map[string]string)
}

// Fail renders err: a CodedError as it says, anything else by Classify's
// status in the face's words.
func (a APIErrors) Fail(w http.ResponseWriter, r *http.Request, err error) {
	var ce CodedError
	if errors.As(err, &ce) {
		status, code := ce.Coded()
		WriteAPIError(w, status, code, ce.Error(), nil)
		return
	}
	p := Classify(err)
	if p.Status >= 500 {
		a.Log.Error(a.Name, "method", r.Method, "path", r.URL.Path, "err", err)
		p.Msg = "internal server error"
	}
	code, msg, fields := a.Word(p)
	WriteAPIError(w, p.Status, code, msg, fields)
}
