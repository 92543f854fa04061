package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestBufferedLogger(t *testing.T) {
	t.Parallel()
	out := &syncBuffer{}
	log, buf := newBufferedLogger(out, "text")

	log.Info("http", "status", 200)
	if out.String() != "" {
		t.Fatalf("an info line was written at once: %q", out.String())
	}
	log.With("worker", "webhooks").Warn("delivery failed")
	if s := out.String(); !strings.Contains(s, "msg=http") || !strings.Contains(s, "worker=webhooks") {
		t.Fatalf("a warning did not flush what was buffered: %q", s)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { buf.run(ctx); close(done) }()
	log.Info("later")
	deadline := time.Now().Add(10 * logFlushEvery)
	for !strings.Contains(out.String(), "msg=later") {
		if time.Now().After(deadline) {
			t.Fatal("the flush loop did not write an info line")
		}
		time.Sleep(logFlushEvery / 4)
	}
	log.Info("last words")
	cancel()
	<-done
	if !strings.Contains(out.String(), "msg=\"last words\"") {
		t.Fatalf("stopping did not flush: %q", out.String())
	}
}

// stalledWriter blocks every write until released, like a log file on a
// disk busy with an fsync.
type stalledWriter struct {
	release chan struct{}
	out     syncBuffer
}

func (s *stalledWriter) Write(p []byte) (int, error) {
	<-s.release
	return s.out.Write(p)
}

func TestBufferedLoggerDoesNotWaitForTheDisk(t *testing.T) {
	t.Parallel()
	w := &stalledWriter{release: make(chan struct{})}
	log, buf := newBufferedLogger(w, "text")
	log.Info("first")
	flushed := make(chan struct{})
	go func() { buf.Flush(); close(flushed) }() // stalls in the output
	time.Sleep(10 * time.Millisecond)

	logged := make(chan struct{})
	go func() {
		for i := range 1000 {
			log.Info("request", "n", i)
		}
		close(logged)
	}()
	select {
	case <-logged:
	case <-time.After(5 * time.Second):
		t.Fatal("logging waited for a stalled output")
	}
	close(w.release)
	<-flushed
	if err := buf.Flush(); err != nil {
		t.Fatal(err)
	}
	s := w.out.String()
	if !strings.Contains(s, "msg=first") || !strings.Contains(s, "n=999") || strings.Index(s, "msg=first") > strings.Index(s, "n=0") {
		t.Fatalf("lines lost or out of order: %d bytes", len(s))
	}
}
