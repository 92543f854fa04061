package line

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine is the Reader's line length limit when none is given.
const DefaultMaxLine = 4096

// ErrLineTooLong reports a line over the Reader's limit; the rest of it is
// skipped and the next ReadLine returns the line after.
var ErrLineTooLong = errors.New("line: line too long")

// Reader splits a byte stream into lines ending in CR, LF or CR LF, as
// different instruments print them. Empty lines are skipped.
type Reader struct {
	r       *bufio.Reader
	max     int
	buf     []byte
	skipped bool // inside an overlong line that is being skipped
}

// NewReader reads lines from r, refusing lines longer than max bytes
// (max <= 0 means DefaultMaxLine).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &Reader{r: bufio.NewReader(r), max: max}
}

// ReadLine returns the next non-empty line without its line end. A last
// line without a line end is returned at the end of the stream; after it,
// ReadLine returns io.EOF.
func (l *Reader) ReadLine() (string, error) {
	l.buf = l.buf[:0]
	for {
		b, err := l.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && len(l.buf) > 0 && !l.skipped {
				return string(l.buf), nil
			}
			return "", fmt.Errorf("line: read: %w", err)
		}
		switch {
		case b == '\r' || b == '\n':
			if l.skipped {
				l.skipped = false
				continue
			}
			if len(l.buf) > 0 {
				return string(l.buf), nil
			}
		case l.skipped:
		case len(l.buf) >= l.max:
			l.skipped = true
			l.buf = l.buf[:0]
			return "", fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, l.max)
		default:
			l.buf = append(l.buf, b)
		}
	}
}
