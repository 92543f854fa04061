package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logBuffer batches the server's log lines into fewer writes. A busy API
// logs one line per request, and one write to stderr per line cost more
// than building the line. Lines reach the output at most logFlushEvery
// later, at once for warnings and errors, and on shutdown.
//
// Writing out happens outside the lock that request goroutines append
// under: when the disk is busy (a checkpoint's fsync), a write to a log
// file can stall for a while, and every request would have waited for it.
// Only when logBufferMax bytes are waiting does a writer flush itself.
type logBuffer struct {
	out io.Writer

	mu      sync.Mutex
	pending []byte

	flushMu sync.Mutex // one flush at a time, so lines keep their order
	spare   []byte
}

const (
	logFlushEvery = 100 * time.Millisecond
	logBufferMax  = 4 << 20
)

func newLogBuffer(w io.Writer) *logBuffer {
	return &logBuffer{out: w}
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.pending = append(b.pending, p...)
	behind := len(b.pending) >= logBufferMax
	b.mu.Unlock()
	if behind {
		b.Flush()
	}
	return len(p), nil
}

// Flush writes out what is buffered.
func (b *logBuffer) Flush() error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	data := b.pending
	b.pending = b.spare[:0]
	b.mu.Unlock()
	if len(data) == 0 {
		return nil
	}
	_, err := b.out.Write(data)
	b.spare = data
	return err
}

// run flushes every logFlushEvery until ctx ends, then once more.
func (b *logBuffer) run(ctx context.Context) {
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.Flush()
		case <-ctx.Done():
			b.Flush()
			return
		}
	}
}

// flushOnWarn is a handler that flushes the buffer after each warning or
// error, so that what goes wrong shows at once.
type flushOnWarn struct {
	slog.Handler
	buf *logBuffer
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.buf.Flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(as []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(as), h.buf}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.buf}
}

// newBufferedLogger is newLogger writing through a logBuffer; the caller
// runs the buffer's flush loop.
func newBufferedLogger(w io.Writer, format string) (*slog.Logger, *logBuffer) {
	buf := newLogBuffer(w)
	return slog.New(flushOnWarn{newLogger(buf, format).Handler(), buf}), buf
}
