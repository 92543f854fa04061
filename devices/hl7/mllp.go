package hl7

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MLLP framing bytes: a message travels as SB message EB CR.
const (
	mllpStart byte = 0x0B // SB, vertical tab
	mllpEnd   byte = 0x1C // EB, file separator
)

// DefaultMaxMessage is the MLLP reader's size limit when none is given.
const DefaultMaxMessage = 1 << 20

// ErrMessageTooLarge reports an MLLP frame longer than the reader's limit.
// The rest of that frame is skipped, and the next ReadMessage returns the
// message after it.
var ErrMessageTooLarge = errors.New("hl7: MLLP message exceeds the size limit")

// MLLPReader extracts messages from an MLLP byte stream (a serial port or
// a TCP connection). Bytes outside frames (line noise, stray CRs) are
// skipped; a start byte inside a frame restarts it, because the sender
// evidently began again.
type MLLPReader struct {
	r        *bufio.Reader
	max      int
	buf      []byte
	skipped  bool // inside an oversized frame that is being skipped
	afterEnd bool // the last byte read was a frame's end byte
	noCR     int  // frames seen to end without the trailing CR, not yet reported
}

// MissingCR reports, and resets, how many frames ended without the CR that
// follows the end byte. A frame's missing CR is only seen when the next
// byte arrives, so it is reported with the message after it.
func (m *MLLPReader) MissingCR() int {
	n := m.noCR
	m.noCR = 0
	return n
}

// NewMLLPReader reads frames from r, refusing messages longer than max
// bytes (max <= 0 means DefaultMaxMessage).
func NewMLLPReader(r io.Reader, max int) *MLLPReader {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	return &MLLPReader{r: bufio.NewReader(r), max: max}
}

// ReadMessage returns the next message, without its framing bytes. The
// trailing CR after the end byte is not waited for: some senders omit it,
// and whatever follows the end byte is skipped as noise before the next
// frame. At the end of the stream it returns io.EOF, or
// io.ErrUnexpectedEOF if a frame was cut short.
func (m *MLLPReader) ReadMessage() ([]byte, error) {
	inFrame := m.skipped
	for {
		b, err := m.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && inFrame {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("hl7: mllp read: %w", err)
		}
		if m.afterEnd && b != '\r' {
			m.noCR++
		}
		m.afterEnd = b == mllpEnd
		switch {
		case b == mllpStart:
			inFrame, m.skipped = true, false
			m.buf = m.buf[:0]
		case !inFrame:
			// noise between frames
		case b == mllpEnd:
			if m.skipped {
				m.skipped, inFrame = false, false
				continue
			}
			return bytes.Clone(m.buf), nil
		case m.skipped:
		case len(m.buf) >= m.max:
			m.skipped = true
			m.buf = m.buf[:0]
			return nil, fmt.Errorf("%w (%d bytes)", ErrMessageTooLarge, m.max)
		default:
			m.buf = append(m.buf, b)
		}
	}
}

// WriteMLLP writes msg as one MLLP frame in a single Write, so a frame is
// never interleaved with another writer's bytes.
func WriteMLLP(w io.Writer, msg []byte) error {
	if i := bytes.IndexAny(msg, "\x0b\x1c"); i >= 0 {
		return fmt.Errorf("hl7: mllp write: message holds framing byte %#x at %d", msg[i], i)
	}
	frame := make([]byte, 0, len(msg)+3)
	frame = append(frame, mllpStart)
	frame = append(frame, msg...)
	frame = append(frame, mllpEnd, '\r')
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("hl7: mllp write: %w", err)
	}
	return nil
}
