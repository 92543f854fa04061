package httpx

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"
)

// LargeBody is the size from which a request body counts as a large
// upload (and passes the UploadGate): smaller bodies are read as usual.
const LargeBody = 1 << 20

// UploadGate caps how many large uploads are read at once, across every
// face. A large upload streams through small buffers into a spool on disk,
// so memory is not what each one costs; but each holds a disk stream, a
// spool the size of its file, and then the one database writer while its
// chunks are copied. Beyond the cap an upload waits its turn for up to Wait
// (the client's body stays in the kernel's socket buffers meanwhile), then
// is answered 503 with Retry-After: a client retries later rather than
// every client crawling at once.
//
// When the last large upload of a burst is done the gate returns the freed
// memory to the system at once (debug.FreeOSMemory) instead of waiting for
// the runtime's background scavenger, which releases it over minutes.
type UploadGate struct {
	slots chan struct{}
	Wait  time.Duration
	Log   *slog.Logger

	mu       sync.Mutex
	inFlight int
	freeing  bool
	// free is debug.FreeOSMemory (tests count calls).
	free func()
}

// NewUploadGate returns a gate for n large uploads at once.
func NewUploadGate(n int, wait time.Duration, log *slog.Logger) *UploadGate {
	return &UploadGate{slots: make(chan struct{}, n), Wait: wait, Log: log, free: debug.FreeOSMemory}
}

// ErrBusy is the error of an upload that did not get a slot in time: 503.
var ErrBusy = Error(http.StatusServiceUnavailable, "too many large uploads at once: try again in a few seconds (see Retry-After)")

// RetryAfter is the Retry-After (seconds) of ErrBusy.
const RetryAfter = "10"

// Enter takes a slot for r's body when it is large (or of unknown length)
// and returns the function that gives it back. A nil gate, or a small body,
// passes at once. Without a slot in time it sets Retry-After on w and
// answers ErrBusy, which the face renders in its own shape.
func (g *UploadGate) Enter(w http.ResponseWriter, r *http.Request) (release func(), err error) {
	if g == nil || r.ContentLength >= 0 && r.ContentLength < LargeBody {
		return func() {}, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.Wait)
	defer cancel()
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		if r.Context().Err() != nil {
			return nil, r.Context().Err()
		}
		if g.Log != nil {
			g.Log.Warn("large upload refused: too many at once", "path", r.URL.Path, "ip", ClientIP(r), "slots", cap(g.slots))
		}
		w.Header().Set("Retry-After", RetryAfter)
		return nil, ErrBusy
	}
	g.mu.Lock()
	g.inFlight++
	g.mu.Unlock()
	var once sync.Once
	return func() { once.Do(g.leave) }, nil
}

func (g *UploadGate) leave() {
	<-g.slots
	g.mu.Lock()
	g.inFlight--
	start := g.inFlight == 0 && !g.freeing
	if start {
		g.freeing = true
	}
	g.mu.Unlock()
	if start {
		go func() {
			g.free()
			g.mu.Lock()
			g.freeing = false
			g.mu.Unlock()
		}()
	}
}

// Base64Writer decodes standard base64 written to it (padded or not; line
// breaks ignored, as some encoders wrap at 76 characters) and writes the
// bytes to its destination as they come, a block at a time. Close decodes
// the last group and reports a malformed input. It is strict: trailing bits
// must be zero and nothing may follow the padding.
type Base64Writer struct {
	dst   io.Writer
	buf   []byte // pending base64 characters
	out   []byte
	ended bool // padding seen: only line breaks may follow
	n     int64
	err   error
}

// ErrBadBase64 is input that is not valid base64.
var ErrBadBase64 = errors.New("not valid base64")

// NewBase64Writer returns a decoder writing to dst.
func NewBase64Writer(dst io.Writer) *Base64Writer {
	return &Base64Writer{dst: dst, buf: make([]byte, 0, 64<<10), out: make([]byte, 48<<10)}
}

// Write takes base64 characters.
func (b *Base64Writer) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	for _, c := range p {
		if c == '\r' || c == '\n' {
			continue
		}
		if b.ended {
			b.err = ErrBadBase64
			return 0, b.err
		}
		b.n++
		b.buf = append(b.buf, c)
		if len(b.buf) == cap(b.buf) {
			if err := b.flush(len(b.buf), base64.StdEncoding); err != nil {
				return 0, err
			}
		}
	}
	return len(p), nil
}

// flush decodes the first n pending characters (a multiple of 4, unless
// last) with enc.
func (b *Base64Writer) flush(n int, enc *base64.Encoding) error {
	if n == 0 {
		return nil
	}
	if b.buf[n-1] == '=' {
		b.ended = true
	}
	m, err := enc.Strict().Decode(b.out, b.buf[:n])
	if err != nil {
		b.err = ErrBadBase64
		return b.err
	}
	if _, err := b.dst.Write(b.out[:m]); err != nil {
		b.err = err
		return err
	}
	b.buf = b.buf[:copy(b.buf, b.buf[n:])]
	return nil
}

// Chars is the number of base64 characters taken (line breaks not counted).
func (b *Base64Writer) Chars() int64 { return b.n }

// Close decodes what is pending: padded groups, or an unpadded tail of two
// or three characters.
func (b *Base64Writer) Close() error {
	if b.err != nil {
		return b.err
	}
	n := len(b.buf)
	if n%4 == 0 || b.buf[n-1] == '=' {
		return b.flush(n, base64.StdEncoding)
	}
	if err := b.flush(n/4*4, base64.StdEncoding); err != nil {
		return err
	}
	if b.ended {
		b.err = ErrBadBase64
		return b.err
	}
	return b.flush(len(b.buf), base64.RawStdEncoding)
}
