package devices_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/sim"
	"github.com/clinicbox/clinicbox/store"
)

// haematologyWithHistogram is the haematology sample with a manufacturer
// record carrying a base64 histogram of over 20 KB after its order record,
// before which the analyser restarts its frame numbers at 1 (as a Yumizen
// H500 does): frames 1, 2, 3, then 1 where 4 is due.
func haematologyWithHistogram(t *testing.T) (msg []byte, histogram string) {
	t.Helper()
	histogram = strings.Repeat("QUJDREVGR0g=", 1900) // 22,800 bytes
	msg = sample(t, "haematology.astm")
	i := bytes.Index(msg, []byte("\rR|1|"))
	if i < 0 {
		t.Fatal("the haematology sample has no R record")
	}
	m := "\rM|1|HISTO^WBC|" + histogram
	return append(append(append([]byte(nil), msg[:i]...), m...), msg[i:]...), histogram
}

// TestASTMToleratesRealAnalyserFraming: over a real pty, an analyser that
// restarts frame numbers mid-transfer and sends a 22 KB frame gets every
// frame ACKed; the results and the M record arrive whole, and the
// deviations are in the message's log entry and the device's live state.
// The same transfer to a device set to strict framing is NAKed and lost,
// as E1381 prescribes.
func TestASTMToleratesRealAnalyserFraming(t *testing.T) {
	t.Parallel()
	msg, histogram := haematologyWithHistogram(t)
	cfg := sim.Config{Protocol: sim.ASTM, Framing: sim.FramePerRecord, FrameSize: 30000, RestartNumbering: "M",
		ReplyTimeout: 3 * time.Second}

	t.Run("tolerant", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p := openPTY(t)
		dev := e.addDevice(t, &store.Device{Name: "H500", Protocol: "astm", PortPath: p.Path, Baud: 115200})
		rep := send(t, simulator(t, p, cfg), msg)
		if rep.NAKs != 0 {
			t.Fatalf("%d NAKs for a transfer whose checksums are right", rep.NAKs)
		}
		waitFor(t, "the message ingested", func() bool {
			ms := e.messages(t, dev.ID)
			return len(ms) == 1 && ms[0].Status == store.MessageIngested
		})
		if obs := e.observations(t, store.ObservationFilter{DeviceID: dev.ID}); len(obs) != 13 {
			t.Fatalf("%d observations, want the 13 results", len(obs))
		}
		m := e.messages(t, dev.ID)[0]
		if !bytes.Contains(m.Raw, []byte(histogram)) {
			t.Error("the raw log lacks the 22 KB M record")
		}
		want := []string{"frame number 1 where 4 was expected; accepted (checksum right)"}
		if len(m.Warnings) != 1 || m.Warnings[0] != want[0] {
			t.Errorf("warnings = %q, want %q", m.Warnings, want)
		}
		// The port's live state is updated by the session after ingestion
		// returns, so it may trail the stored message by a moment.
		waitFor(t, "the warning in the device's live state", func() bool {
			s, _ := e.mgr.State(e.org.ID, dev.ID)
			return s.Warnings == 1 && strings.Contains(s.LastWarning, "frame number 1 where 4") && s.LastError == ""
		})
	})

	t.Run("strict", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p := openPTY(t)
		dev := e.addDevice(t, &store.Device{Name: "H500", Protocol: "astm", PortPath: p.Path, Baud: 115200, StrictFraming: true})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		rep, err := simulator(t, p, cfg).Send(ctx, msg)
		if err == nil || rep.NAKs != 6 || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("strict receiver: err %v, %d NAKs; want the frame NAKed 6 times", err, rep.NAKs)
		}
		waitFor(t, "the aborted transfer logged", func() bool {
			ms := e.messages(t, dev.ID)
			return len(ms) == 1 && ms[0].Kind == "aborted"
		})
		if obs := e.observations(t, store.ObservationFilter{DeviceID: dev.ID}); len(obs) != 0 {
			t.Fatalf("%d observations from an aborted transfer", len(obs))
		}
	})
}
