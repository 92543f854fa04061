package sim_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/devices/astm/astmtest"
	"github.com/clinicbox/clinicbox/devices/sim"
)

func mustSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := sim.Sample(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSamples(t *testing.T) {
	list := sim.Samples()
	count := map[sim.Protocol]int{}
	for _, s := range list {
		count[s.Protocol]++
		if s.Description == "" {
			t.Errorf("%s has no description", s.Name)
		}
		b := mustSample(t, s.Name)
		if s.Protocol != sim.Line && bytes.ContainsRune(b, '\n') {
			t.Errorf("%s still has LF line ends", s.Name)
		}
	}
	if count[sim.ASTM] != 6 || count[sim.HL7] != 3 || count[sim.Line] != 2 {
		t.Errorf("samples per protocol = %v", count)
	}
	if _, err := sim.Sample("nope.astm"); err == nil {
		t.Error("unknown sample accepted")
	}
}

// hostAndInstrument connects an astm.Link (the host) and a simulated
// instrument over an in-memory pipe.
func hostAndInstrument(t *testing.T, hostCfg astm.Config, cfg sim.Config) (*astm.Link, *sim.Instrument) {
	t.Helper()
	a, b := net.Pipe()
	host := astm.NewLink(a, hostCfg)
	inst := sim.New(b, cfg)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		host.Close()
		inst.Close()
	})
	return host, inst
}

type sent struct {
	rep sim.Report
	err error
}

func sendAsync(inst *sim.Instrument, msg []byte) <-chan sent {
	ch := make(chan sent, 1)
	go func() {
		rep, err := inst.Send(context.Background(), msg)
		ch <- sent{rep, err}
	}()
	return ch
}

func TestInstrumentASTM(t *testing.T) {
	msg := mustSample(t, "chemistry.astm")
	records := bytes.Count(msg, []byte{'\r'})
	tests := []struct {
		name       string
		cfg        sim.Config
		wantFrames int
		wantNAKs   int
	}{
		{"standard framing", sim.Config{}, (len(msg) + 239) / 240, 0},
		{"corrupted second frame", sim.Config{CorruptFrame: 2}, (len(msg)+239)/240 + 1, 1},
		{"record per frame, CR ETB", sim.Config{Framing: sim.FramePerRecord}, records, 0},
		{"record per frame, ETX", sim.Config{Framing: sim.FramePerRecordETX, CorruptFrame: 5}, records + 1, 1},
		{"one huge frame", sim.Config{Framing: sim.FrameSingle}, 1, 0},
		{"small frames", sim.Config{FrameSize: 17}, (len(msg) + 16) / 17, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Protocol = sim.ASTM
			host, inst := hostAndInstrument(t, astm.Config{}, tt.cfg)
			res := sendAsync(inst, msg)
			tr, err := host.Receive(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			s := <-res
			if s.err != nil {
				t.Fatal(s.err)
			}
			if !bytes.Equal(tr.Text, msg) {
				t.Errorf("received text differs:\n%q\n%q", tr.Text, msg)
			}
			if s.rep.Frames != tt.wantFrames || s.rep.NAKs != tt.wantNAKs {
				t.Errorf("report = %+v, want %d frames %d NAKs", s.rep, tt.wantFrames, tt.wantNAKs)
			}
			if s.rep.Corrupted != nil && bytes.Contains(tr.Text, s.rep.Corrupted) {
				t.Errorf("corrupted text %q reached the message", s.rep.Corrupted)
			}
			if _, err := astm.Parse(tr.Text); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestInstrumentBusyHost: the host NAKs the first bid; the instrument
// waits 10 s on its (fake) clock and bids again.
func TestInstrumentBusyHost(t *testing.T) {
	clk := astmtest.NewClock(time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC))
	busy := true
	host, inst := hostAndInstrument(t, astm.Config{Busy: func() bool { b := busy; busy = false; return b }},
		sim.Config{Protocol: sim.ASTM, Clock: clk})
	msg := mustSample(t, "query.astm")
	res := sendAsync(inst, msg)
	got := make(chan *astm.Transfer, 1)
	go func() {
		tr, _ := host.Receive(context.Background())
		got <- tr
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := clk.AdvanceTimer(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if tr := <-got; tr == nil || !bytes.Equal(tr.Text, msg) {
		t.Fatalf("host got %+v", tr)
	}
	if s := <-res; s.err != nil || s.rep.NAKs != 1 {
		t.Fatalf("send: %+v %v", s.rep, s.err)
	}
}

// TestInstrumentGivesUp: a host that rejects every frame (message over
// its size limit) makes the instrument stop after 6 attempts with EOT, and
// the host discards the message.
func TestInstrumentGivesUp(t *testing.T) {
	host, inst := hostAndInstrument(t, astm.Config{MaxMessage: 100}, sim.Config{Protocol: sim.ASTM, Framing: sim.FrameSingle})
	res := sendAsync(inst, mustSample(t, "chemistry.astm"))
	_, err := host.Receive(context.Background())
	if !errors.Is(err, astm.ErrMessageTooLarge) {
		t.Fatalf("host err = %v", err)
	}
	s := <-res
	if s.err == nil || s.rep.Frames != 6 || s.rep.NAKs != 6 {
		t.Fatalf("instrument: %+v, %v", s.rep, s.err)
	}
}

func TestInstrumentLines(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	inst := sim.New(b, sim.Config{Protocol: sim.Line, LineEnding: "\r"})
	defer inst.Close()
	go func() {
		inst.Send(context.Background(), []byte("WT 72.4 kg\nWT 72.6 kg\n"))
		b.Close()
	}()
	var got bytes.Buffer
	buf := make([]byte, 64)
	for {
		n, err := a.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if got.String() != "WT 72.4 kg\rWT 72.6 kg\r" {
		t.Errorf("wrote %q", got.String())
	}
}

func TestUnknownProtocol(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	inst := sim.New(b, sim.Config{Protocol: "x"})
	defer inst.Close()
	if _, err := inst.Send(context.Background(), []byte("x")); err == nil || !strings.Contains(err.Error(), "unknown protocol") {
		t.Errorf("err = %v", err)
	}
}
