//go:build linux

package sim_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/devices/line"
	"github.com/clinicbox/clinicbox/devices/sim"
)

// openSerial creates a pty and opens its device path with the real serial
// library, exactly as the appliance opens /dev/ttyUSB0.
func openSerial(t *testing.T) (*sim.PTY, serial.Port) {
	t.Helper()
	p, err := sim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	port, err := serial.Open(p.Path, &serial.Mode{BaudRate: 9600})
	if err != nil {
		p.Close()
		t.Fatalf("serial.Open(%s): %v", p.Path, err)
	}
	t.Cleanup(func() {
		port.Close()
		p.Close()
	})
	return p, port
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestPTYASTM: the simulator writes on the pty master, the host reads the
// slave through go.bug.st/serial with astm.Link and gets every sample
// complete. With a corrupted frame, the host NAKs it, the simulator
// resends it, and the damaged text never reaches the message.
func TestPTYASTM(t *testing.T) {
	tests := []struct {
		sample  string
		framing sim.Framing
		corrupt int
	}{
		{"chemistry.astm", sim.FrameSplit, 0},
		{"chemistry.astm", sim.FrameSplit, 2},
		{"haematology.astm", sim.FramePerRecord, 3},
		{"urine.astm", sim.FramePerRecordETX, 0},
		{"qc.astm", sim.FrameSingle, 1},
		{"custom-delimiters.astm", sim.FrameSplit, 0},
		{"query.astm", sim.FrameSplit, 0},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			p, port := openSerial(t)
			ctx := ctxT(t)
			host := astm.NewLink(port, astm.Config{})
			defer host.Close()
			inst := sim.New(p.Master, sim.Config{Protocol: sim.ASTM, Framing: tt.framing, CorruptFrame: tt.corrupt})
			defer inst.Close()

			msg := mustSample(t, tt.sample)
			res := make(chan sent, 1)
			go func() {
				rep, err := inst.Send(ctx, msg)
				res <- sent{rep, err}
			}()
			tr, err := host.Receive(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s := <-res
			if s.err != nil {
				t.Fatal(s.err)
			}
			if !bytes.Equal(tr.Text, msg) {
				t.Fatalf("message differs:\n%q\nwant\n%q", tr.Text, msg)
			}
			if tt.corrupt > 0 {
				if s.rep.NAKs != 1 || len(s.rep.Corrupted) == 0 {
					t.Errorf("report = %+v, want one NAKed frame", s.rep)
				}
				if bytes.Contains(tr.Text, s.rep.Corrupted) {
					t.Errorf("corrupted text %q reached the message", s.rep.Corrupted)
				}
				if !bytes.Contains(tr.Raw, s.rep.Corrupted) {
					t.Errorf("raw capture should keep the rejected frame")
				}
			}
			if _, err := astm.Parse(tr.Text); err != nil {
				t.Fatal(err)
			}
			// The stored raw bytes re-parse to the same message.
			if !bytes.Equal(astm.Unframe(tr.Raw), msg) {
				t.Error("Unframe(raw) differs from the message")
			}
		})
	}
}

// TestPTYHL7: an HL7 device sends over MLLP; the host reads the frame from
// the serial port, parses it and answers an ACK that the device accepts.
func TestPTYHL7(t *testing.T) {
	for _, name := range []string{"poct-glucose-oru.hl7", "oul-r22.hl7", "spirometry-oru.hl7"} {
		t.Run(name, func(t *testing.T) {
			p, port := openSerial(t)
			ctx := ctxT(t)
			inst := sim.New(p.Master, sim.Config{Protocol: sim.HL7})
			defer inst.Close()
			msg := mustSample(t, name)
			res := make(chan sent, 1)
			go func() {
				rep, err := inst.Send(ctx, msg)
				res <- sent{rep, err}
			}()
			raw, err := hl7.NewMLLPReader(port, 0).ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, msg) {
				t.Fatalf("got %q", raw)
			}
			m, err := hl7.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Observations()) == 0 {
				t.Error("no observations")
			}
			if err := hl7.WriteMLLP(port, hl7.NewACK(m, hl7.AA, "", "ACK-1", time.Now())); err != nil {
				t.Fatal(err)
			}
			s := <-res
			if s.err != nil {
				t.Fatal(s.err)
			}
			ack, _ := hl7.Parse(s.rep.Ack)
			h, _ := m.MSH()
			if code, id, _ := hl7.AckOf(ack); code != hl7.AA || id != h.ControlID {
				t.Errorf("device got ACK %q", s.rep.Ack)
			}
		})
	}
}

// TestPTYLines: a scale prints lines; the host reads and parses them from
// the serial port.
func TestPTYLines(t *testing.T) {
	p, port := openSerial(t)
	ctx := ctxT(t)
	inst := sim.New(p.Master, sim.Config{Protocol: sim.Line})
	defer inst.Close()
	go inst.Send(ctx, mustSample(t, "scale.txt"))

	parser, err := line.NewParser("")
	if err != nil {
		t.Fatal(err)
	}
	r := line.NewReader(port, 0)
	var got []line.Reading
	for len(got) < 4 {
		l, err := r.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		rd, err := parser.Parse(l)
		if errors.Is(err, line.ErrNoMatch) {
			continue // banner and separator lines
		}
		got = append(got, rd)
	}
	want := []string{"WT 72.4 kg", "WT 72.6 kg", "HT 172 cm", "BMI 24.5 kg/m2"}
	for i, rd := range got {
		if s := rd.Code + " " + rd.Value + " " + rd.Unit; s != want[i] {
			t.Errorf("reading %d = %q, want %q", i, s, want[i])
		}
	}
}

// TestPTYCablePulled: closing the master (the instrument side) makes the
// host's Receive fail with a read error instead of hanging, so ingestion
// can reopen the port.
func TestPTYCablePulled(t *testing.T) {
	p, port := openSerial(t)
	host := astm.NewLink(port, astm.Config{})
	defer host.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := host.Receive(context.Background())
		errc <- err
	}()
	p.Master.Close()
	select {
	case err := <-errc:
		var abort *astm.AbortError
		if err == nil || errors.As(err, &abort) {
			t.Fatalf("err = %v", err)
		}
		t.Logf("host saw: %v", err)
	case <-time.After(5 * time.Second):
		port.Close() // unblock the reader before failing
		t.Fatal("Receive did not return after the master closed")
	}
}
