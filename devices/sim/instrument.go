package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/clinicbox/clinicbox/devices/astm"
)

// Framing says how the simulated ASTM instrument cuts a message into
// frames. Real analysers differ, and the receiver must take them all.
type Framing int

const (
	// FrameSplit cuts the text every FrameSize bytes: ETB on every frame but
	// the last, which has ETX (the standard's way).
	FrameSplit Framing = iota
	// FramePerRecord starts every record in a new frame and ends every frame
	// but the last with ETB, so each record ends "CR ETB".
	FramePerRecord
	// FramePerRecordETX sends each record as its own frame ending in ETX.
	FramePerRecordETX
	// FrameSingle sends the whole message in one frame however long it is,
	// as some analysers do despite the 240-byte rule.
	FrameSingle
)

// Config sets up an Instrument.
type Config struct {
	Protocol Protocol
	// Clock drives the waits (reply timeout, busy and contention delays);
	// nil means the real clock.
	Clock astm.Clock
	// ReplyTimeout bounds each wait for ACK/NAK or an HL7 ACK; 15 s if 0.
	ReplyTimeout time.Duration

	// ASTM only.
	Framing      Framing
	FrameSize    int // text bytes per frame for FrameSplit and FramePerRecord; 240 if 0
	MaxAttempts  int // transmissions of one frame before giving up; 6 if 0
	CorruptFrame int // 1-based frame whose first transmission has one text byte damaged; 0 for none
	// RestartNumbering lists record types (e.g. "M") before which the frame
	// numbers start again at 1, as some haematology analysers do before each
	// long manufacturer record (FramePerRecord and FramePerRecordETX only).
	RestartNumbering string

	// Line only.
	LineEnding   string        // "\r\n" if empty
	LineInterval time.Duration // pause between lines, as a scale printing every few seconds
}

// Report tells what happened during one Send.
type Report struct {
	Frames    int    // ASTM frames written, retransmissions included
	NAKs      int    // ASTM negative replies received (bids and frames)
	Corrupted []byte // ASTM: the damaged text that was sent, if CorruptFrame was hit
	Ack       []byte // HL7: the acknowledgement received
}

// Instrument speaks one protocol over rw like a real device. A single
// goroutine should call Send; Close releases the reader.
type Instrument struct {
	w     io.Writer
	cfg   Config
	in    chan chunk
	done  chan struct{}
	close sync.Once

	buf     []byte
	readErr error
}

type chunk struct {
	b   []byte
	err error
}

// New starts an instrument on rw (for example the master end of a PTY).
func New(rw io.ReadWriter, cfg Config) *Instrument {
	if cfg.Clock == nil {
		cfg.Clock = astm.SystemClock{}
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = 15 * time.Second
	}
	if cfg.FrameSize <= 0 {
		cfg.FrameSize = astm.MaxFrameText
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.LineEnding == "" {
		cfg.LineEnding = "\r\n"
	}
	in := &Instrument{w: rw, cfg: cfg, in: make(chan chunk, 1), done: make(chan struct{})}
	go in.readLoop(rw)
	return in
}

// Close stops the instrument's reader; it does not close rw.
func (in *Instrument) Close() error {
	in.close.Do(func() { close(in.done) })
	return nil
}

// Send transmits msg the way the configured protocol does: ASTM text
// (records separated by CR, as returned by Sample), an HL7 message, or
// text lines.
func (in *Instrument) Send(ctx context.Context, msg []byte) (Report, error) {
	switch in.cfg.Protocol {
	case ASTM:
		return in.sendASTM(ctx, msg)
	case HL7:
		return in.sendHL7(ctx, msg)
	case Line:
		return Report{}, in.sendLines(ctx, msg)
	}
	return Report{}, fmt.Errorf("sim: unknown protocol %q", in.cfg.Protocol)
}

func (in *Instrument) readLoop(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			select {
			case in.in <- chunk{b: append([]byte(nil), buf[:n]...)}:
			case <-in.done:
				return
			}
		}
		if err != nil {
			select {
			case in.in <- chunk{err: err}:
			case <-in.done:
			}
			return
		}
	}
}

var errTimeout = errors.New("sim: no reply in time")

// readByte returns the next byte from the host, or errTimeout once the
// channel tc fires.
func (in *Instrument) readByte(ctx context.Context, tc <-chan time.Time) (byte, error) {
	for len(in.buf) == 0 {
		if in.readErr != nil {
			return 0, in.readErr
		}
		select {
		case c := <-in.in:
			if c.err != nil {
				in.readErr = fmt.Errorf("sim: read: %w", c.err)
				continue
			}
			in.buf = c.b
		case <-tc:
			return 0, errTimeout
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-in.done:
			return 0, errors.New("sim: instrument closed")
		}
	}
	b := in.buf[0]
	in.buf = in.buf[1:]
	return b, nil
}

// wait lets d pass on the clock, or returns early if ctx ends.
func (in *Instrument) wait(ctx context.Context, d time.Duration) error {
	select {
	case <-in.cfg.Clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (in *Instrument) write(b []byte) error {
	if _, err := in.w.Write(b); err != nil {
		return fmt.Errorf("sim: write: %w", err)
	}
	return nil
}
