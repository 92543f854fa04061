package astm_test

import (
	"bytes"
	"slices"
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

// FuzzUnframe: reading a transcript back never panics and never yields more
// text than it holds; the strict reader notes no deviations; and a frame
// sent twice in a row (same number, same bytes) counts once in both modes.
func FuzzUnframe(f *testing.F) {
	restart := []byte{astm.ENQ}
	for i, r := range []string{"H|\\^&\r", "P|1\r", "O|1|S1\r", "R|1|^^^WBC|7.1\r", "L|1|N\r"} {
		n := i + 1
		if i >= 3 {
			n = i - 2 // the analyser restarts numbering at 1
		}
		restart = astm.AppendFrame(restart, astm.Frame{Number: n, Text: []byte(r), Final: i == 4})
	}
	f.Add(append(restart, astm.EOT))
	f.Add([]byte("\x05\x021H|\\^&\r\x17C4\r\n\x021H|\\^&\r\x17C4\r\n\x022L|1\r\x03C5\r\n\x04"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, strict := range []bool{false, true} {
			text, dev := astm.UnframeReport(raw, strict)
			if len(text) > len(raw) {
				t.Fatalf("strict=%v: %d bytes of text from %d", strict, len(text), len(raw))
			}
			if strict && len(dev) > 0 {
				t.Fatalf("strict reader noted %q", dev)
			}
		}
		// Repeat the first complete frame right after itself.
		start := bytes.IndexByte(raw, astm.STX)
		if start < 0 {
			return
		}
		end := bytes.IndexAny(raw[start+1:], "\x02\x03\x04\x05\x17")
		if end < 0 || (raw[start+1+end] != astm.ETX && raw[start+1+end] != astm.ETB) || start+1+end+3 > len(raw) {
			return
		}
		end = start + 1 + end + 3
		if _, err := astm.DecodeFrame(raw[start:end]); err != nil {
			return
		}
		twice := slices.Concat(raw[:end], raw[start:end], raw[end:])
		for _, strict := range []bool{false, true} {
			a, _ := astm.UnframeReport(raw, strict)
			b, _ := astm.UnframeReport(twice, strict)
			if !bytes.Equal(a, b) {
				t.Fatalf("strict=%v: a re-sent frame changed the text: %q vs %q", strict, a, b)
			}
		}
	})
}
