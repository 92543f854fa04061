package astm_test

import (
	"bytes"
	"testing"

	"github.com/clinicbox/clinicbox/devices/astm"
)

// FuzzDecodeFrame: the decoder never panics, never returns more text than
// it was given, and whatever it accepts re-encodes to a frame that decodes
// to the same thing.
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte("\x021H|\\^&\r\x03E5\r\n"))
	f.Add([]byte("\x022P|1\r\x1753\r\n"))
	f.Add([]byte("\x021H|\\^&\r\x03e5"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := astm.DecodeFrame(b)
		if err != nil {
			return
		}
		if fr.Number < 0 || fr.Number > 7 || len(fr.Text) > len(b) {
			t.Fatalf("accepted %+v from %d bytes", fr, len(b))
		}
		back, err := astm.DecodeFrame(astm.AppendFrame(nil, fr))
		if err != nil || back.Number != fr.Number || back.Final != fr.Final || !bytes.Equal(back.Text, fr.Text) {
			t.Fatalf("re-encoded frame does not decode to itself: %+v %v", back, err)
		}
	})
}

// FuzzParse: the record parser never panics, produces no more text than it
// was given, and every message it returns encodes and parses back with the
// same typed values.
func FuzzParse(f *testing.F) {
	f.Add([]byte("H|\\^&\rP|1||PAT-1\rO|1|S1||^^^GLU\rR|1|^^^GLU|5,8|mmol/L\rL|1|N\r"))
	f.Add([]byte("H!@~$\rR!1!~~~ALB!>300!!<3$F$0\rC!1!I!a$S$b$X41$\rL!1\r"))
	f.Add([]byte("\x05\x021H|\\^&\r\x17C4\r\n\x022L|1\r\x03C5\r\n\x04"))
	f.Fuzz(func(t *testing.T, text []byte) {
		msgs, err := astm.ParseMessages(text)
		if err != nil {
			return
		}
		total := 0
		for _, m := range msgs {
			for _, r := range m.Records {
				total += len(r.Text())
			}
		}
		if total > len(text) {
			t.Fatalf("%d bytes of records from %d bytes of input", total, len(text))
		}
		for _, m := range msgs {
			enc, err := astm.Encode(m)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			back, err := astm.Parse(enc)
			if err != nil {
				t.Fatalf("reparse of %q: %v", enc, err)
			}
			// Encode always ends with L (N by default).
			m.Terminated = true
			if m.TerminationCode == "" {
				m.TerminationCode = "N"
			}
			if a, b := typedView(m), typedView(back); a != b {
				t.Fatalf("round trip changed values:\n%s---\n%s\nencoded %q", a, b, enc)
			}
		}
	})
}
