package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestBufferedLogger(t *testing.T) {
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
