package fhir

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// OperationOutcome is every error this face answers, as the eHealth
// infrastructure does it: the HTTP status, and an issue with a severity, a
// code from the FHIR IssueType value set and a human diagnostic.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// Issue is one problem.
type Issue struct {
	Severity    string   `json:"severity"` // fatal, error, warning, information
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// fhirError is an error with its status, issue code and client-safe text.
type fhirError struct {
	status int
	code   string
	msg    string
	expr   string
}

func (e *fhirError) Error() string { return e.msg }

func errorf(status int, code, format string, args ...any) error {
	return &fhirError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// invalidParam is a 400 about one search parameter.
func invalidParam(name, format string, args ...any) error {
	return &fhirError{status: http.StatusBadRequest, code: "invalid", msg: name + ": " + fmt.Sprintf(format, args...), expr: name}
}

func notFound(typ, id string) error {
	return errorf(http.StatusNotFound, "not-found", "%s/%s is not known", typ, id)
}

// writeOutcome answers status with one issue.
func writeOutcome(w http.ResponseWriter, status int, severity, code, msg string, expr ...string) {
	writeResource(w, status, OperationOutcome{ResourceType: "OperationOutcome",
		Issue: []Issue{{Severity: severity, Code: code, Diagnostics: msg, Expression: expr}}})
}

// fail maps err to an OperationOutcome: the one error mapper of this face.
// Unknown errors are a logged 500 whose details stay in the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fhirError
	var ae *auth.AuthError
	var ve *store.ValidationError
	var de *httpx.DecodeError
	var ce *store.ConflictError
	switch {
	case errors.As(err, &fe):
		var expr []string
		if fe.expr != "" {
			expr = []string{fe.expr}
		}
		writeOutcome(w, fe.status, "error", fe.code, fe.msg, expr...)
	case errors.As(err, &ae):
		code := "login"
		if ae.Status == http.StatusForbidden {
			code = "forbidden"
		}
		writeOutcome(w, ae.Status, "error", code, ae.Msg)
	case errors.As(err, &de):
		writeOutcome(w, http.StatusBadRequest, "error", "structure", de.Msg)
	case errors.As(err, &ve):
		keys := make([]string, 0, len(ve.Fields))
		for k := range ve.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		oo := OperationOutcome{ResourceType: "OperationOutcome"}
		for _, k := range keys {
			oo.Issue = append(oo.Issue, Issue{Severity: "error", Code: "invalid", Diagnostics: k + ": " + ve.Fields[k], Expression: []string{k}})
		}
		writeResource(w, http.StatusBadRequest, oo)
	case errors.Is(err, store.ErrNotFound):
		writeOutcome(w, http.StatusNotFound, "error", "not-found", "not found")
	case errors.Is(err, store.ErrPreconditionFailed):
		writeOutcome(w, http.StatusPreconditionFailed, "error", "conflict", err.Error())
	case errors.As(err, &ce):
		writeOutcome(w, http.StatusConflict, "error", "conflict", ce.Msg)
	case errors.Is(err, store.ErrConflict):
		writeOutcome(w, http.StatusConflict, "error", "conflict", "conflict with existing data")
	case errors.Is(err, store.ErrForbidden):
		writeOutcome(w, http.StatusForbidden, "error", "forbidden", "forbidden")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		writeOutcome(w, 499, "error", "transient", "client closed request")
	default:
		h.log.Error("fhir api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeOutcome(w, http.StatusInternalServerError, "fatal", "exception", "internal server error")
	}
}

// writeResource writes a FHIR JSON body.
func writeResource(w http.ResponseWriter, status int, v any) {
	b, err := httpx.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception","diagnostics":"internal server error"}]}` + "\n")
	}
	w.Header()["Content-Type"] = []string{contentType}
	w.WriteHeader(status)
	w.Write(b)
}

const contentType = "application/fhir+json; charset=utf-8"
