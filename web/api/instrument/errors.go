package instrument

import (
	"errors"
	"net/http"

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

// errUnauthorized is a missing, unknown, expired or revoked access token.
var errUnauthorized = httpx.Error(http.StatusUnauthorized, "missing, invalid or expired access token: get one from POST /api/v1/integrationAuth and send it as the Authorization header")

// fail renders err (classified by httpx.Classify) in the face's error
// shape; unknown errors are a logged 500 whose details stay in the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrBadClientCredentials) {
		err = httpx.Error(http.StatusUnauthorized, "invalid clientID or clientSecret")
	}
	p := httpx.Classify(err)
	msg := p.Msg
	if msg == "" {
		switch p.Status {
		case http.StatusNotFound:
			msg = "not found"
		case http.StatusConflict:
			msg = "conflict with existing data"
		case http.StatusForbidden:
			msg = "forbidden"
		case httpx.StatusClientClosed:
			msg = "client closed request"
		default:
			h.log.Error("instrument api", "method", r.Method, "path", r.URL.Path, "err", err)
			msg = "internal server error"
		}
	}
	writeError(w, p.Status, msg, p.Fields)
}
