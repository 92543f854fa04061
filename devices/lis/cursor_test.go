package lis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// TestSkippedEventsCostNoWrite: events that give the LIS nothing (patients,
// appointments; results of a clinic without a destination) cost the worker
// no write per pass; a result that gives a message stores the cursor with
// it; a worker that dies after skipping reads the skipped events again on
// restart and queues what came after them once; stopping stores the
// position.
func TestSkippedEventsCostNoWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	org, other := storetest.Org(t, st, "A", "a"), storetest.Org(t, st, "B", "b")
	dev := storetest.Device(t, st, org.ID, &store.Device{Name: "Yumizen", Protocol: "astm", PortPath: "/dev/ttyUSB1"})
	devB := storetest.Device(t, st, other.ID, &store.Device{Name: "Yumizen", Protocol: "astm", PortPath: "/dev/ttyUSB1"})
	storetest.Must(t, st.AddLISDestination(ctx, org.ID, &store.LISDestination{Name: "lis", Host: "127.0.0.1", Port: 1}))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	newWorker := func() *Worker { return New(Config{Store: st, Log: quiet}) }
	sample := 0
	ingest := func(orgID int64, d *store.Device) {
		t.Helper()
		sample++
		m := &store.DeviceMessage{DeviceID: d.ID, Protocol: "astm", Raw: []byte("H|\\^&|||Yumizen\rP|1||MRN-1\r" +
			fmt.Sprintf("O|1|S-%d||^^^WBC\r", sample) + "R|1|^^^WBC|4,1|10*3/uL|||F\rL|1|N\r")}
		storetest.Must(t, st.SaveDeviceMessage(ctx, orgID, m))
		if _, err := devices.Reingest(ctx, st, orgID, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	skipped := func(n int) {
		t.Helper()
		for i := range n {
			storetest.Must(t, st.CreatePatient(ctx, org.ID, &store.Patient{MRN: fmt.Sprintf("S-%d-%d", sample, i), Active: true}))
			sample++
		}
		ingest(other.ID, devB) // a result of a clinic without a LIS
	}
	pass := func(w *Worker) {
		t.Helper()
		storetest.Must(t, w.consume(ctx))
		storetest.Must(t, w.deliver(ctx))
	}
	stored := func() int64 {
		t.Helper()
		c, err := st.Cursor(ctx, Consumer)
		storetest.Must(t, err)
		return c
	}
	lastEvent := func() int64 {
		t.Helper()
		id, err := st.LastEventID(ctx)
		storetest.Must(t, err)
		return id
	}
	queued := func() int {
		t.Helper()
		ms, err := st.LISMessages(ctx, org.ID, 100)
		storetest.Must(t, err)
		return len(ms)
	}

	w := newWorker()
	for range 20 {
		skipped(2)
		before := st.WritesRun()
		pass(w)
		if n := st.WritesRun() - before; n != 0 {
			t.Fatalf("a pass over skipped events made %d writes, want 0", n)
		}
	}
	if got := stored(); got != 0 {
		t.Errorf("cursor stored at %d after skips only, want 0", got)
	}
	if w.cur.Position() != lastEvent() {
		t.Errorf("position %d, want the last event %d", w.cur.Position(), lastEvent())
	}

	ingest(org.ID, dev)
	storetest.Must(t, w.consume(ctx))
	if n := queued(); n != 1 {
		t.Fatalf("%d messages after a result, want 1", n)
	}
	if got, want := stored(), lastEvent(); got != want {
		t.Errorf("cursor stored at %d after a message, want %d (with the message)", got, want)
	}

	// Skips, then the worker dies before storing them.
	at := stored()
	skipped(3)
	storetest.Must(t, w.consume(ctx))
	if got := stored(); got != at {
		t.Fatalf("cursor stored at %d, want %d: the crash needs the skips unstored", got, at)
	}
	ingest(org.ID, dev) // while no worker runs
	w2 := newWorker()
	storetest.Must(t, w2.consume(ctx))
	storetest.Must(t, w2.consume(ctx))
	if n := queued(); n != 2 {
		t.Errorf("%d messages after the restart, want 2 (the first once, the one written while down)", n)
	}
	if got, want := stored(), lastEvent(); got != want {
		t.Errorf("cursor stored at %d after the restart's message, want %d", got, want)
	}

	// A worker that stops stores what it skipped.
	skipped(2)
	storetest.Must(t, w2.consume(ctx))
	w2.flushCursor()
	if got, want := stored(), lastEvent(); got != want {
		t.Errorf("cursor stored at %d after stopping, want %d", got, want)
	}
}
