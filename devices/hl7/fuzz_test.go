package hl7_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/hl7"
)

var fixedNow = time.Date(2025, 3, 14, 10, 15, 31, 0, time.UTC)

// FuzzParse: the parser never panics, segments never add up to more than
// the input, every accessor is safe on whatever it accepted, and the ACK
// of any parsed message parses back with the original control id.
func FuzzParse(f *testing.F) {
	f.Add([]byte("MSH|^~\\&|A|B|C|D|20250314||ORU^R01|X1|P|2.5\rPID|1||ID1^^^^MR\rOBX|1|NM|GLU^Glucose^L||5.4|mmol/L|||||F\r"))
	f.Add([]byte("MSH#*@!%#DEV##HOST##2025##ORU*R01#C1#P#2.5\rOBX#1#ST#T1##a!F!b!X41!\r"))
	f.Add([]byte("MSH|^~\\&#|A\nSPM|1|S1&X^S2&Y\nOBR|1\nORC|SC\nOBX|1\nNTE|1||n\\.br\\m\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := hl7.Parse(data)
		if err != nil {
			return
		}
		total := 0
		for _, s := range m.Segments {
			total += len(s.Text())
			for n := 0; n <= s.NumFields()+1; n++ {
				fld := s.Field(n)
				_ = fld.String()
				_ = fld.Components()
				_ = fld.Subcomponent(2, 2)
				for _, r := range fld.Repeats() {
					_ = r.Component(3)
				}
			}
		}
		if total > len(data) {
			t.Fatalf("%d bytes of segments from %d bytes", total, len(data))
		}
		_ = m.Observations()
		h, _ := m.MSH()
		ack, err := hl7.Parse(hl7.NewACK(m, hl7.AE, "fuzz", "A1", fixedNow))
		if err != nil {
			t.Fatalf("ACK does not parse: %v", err)
		}
		if _, id, ok := hl7.AckOf(ack); !ok || id != h.ControlID {
			t.Fatalf("ACK echoes %q, want %q", id, h.ControlID)
		}
	})
}

// FuzzMLLPReader: the reader never panics, never returns more than its
// limit, and every message it returns was in the stream.
func FuzzMLLPReader(f *testing.F) {
	f.Add([]byte("\x0bMSH|^~\\&|A\r\x1c\r"), 64)
	f.Add([]byte("junk\x0bMSH|x\x0bMSH|y\x1c\x0b"), 4)
	f.Add([]byte("\x0b\x1c\r\x1c\x0b\x0b"), 0)
	f.Fuzz(func(t *testing.T, stream []byte, max int) {
		max = max%512 + 1
		if max <= 0 {
			max += 512
		}
		r := hl7.NewMLLPReader(bytes.NewReader(stream), max)
		pos := 0 // messages come out in stream order: search from here
		for range len(stream) + 1 {
			msg, err := r.ReadMessage()
			if errors.Is(err, hl7.ErrMessageTooLarge) {
				continue
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			i := bytes.Index(stream[pos:], msg)
			if len(msg) > max || i < 0 || bytes.ContainsAny(msg, "\x0b\x1c") {
				t.Fatalf("bad message %q (max %d)", msg, max)
			}
			pos += i + len(msg)
		}
		t.Fatal("reader did not reach the end of the stream")
	})
}
