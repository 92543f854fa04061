package webhook

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// TestSkippedEventsCostNoWrite: events that give a channel no delivery (a
// patient's events for the POCT webhooks, events no webhook subscribes to
// for the telehealth ones) cost the worker no write per pass, neither for
// its cursor nor for a claim; an event that gives a delivery stores the
// cursor with it; and a worker that dies after skipping (its position in
// memory only) reads the skipped events again on restart and delivers
// what came after them once.
func TestSkippedEventsCostNoWrite(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	type env struct {
		st  *store.Store
		org *store.Org
	}
	tests := []struct {
		name     string
		consumer string
		worker   func(st *store.Store) *Worker
		// hook creates the channel's webhook; wanted writes one event that
		// gives it a delivery; queued counts its deliveries.
		hook   func(t *testing.T, e env)
		wanted func(t *testing.T, e env)
		queued func(t *testing.T, e env) int
	}{
		{
			name: "telehealth", consumer: Consumer,
			worker: func(st *store.Store) *Worker { return New(Config{Store: st, Log: quiet}) },
			hook: func(t *testing.T, e env) {
				if err := e.st.CreateWebhook(context.Background(), e.org.ID,
					&store.Webhook{Endpoint: "https://127.0.0.1:1/hook", Events: []string{store.EventPatientDeactivated}}); err != nil {
					t.Fatal(err)
				}
			},
			wanted: func(t *testing.T, e env) {
				p := &store.Patient{MRN: fmt.Sprint("D-", time.Now().UnixNano()), Active: true}
				storetest.Must(t, e.st.CreatePatient(context.Background(), e.org.ID, p))
				if _, err := e.st.UpdatePatient(context.Background(), e.org.ID, store.ByID, fmt.Sprint(p.ID),
					func(q *store.Patient) error { q.Active = false; return nil }); err != nil {
					t.Fatal(err)
				}
			},
			queued: func(t *testing.T, e env) int {
				ds, err := e.st.WebhookDeliveries(context.Background(), e.org.ID, store.DeliveryFilter{})
				storetest.Must(t, err)
				return len(ds)
			},
		},
		{
			name: "poct", consumer: PoctConsumer,
			worker: func(st *store.Store) *Worker { return NewPoct(PoctConfig{Store: st, Log: quiet}) },
			hook: func(t *testing.T, e env) {
				if err := e.st.CreatePoctWebhook(context.Background(), e.org.ID,
					&store.PoctWebhook{URL: "https://127.0.0.1:1/hook", Events: []string{"result.created"}}); err != nil {
					t.Fatal(err)
				}
			},
			wanted: func(t *testing.T, e env) {
				ctx := context.Background()
				d := storetest.Device(t, e.st, e.org.ID, &store.Device{Name: fmt.Sprint("i-STAT ", time.Now().UnixNano()), Protocol: "astm", PortPath: "/dev/ttyS0"})
				m := &store.DeviceMessage{DeviceID: d.ID, Protocol: "astm",
					Raw: []byte("H|\\^&|||i-STAT\rP|1||P-1\rO|1|S-1||^^^GLU\rR|1|^^^GLU|5.1|mmol/L|3.9-6.1|N||F\rL|1|N\r")}
				storetest.Must(t, e.st.SaveDeviceMessage(ctx, e.org.ID, m))
				if _, err := devices.Reingest(ctx, e.st, e.org.ID, m.ID); err != nil {
					t.Fatal(err)
				}
			},
			queued: func(t *testing.T, e env) int {
				ds, err := e.st.PoctDeliveries(context.Background(), e.org.ID, 100)
				storetest.Must(t, err)
				return len(ds)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := storetest.NewClock(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC))
			st := storetest.Open(t, storeOpts(clock)...)
			e := env{st: st, org: storetest.Org(t, st, "A", "a")}
			inflight := map[int64]bool{}
			results := make(chan result, 4)
			// pass is one turn of Run's loop.
			pass := func(w *Worker) {
				t.Helper()
				storetest.Must(t, w.consume(ctx))
				if _, err := w.dispatch(ctx, inflight, results); err != nil {
					t.Fatal(err)
				}
			}
			stored := func() int64 {
				t.Helper()
				c, err := st.Cursor(ctx, tt.consumer)
				storetest.Must(t, err)
				return c
			}
			lastEvent := func() int64 {
				t.Helper()
				id, err := st.LastEventID(ctx)
				storetest.Must(t, err)
				return id
			}
			skipped := func(n int) {
				t.Helper()
				for i := range n {
					storetest.Must(t, st.CreatePatient(ctx, e.org.ID, &store.Patient{MRN: fmt.Sprintf("S-%d-%d", lastEvent(), i), Active: true}))
				}
			}

			w := tt.worker(st)
			tt.hook(t, e) // subscribed to something else than what is skipped
			start := stored()
			for range 20 { // groups of writes, each waking the worker
				skipped(3)
				before := st.WritesRun()
				pass(w)
				if n := st.WritesRun() - before; n != 0 {
					t.Fatalf("a pass over skipped events made %d writes, want 0", n)
				}
			}
			if got := stored(); got != start {
				t.Errorf("cursor stored at %d after skips only, want it left at %d", got, start)
			}
			if w.cur.Position() != lastEvent() {
				t.Errorf("position %d, want the last event %d", w.cur.Position(), lastEvent())
			}

			tt.wanted(t, e)
			pass(w)
			if n := tt.queued(t, e); n != 1 {
				t.Fatalf("%d deliveries after the wanted event, want 1", n)
			}
			if got, want := stored(), lastEvent(); got != want {
				t.Errorf("cursor stored at %d after a delivery, want %d (with the delivery)", got, want)
			}

			// Skips after it, then the worker dies before storing them:
			// its position is lost with it.
			at := stored()
			skipped(5)
			pass(w)
			if got := stored(); got != at {
				t.Fatalf("cursor stored at %d, want %d: the crash needs the skips unstored", got, at)
			}
			tt.wanted(t, e) // while no worker runs
			w2 := tt.worker(st)
			pass(w2)
			pass(w2)
			if n := tt.queued(t, e); n != 2 {
				t.Errorf("%d deliveries after the restart, want 2 (the first once, the one written while down)", n)
			}
			if got, want := stored(), lastEvent(); got != want {
				t.Errorf("cursor stored at %d after the restart's delivery, want %d", got, want)
			}

			// A worker that stops stores what it skipped.
			skipped(4)
			pass(w2)
			w2.flushCursor()
			if got, want := stored(), lastEvent(); got != want {
				t.Errorf("cursor stored at %d after stopping, want %d", got, want)
			}
		})
	}
}
