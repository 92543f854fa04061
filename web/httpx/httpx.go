package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// MaxJSONBody is the default limit for a JSON request body.
const MaxJSONBody = 1 << 20

// DecodeError is a body that could not be decoded; its message is safe to
// show to the client. Err is the cause when there is one (a
// *http.MaxBytesError for a body over the limit: Classify answers 413).
type DecodeError struct {
	Msg string
	Err error
}

func (e *DecodeError) Error() string { return e.Msg }

// Unwrap is the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// DecodeJSON reads one JSON value from the body into dst, refusing bodies
// over limit bytes (0 = MaxJSONBody) and trailing data. Unknown fields are
// allowed: documented clients send fields we do not use.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, limit int64) error {
	if limit <= 0 {
		limit = MaxJSONBody
	}
	if err := RequireJSON(r); err != nil {
		return err
	}
	if r.ContentLength > limit {
		return TooLarge(&http.MaxBytesError{Limit: limit})
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return decode(json.NewDecoder(r.Body), dst)
}

// DecodeBytes decodes one JSON value held in memory (a document SplitJSON
// kept) into dst, with DecodeJSON's errors.
func DecodeBytes(b []byte, dst any) error {
	return decode(json.NewDecoder(bytes.NewReader(b)), dst)
}

func decode(dec *json.Decoder, dst any) error {
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return &DecodeError{Msg: "request body is empty; expected a JSON object"}
		case errors.As(err, &syn):
			return &DecodeError{Msg: fmt.Sprintf("request body is not valid JSON (at byte %d)", syn.Offset)}
		case errors.As(err, &typ):
			field := typ.Field
			if field == "" {
				return &DecodeError{Msg: fmt.Sprintf("request body must be %s", jsonKind(typ.Type.Kind().String()))}
			}
			return &DecodeError{Msg: fmt.Sprintf("field %s must be %s", field, jsonKind(typ.Type.Kind().String()))}
		case errors.As(err, &tooBig):
			return TooLarge(tooBig)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return &DecodeError{Msg: "request body is not valid JSON (it ends too early)"}
		default:
			return &DecodeError{Msg: "request body is not valid JSON: " + err.Error()}
		}
	}
	// Anything but white space after the value is refused: dec.More alone
	// lets `{...}}x` through, since it reports false before a '}' or ']'.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &DecodeError{Msg: "request body must hold a single JSON value"}
	}
	return nil
}

// TooLarge is the DecodeError for a body that went past its limit: 413.
func TooLarge(e *http.MaxBytesError) *DecodeError {
	return &DecodeError{Msg: fmt.Sprintf("request body is larger than %d bytes", e.Limit), Err: e}
}

// IsJSON reports whether the request declares a JSON body:
// application/json, or a JSON-based type (application/fhir+json, ...).
func IsJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// RequireJSON is the 415 for a body that does not say it is JSON: every
// spec's examples send Content-Type: application/json.
func RequireJSON(r *http.Request) error {
	if IsJSON(r) {
		return nil
	}
	return Error(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "of another type"
}

// JSON writes v as a JSON response with the given status.
func JSON(w http.ResponseWriter, status int, v any) {
	b, err := Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	WriteJSON(w, status, b)
}

// Marshal encodes v as JSON answers are sent: with a final newline.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteJSON writes an answer already encoded by Marshal.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	w.Write(body)
}

// ClientIP is the address of the client (the direct peer; the appliance is
// not meant to sit behind an untrusted proxy chain).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// IsFragment reports whether the request asks for a page fragment (live
// updates) rather than a whole page.
func IsFragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" || r.URL.Query().Get("fragment") == "1"
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Log logs each request (never its body, headers or query: they can carry
// secrets and patient data) and recovers from panics as a 500.
func Log(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", p)
				if sw.status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			if strings.HasPrefix(r.URL.Path, "/assets/") || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
				return
			}
			log.Info("http", "method", r.Method, "path", redactPath(r.URL.Path), "status", sw.status,
				"bytes", sw.bytes, "ms", time.Since(start).Milliseconds(), "ip", ClientIP(r))
		}()
		next.ServeHTTP(sw, r)
	})
}

// redactPath hides visit-link tokens, which are credentials.
func redactPath(p string) string {
	if strings.HasPrefix(p, "/visit/") {
		return "/visit/…"
	}
	return p
}
