package httpx

import (
	"context"
	"errors"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
)

// StatusError is an error a face raises with its own status and a message
// safe for the client (a 501 for a feature the appliance lacks, a 401...).
type StatusError struct {
	Status int
	Msg    string
}

func (e *StatusError) Error() string { return e.Msg }

// Error returns a *StatusError.
func Error(status int, msg string) error { return &StatusError{Status: status, Msg: msg} }

// StatusClientClosed is the status of a request whose client went away
// before the answer (nginx's 499); nobody reads it, but logs do.
const StatusClientClosed = 499

// Problem is an error classified for the client: the status, and what a
// face may show. Each face renders it in its own documented shape.
type Problem struct {
	Status int
	// Msg is a message safe for the client: that of a StatusError,
	// DecodeError, ConflictError or ValidationError. It is empty for the
	// store's bare sentinels (the face words those itself) and for a 500.
	Msg string
	// Fields are the per-field messages of a ValidationError.
	Fields map[string]string
}

// Classify is the one place where an error becomes an HTTP status:
//
//	*StatusError                            its status
//	*DecodeError with a *http.MaxBytesError 413 Content Too Large
//	*DecodeError                            400
//	*store.ValidationError                  400, with its fields
//	store.ErrNotFound                       404
//	store.ErrConflict (and *ConflictError)  409
//	store.ErrForbidden                      403
//	context.Canceled                        499 (the client went away)
//	anything else                           500: the face logs it
//
// The status is decided by type, never by an error's text.
func Classify(err error) Problem {
	var se *StatusError
	var de *DecodeError
	var ve *store.ValidationError
	var ce *store.ConflictError
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return Problem{Status: http.StatusOK}
	case errors.As(err, &se):
		return Problem{Status: se.Status, Msg: se.Msg}
	case errors.As(err, &tooBig):
		msg := TooLarge(tooBig).Msg
		if errors.As(err, &de) {
			msg = de.Msg
		}
		return Problem{Status: http.StatusRequestEntityTooLarge, Msg: msg}
	case errors.As(err, &de):
		return Problem{Status: http.StatusBadRequest, Msg: de.Msg}
	case errors.As(err, &ve):
		return Problem{Status: http.StatusBadRequest, Msg: ve.Error(), Fields: ve.Fields}
	case errors.As(err, &ce):
		return Problem{Status: http.StatusConflict, Msg: ce.Msg}
	case errors.Is(err, store.ErrNotFound):
		return Problem{Status: http.StatusNotFound}
	case errors.Is(err, store.ErrConflict):
		return Problem{Status: http.StatusConflict}
	case errors.Is(err, store.ErrForbidden):
		return Problem{Status: http.StatusForbidden}
	case errors.Is(err, context.Canceled):
		return Problem{Status: StatusClientClosed}
	}
	return Problem{Status: http.StatusInternalServerError}
}
