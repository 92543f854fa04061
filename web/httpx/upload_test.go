package httpx

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The gate lets n large uploads in at once; the next waits, then is
// refused with 503 and Retry-After; small bodies pass; when the last
// large upload of a burst ends, memory is handed back.
func TestUploadGate(t *testing.T) {
	g := NewUploadGate(1, 100*time.Millisecond, nil)
	done := make(chan struct{}, 10)
	g.free = func() { done <- struct{}{} }
	large := func() *http.Request {
		r := httptest.NewRequest("POST", "/api/v1/instrumentResults", strings.NewReader(""))
		r.ContentLength = LargeBody
		return r
	}
	release, err := g.Enter(httptest.NewRecorder(), large())
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if _, err := g.Enter(w, large()); err != ErrBusy || w.Header().Get("Retry-After") != RetryAfter {
		t.Fatalf("second large upload: %v, Retry-After %q", err, w.Header().Get("Retry-After"))
	}
	if p := Classify(ErrBusy); p.Status != http.StatusServiceUnavailable {
		t.Fatalf("busy: %d", p.Status)
	}
	unknown := large()
	unknown.ContentLength = -1 // chunked: counts as large
	if _, err := g.Enter(httptest.NewRecorder(), unknown); err != ErrBusy {
		t.Fatalf("body of unknown length: %v", err)
	}
	small := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	if rel, err := g.Enter(httptest.NewRecorder(), small); err != nil {
		t.Fatalf("small body: %v", err)
	} else {
		rel()
	}
	// A waiting upload gets the slot when it is given back.
	got := make(chan error, 1)
	g.Wait = 5 * time.Second
	go func() {
		rel, err := g.Enter(httptest.NewRecorder(), large())
		if err == nil {
			rel()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	release()
	release() // twice is once
	if err := <-got; err != nil {
		t.Fatalf("waiting upload: %v", err)
	}
	<-done // handed back when the burst ended
	var nilGate *UploadGate
	if rel, err := nilGate.Enter(httptest.NewRecorder(), large()); err != nil {
		t.Fatal(err)
	} else {
		rel()
	}
}
