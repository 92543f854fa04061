package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

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

// issueCodes words a status as a FHIR IssueType code.
var issueCodes = map[int]string{400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict",
	412: "conflict", 413: "too-costly", 415: "not-supported", 499: "transient"}

// fail renders err as an OperationOutcome: httpx.Classify decides the
// status; this face adds the issue code and the field each problem is
// about. Unknown errors are a logged 500 whose details stay in the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fhirError
	var ae *auth.AuthError
	var de *httpx.DecodeError
	switch {
	case errors.As(err, &fe):
		var expr []string
		if fe.expr != "" {
			expr = []string{fe.expr}
		}
		writeOutcome(w, fe.status, "error", fe.code, fe.msg, expr...)
		return
	case errors.As(err, &ae):
		writeOutcome(w, ae.Status, "error", issueCodes[ae.Status], ae.Msg)
		return
	case errors.Is(err, store.ErrPreconditionFailed):
		writeOutcome(w, http.StatusPreconditionFailed, "error", "conflict", err.Error())
		return
	}
	p := httpx.Classify(err)
	if len(p.Fields) > 0 {
		keys := make([]string, 0, len(p.Fields))
		for k := range p.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		oo := OperationOutcome{ResourceType: "OperationOutcome"}
		for _, k := range keys {
			oo.Issue = append(oo.Issue, Issue{Severity: "error", Code: "invalid", Diagnostics: k + ": " + p.Fields[k], Expression: []string{k}})
		}
		writeResource(w, p.Status, oo)
		return
	}
	code, msg := issueCodes[p.Status], p.Msg
	if errors.As(err, &de) {
		code = "structure"
	}
	switch {
	case p.Status >= 500:
		h.log.Error("fhir api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeOutcome(w, p.Status, "fatal", "exception", "internal server error")
		return
	case msg == "":
		msg = strings.ToLower(http.StatusText(p.Status))
	}
	if code == "" {
		code = "processing"
	}
	writeOutcome(w, p.Status, "error", code, msg)
}

// writeResource writes a FHIR JSON body.
func writeResource(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if a, ok := v.(jsonAppender); ok {
		bp := getBuf()
		defer putBuf(bp)
		b, err = appendResource(*bp, a)
		b = append(b, '\n')
		*bp = b
	} else {
		b, err = httpx.Marshal(v)
	}
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(encodeFailure)
	}
	w.Header()["Content-Type"] = []string{contentType}
	w.WriteHeader(status)
	w.Write(b)
}

const contentType = "application/fhir+json; charset=utf-8"

// encodeFailure answers a resource that could not be encoded.
const encodeFailure = `{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception","diagnostics":"internal server error"}]}` + "\n"
