package astm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Config tunes a Link. The zero value follows the standard.
type Config struct {
	// Clock drives every timer; nil means SystemClock.
	Clock Clock
	// Busy, if set, is asked when the instrument bids (ENQ): returning true
	// answers NAK ("not ready, try again in 10 s") instead of ACK.
	Busy func() bool
	// Commit, if set, is called before the receiver acknowledges a frame
	// that ends in ETX (the end of a message), with every byte received
	// since the ENQ. Storing them there means an acknowledged message is
	// never lost: if Commit returns an error the frame is NAKed instead,
	// and the instrument keeps the message and sends it again (after six
	// NAKs it gives up; Receive then reports ErrSenderAborted). Analysers
	// that send one record per ETX frame cause one call per record, each
	// with the longer capture.
	Commit func(raw []byte) error
	// Strict applies E1381's frame-number rule: a frame that is neither the
	// next number nor a repeat of the last is NAKed. The default is
	// tolerant: a frame whose checksum is right is accepted whatever its
	// number (analysers restart numbering mid-transfer), a frame with the
	// last number and the same bytes counts once, and each deviation is
	// listed in Transfer.Deviations.
	Strict bool

	ReceiveTimeout  time.Duration // receiver timer, 30 s: silence mid-message aborts it
	ReplyTimeout    time.Duration // sender timer, 15 s: wait for ACK/NAK after ENQ or a frame
	BusyDelay       time.Duration // 10 s: wait after a NAK to our ENQ before bidding again
	ContentionDelay time.Duration // 20 s: after contention, let the instrument send first
	MaxAttempts     int           // 6: transmissions of one frame before giving up
	FrameSize       int           // 240: text bytes per frame we send
	MaxFrame        int           // 64 KiB: longest frame we accept (instruments exceed 247)
	MaxMessage      int           // 4 MiB: longest message text we accept
}

func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReceiveTimeout, 30*time.Second)
	def(&c.ReplyTimeout, 15*time.Second)
	def(&c.BusyDelay, 10*time.Second)
	def(&c.ContentionDelay, 20*time.Second)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
	if c.FrameSize <= 0 || c.FrameSize > MaxFrameText {
		c.FrameSize = MaxFrameText
	}
	if c.MaxFrame <= 0 {
		c.MaxFrame = 64 << 10
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = 4 << 20
	}
	return c
}

// Transfer is one message as it crossed the link.
type Transfer struct {
	// Text is the frame texts joined in order: intermediate frames are
	// concatenated, so a record cut across frames is whole again.
	Text []byte
	// Raw is every byte received from the ENQ to the EOT inclusive,
	// including rejected and repeated frames. Unframe(Raw) yields Text.
	Raw []byte
	// Frames counts the accepted frames.
	Frames int
	// Deviations lists what the tolerant receiver accepted against the
	// standard (frame numbers out of sequence), for the device's log.
	Deviations []string
}

// Link is one end of an E1381 link, acting as the host (LIS) side. One
// goroutine drives it: Receive and Send must not be called concurrently.
//
// A Link owns a goroutine that reads rw until a read fails; close rw (the
// port) and then the Link to end it.
type Link struct {
	w     io.Writer
	cfg   Config
	in    chan chunk
	done  chan struct{}
	close sync.Once

	buf     []byte      // received, not yet consumed
	readErr error       // sticky: the reader has stopped
	queue   []*Transfer // messages received while we were trying to send
	raw     []byte      // capture of the message being received, nil when idle
	rawMax  int
}

type chunk struct {
	b   []byte
	err error
}

// NewLink starts a link over rw, which is usually an open serial port.
func NewLink(rw io.ReadWriter, cfg Config) *Link {
	cfg = cfg.withDefaults()
	l := &Link{
		w:    rw,
		cfg:  cfg,
		in:   make(chan chunk, 1),
		done: make(chan struct{}),
		// Raw holds retransmissions and line noise on top of the text, so
		// allow some slack before calling the message too large.
		rawMax: 2*cfg.MaxMessage + 64<<10,
	}
	go l.readLoop(rw)
	return l
}

// Close stops the link. It does not close the port; a read blocked in the
// port returns when the port is closed.
func (l *Link) Close() error {
	l.close.Do(func() { close(l.done) })
	return nil
}

// readLoop turns the blocking reads of rw into channel sends, so the state
// machine can wait for a byte, a timer and ctx at the same time.
func (l *Link) readLoop(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			b := append([]byte(nil), buf[:n]...)
			select {
			case l.in <- chunk{b: b}:
			case <-l.done:
				return
			}
		}
		if err != nil {
			select {
			case l.in <- chunk{err: err}:
			case <-l.done:
			}
			return
		}
	}
}

// errTimedOut is the internal signal that a wait's timer elapsed.
var errTimedOut = errors.New("astm: timer elapsed")

// readByte returns the next received byte, waiting at most until t elapses
// (t nil: no limit). While a message is being received, bytes are captured.
func (l *Link) readByte(ctx context.Context, t *timer) (byte, error) {
	for len(l.buf) == 0 {
		if l.readErr != nil {
			return 0, l.readErr
		}
		var tc <-chan time.Time
		if t != nil {
			tc = t.c
		}
		select {
		case c := <-l.in:
			if c.err != nil {
				l.readErr = fmt.Errorf("astm: read: %w", c.err)
				continue
			}
			l.buf = c.b
			t.touch()
		case <-tc:
			if t.expired() {
				return 0, errTimedOut
			}
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-l.done:
			return 0, ErrClosed
		}
	}
	b := l.buf[0]
	l.buf = l.buf[1:]
	if l.raw != nil && len(l.raw) < l.rawMax {
		l.raw = append(l.raw, b)
	}
	return b, nil
}

// pending reports whether an ENQ is already waiting in the input, and drops
// everything else that arrived while nobody was listening (stray LFs, noise)
// so it is not mistaken for a reply to what we send next.
func (l *Link) pendingENQ() bool {
	for {
		select {
		case c := <-l.in:
			if c.err != nil {
				l.readErr = fmt.Errorf("astm: read: %w", c.err)
				return false
			}
			l.buf = append(l.buf, c.b...)
			continue
		default:
		}
		break
	}
	for i, b := range l.buf {
		if b == ENQ {
			l.buf = l.buf[i:]
			return true
		}
	}
	l.buf = l.buf[:0]
	return false
}

func (l *Link) write(b ...byte) error {
	if _, err := l.w.Write(b); err != nil {
		return fmt.Errorf("astm: write: %w", err)
	}
	return nil
}
