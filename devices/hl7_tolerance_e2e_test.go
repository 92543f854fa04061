package devices_test

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/store"
)

// readAck reads one MLLP acknowledgement and returns its code.
func readAck(t *testing.T, r io.Reader) hl7.AckCode {
	t.Helper()
	raw, err := hl7.NewMLLPReader(r, 0).ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	ack, err := hl7.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	code, _, _ := hl7.AckOf(ack)
	return code
}

// TestHL7ToleratesTerminatorsOverPTY: over a real pty, a message whose
// segments end in LF and whose MLLP frame lacks the trailing CR is
// acknowledged AA and ingested, with both deviations in the log; a device
// set to strict framing refuses the LF message (AE) and keeps it as failed.
func TestHL7ToleratesTerminatorsOverPTY(t *testing.T) {
	t.Parallel()
	oru := sample(t, "poct-glucose-oru.hl7")
	lf := bytes.ReplaceAll(bytes.TrimRight(oru, "\r"), []byte("\r"), []byte("\n"))
	segments := bytes.Count(lf, []byte("\n"))
	crlf := bytes.ReplaceAll(oru, []byte("\r"), []byte("\r\n"))
	for _, strict := range []bool{false, true} {
		t.Run(map[bool]string{false: "tolerant", true: "strict"}[strict], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := openPTY(t)
			dev := e.addDevice(t, &store.Device{Name: "Glucoscan", Protocol: "hl7", PortPath: p.Path, Baud: 115200, StrictFraming: strict})
			// LF segments, then no CR after the end byte.
			if _, err := p.Master.Write(slices.Concat([]byte{0x0b}, lf, []byte{0x1c})); err != nil {
				t.Fatal(err)
			}
			first := readAck(t, p.Master)
			// CR LF segments in a well-closed frame: its reader notes the CR
			// missing after the previous frame.
			if err := hl7.WriteMLLP(p.Master, crlf); err != nil {
				t.Fatal(err)
			}
			second := readAck(t, p.Master)
			ms := e.messages(t, dev.ID)
			var in []store.DeviceMessage
			for _, m := range ms {
				if m.Direction == "in" {
					in = append(in, m)
				}
			}
			if len(in) != 2 {
				t.Fatalf("%d incoming messages logged, want 2", len(in))
			}
			lfNote := fmt.Sprintf("%d segment(s) end in LF instead of CR; accepted", segments)
			crlfNote := fmt.Sprintf("%d segment(s) end in CR LF instead of CR; accepted", bytes.Count(crlf, []byte("\r\n")))
			if !strict {
				if first != hl7.AA || second != hl7.AA {
					t.Fatalf("acks %s, %s; want AA, AA", first, second)
				}
				if got := in[0].Warnings; !slices.Equal(got, []string{lfNote}) {
					t.Errorf("first message warnings %q, want %q", got, lfNote)
				}
				want := []string{crlfNote, "1 earlier MLLP frame(s) ended without the CR after the end byte; accepted"}
				if got := in[1].Warnings; !slices.Equal(got, want) {
					t.Errorf("second message warnings %q, want %q", got, want)
				}
				if obs := e.observations(t, store.ObservationFilter{DeviceID: dev.ID}); len(obs) != 4 {
					t.Errorf("%d observations, want 2 per message", len(obs))
				}
				return
			}
			if first != hl7.AE || second != hl7.AE {
				t.Fatalf("acks %s, %s; want AE, AE from a strict device", first, second)
			}
			if in[0].Status != store.MessageFailed || !strings.Contains(in[0].Error, "strict framing: "+lfNote) {
				t.Errorf("strict device stored %s %q", in[0].Status, in[0].Error)
			}
			if obs := e.observations(t, store.ObservationFilter{DeviceID: dev.ID}); len(obs) != 0 {
				t.Errorf("%d observations on a strict device", len(obs))
			}
		})
	}
}
