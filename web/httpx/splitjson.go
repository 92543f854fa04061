package httpx

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSONPath is the place of a value in a JSON document: object keys
// (string) and array indexes (int) from the root.
type JSONPath []any

// String is the path as error messages name fields: files[0].data.
func (p JSONPath) String() string {
	var b strings.Builder
	for _, e := range p {
		switch e := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", e)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e)
		}
	}
	return b.String()
}

// Is reports whether p has the given elements; "*" stands for any array
// index, and keys compare without case, as encoding/json matches fields.
func (p JSONPath) Is(elems ...string) bool {
	if len(p) != len(elems) {
		return false
	}
	for i, e := range p {
		switch e := e.(type) {
		case int:
			if elems[i] != "*" {
				return false
			}
		case string:
			if !strings.EqualFold(e, elems[i]) {
				return false
			}
		}
	}
	return true
}

// StreamError is a failure of the writer a streamed string went to (a file
// over its limit, bad base64), with the string's path.
type StreamError struct {
	Path string
	Err  error
}

func (e *StreamError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap is the writer's error.
func (e *StreamError) Unwrap() error { return e.Err }

// maxJSONDepth bounds the nesting of a split document.
const maxJSONDepth = 64

// SplitJSON reads one JSON value from r (which should be Content-Type
// checked and size limited, see Stream) and keeps it in memory, except the
// string values at the paths stream picks: their content, escapes resolved,
// is written to the writer open returns as it is read, in blocks, and never
// held whole; the kept document holds the stream's number (0, 1, ...) in
// place of the string. A value other than a string or null at a picked path
// is refused. The kept document is bounded by keep bytes (413 beyond), and
// is then decoded as usual (DecodeBytes).
//
// This is how a JSON body carrying base64 files of tens of megabytes is read
// with memory that does not grow with the files.
func SplitJSON(r io.Reader, keep int64, stream func(JSONPath) bool, open func(n int, p JSONPath) (io.WriteCloser, error)) ([]byte, error) {
	cr := &countReader{r: r}
	s := &splitter{br: bufio.NewReaderSize(cr, 64<<10), cr: cr, keep: keep, stream: stream, open: open}
	c, err := s.ws()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &DecodeError{Msg: "request body is empty; expected a JSON object"}
		}
		return nil, s.readErr(err)
	}
	if err := s.value(c, 0); err != nil {
		return nil, err
	}
	if c, err := s.ws(); err == nil {
		_ = c
		return nil, &DecodeError{Msg: "request body must hold a single JSON value"}
	} else if !errors.Is(err, io.EOF) {
		return nil, s.readErr(err)
	}
	return s.out, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type splitter struct {
	br     *bufio.Reader
	cr     *countReader
	out    []byte
	keep   int64
	stream func(JSONPath) bool
	open   func(int, JSONPath) (io.WriteCloser, error)
	path   JSONPath
	n      int
}

func (s *splitter) offset() int64 { return s.cr.n - int64(s.br.Buffered()) }

func (s *splitter) syntax() error {
	return &DecodeError{Msg: fmt.Sprintf("request body is not valid JSON (at byte %d)", s.offset())}
}

// readErr words a failure to read the body.
func (s *splitter) readErr(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return TooLarge(tooBig)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &DecodeError{Msg: "request body is not valid JSON (it ends too early)"}
	}
	return &DecodeError{Msg: "could not read the request body: " + err.Error(), Err: err}
}

func (s *splitter) put(b ...byte) error {
	s.out = append(s.out, b...)
	if int64(len(s.out)) > s.keep {
		return &DecodeError{Msg: fmt.Sprintf("request body is too large: its fields other than file data may take at most %d bytes", s.keep),
			Err: &http.MaxBytesError{Limit: s.keep}}
	}
	return nil
}

func (s *splitter) ws() (byte, error) {
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
	}
}

func (s *splitter) next() (byte, error) {
	c, err := s.ws()
	if err != nil {
		return 0, s.readErr(err)
	}
	return c, nil
}

func (s *splitter) value(c byte, depth int) error {
	if depth > maxJSONDepth {
		return &DecodeError{Msg: fmt.Sprintf("request body is nested more than %d levels deep", maxJSONDepth)}
	}
	streamed := s.stream(s.path)
	if streamed && c != '"' && c != 'n' {
		return &DecodeError{Msg: fmt.Sprintf("field %s must be a string", s.path)}
	}
	switch c {
	case '{':
		if err := s.put('{'); err != nil {
			return err
		}
		c, err := s.next()
		if err != nil {
			return err
		}
		if c == '}' {
			return s.put('}')
		}
		for {
			if c != '"' {
				return s.syntax()
			}
			key, err := s.copyString(true)
			if err != nil {
				return err
			}
			if c, err = s.next(); err != nil {
				return err
			}
			if c != ':' {
				return s.syntax()
			}
			if err := s.put(':'); err != nil {
				return err
			}
			if c, err = s.next(); err != nil {
				return err
			}
			s.path = append(s.path, key)
			err = s.value(c, depth+1)
			s.path = s.path[:len(s.path)-1]
			if err != nil {
				return err
			}
			if c, err = s.next(); err != nil {
				return err
			}
			switch c {
			case ',':
				if err := s.put(','); err != nil {
					return err
				}
				if c, err = s.next(); err != nil {
					return err
				}
			case '}':
				return s.put('}')
			default:
				return s.syntax()
			}
		}
	case '[':
		if err := s.put('['); err != nil {
			return err
		}
		c, err := s.next()
		if err != nil {
			return err
		}
		if c == ']' {
			return s.put(']')
		}
		for i := 0; ; i++ {
			s.path = append(s.path, i)
			err = s.value(c, depth+1)
			s.path = s.path[:len(s.path)-1]
			if err != nil {
				return err
			}
			if c, err = s.next(); err != nil {
				return err
			}
			switch c {
			case ',':
				if err := s.put(','); err != nil {
					return err
				}
				if c, err = s.next(); err != nil {
					return err
				}
			case ']':
				return s.put(']')
			default:
				return s.syntax()
			}
		}
	case '"':
		if streamed {
			return s.streamString()
		}
		_, err := s.copyString(false)
		return err
	}
	// A number or a literal: copied up to the next delimiter; the decoder
	// that reads the kept document checks it.
	if !(c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n') {
		return s.syntax()
	}
	if err := s.put(c); err != nil {
		return err
	}
	for {
		b, err := s.br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return s.readErr(err)
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r', ',', ']', '}':
			return nil
		}
		s.br.ReadByte()
		if err := s.put(b[0]); err != nil {
			return err
		}
	}
}

// copyString copies a string (its opening quote read) to the kept
// document; for a key it also returns its text.
func (s *splitter) copyString(key bool) (string, error) {
	start := len(s.out)
	if err := s.put('"'); err != nil {
		return "", err
	}
	escaped := false
	for {
		buf, err := s.peek()
		if err != nil {
			return "", err
		}
		i := 0
		for ; i < len(buf); i++ {
			if escaped {
				escaped = false
				continue
			}
			if buf[i] == '\\' {
				escaped = true
				continue
			}
			if buf[i] == '"' {
				break
			}
		}
		done := i < len(buf)
		if done {
			i++ // the closing quote
		}
		if err := s.put(buf[:i]...); err != nil {
			return "", err
		}
		s.br.Discard(i)
		if done {
			break
		}
	}
	if !key {
		return "", nil
	}
	raw := s.out[start:]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var k string
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", s.syntax()
	}
	return k, nil
}

// peek returns the buffered bytes, reading more when there are none.
func (s *splitter) peek() ([]byte, error) {
	if s.br.Buffered() == 0 {
		if _, err := s.br.Peek(1); err != nil {
			return nil, s.readErr(err)
		}
	}
	b, _ := s.br.Peek(s.br.Buffered())
	return b, nil
}

// streamString sends a string's content (its opening quote read) to a new
// stream and keeps the stream's number in its place.
func (s *splitter) streamString() error {
	path := s.path.String()
	w, err := s.open(s.n, s.path)
	if err != nil {
		return err
	}
	if err := s.put(strconv.AppendInt(nil, int64(s.n), 10)...); err != nil {
		return err
	}
	s.n++
	fail := func(err error) error { return &StreamError{Path: path, Err: err} }
	for {
		buf, err := s.peek()
		if err != nil {
			return err
		}
		i := 0
		for i < len(buf) && buf[i] != '"' && buf[i] != '\\' && buf[i] >= 0x20 {
			i++
		}
		if i > 0 {
			if _, err := w.Write(buf[:i]); err != nil {
				return fail(err)
			}
			s.br.Discard(i)
			continue
		}
		c, _ := s.br.ReadByte()
		switch {
		case c == '"':
			if err := w.Close(); err != nil {
				return fail(err)
			}
			return nil
		case c < 0x20:
			return &DecodeError{Msg: fmt.Sprintf("request body is not valid JSON (a control character in a string at byte %d)", s.offset()-1)}
		}
		// An escape.
		e, err := s.br.ReadByte()
		if err != nil {
			return s.readErr(err)
		}
		var out []byte
		switch e {
		case '"', '\\', '/':
			out = []byte{e}
		case 'b':
			out = []byte{'\b'}
		case 'f':
			out = []byte{'\f'}
		case 'n':
			out = []byte{'\n'}
		case 'r':
			out = []byte{'\r'}
		case 't':
			out = []byte{'\t'}
		case 'u':
			var hex [4]byte
			if _, err := io.ReadFull(s.br, hex[:]); err != nil {
				return s.readErr(err)
			}
			v, err := strconv.ParseUint(string(hex[:]), 16, 16)
			if err != nil {
				return s.syntax()
			}
			out = utf8.AppendRune(nil, rune(v))
		default:
			return s.syntax()
		}
		if _, err := w.Write(out); err != nil {
			return fail(err)
		}
	}
}
