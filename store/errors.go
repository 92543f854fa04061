package store

import (
	"errors"
	"sort"
	"strings"
)

var (
	// ErrNotFound: no such row in the caller's organisation.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change clashes with existing data (a duplicate id, ...).
	ErrConflict = errors.New("conflict")
	// ErrForbidden: the caller may not do this.
	ErrForbidden = errors.New("forbidden")
)

// ValidationError carries one message per invalid field. Faces show them
// next to the field or fold them into their own error shape.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "invalid " + strings.Join(parts, "; ")
}

// Validator collects field errors; Err returns nil when there are none.
type Validator struct{ fields map[string]string }

// Add records msg for field unless the field already has a message.
func (v *Validator) Add(field, msg string) {
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, ok := v.fields[field]; !ok {
		v.fields[field] = msg
	}
}

// Check adds msg for field when ok is false.
func (v *Validator) Check(ok bool, field, msg string) {
	if !ok {
		v.Add(field, msg)
	}
}

// Err is the collected *ValidationError, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}

// Invalid is a one-field ValidationError.
func Invalid(field, msg string) error {
	return &ValidationError{Fields: map[string]string{field: msg}}
}

// ConflictError explains a conflict; errors.Is(err, ErrConflict) holds.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string        { return e.Msg }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Conflict returns an ErrConflict with a message for the client.
func Conflict(msg string) error { return &ConflictError{Msg: msg} }
