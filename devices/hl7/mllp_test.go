package hl7_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/devices/hl7"
)

func TestMLLPReader(t *testing.T) {
	m1, m2 := "MSH|^~\\&|A\rPID|1\r", "MSH|^~\\&|B\r"
	tests := []struct {
		name    string
		stream  string
		max     int
		want    []string
		wantErr []error // per ReadMessage call after the wanted messages
	}{
		{name: "two frames", stream: "\x0b" + m1 + "\x1c\r\x0b" + m2 + "\x1c\r", want: []string{m1, m2}},
		{name: "garbage between frames", stream: "noise\r\n\x00\x0b" + m1 + "\x1c\rjunk\x0b" + m2 + "\x1c\r\n", want: []string{m1, m2}},
		{name: "missing trailing CR", stream: "\x0b" + m1 + "\x1c\x0b" + m2 + "\x1c", want: []string{m1, m2}},
		{name: "restart inside a frame", stream: "\x0bMSH|half\x0b" + m1 + "\x1c\r", want: []string{m1}},
		{name: "cut short", stream: "\x0b" + m1 + "\x1c\r\x0bMSH|^~", want: []string{m1}, wantErr: []error{io.ErrUnexpectedEOF}},
		{
			name:    "too large, then recovers",
			stream:  "\x0b" + strings.Repeat("x", 100) + "\x1c\r\x0b" + m2 + "\x1c\r",
			max:     20,
			wantErr: []error{hl7.ErrMessageTooLarge},
		},
		{name: "exactly the limit", stream: "\x0b" + m2 + "\x1c\r", max: len(m2), want: []string{m2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hl7.NewMLLPReader(strings.NewReader(tt.stream), tt.max)
			for _, w := range tt.want {
				got, err := r.ReadMessage()
				if err != nil || string(got) != w {
					t.Fatalf("got %q, %v; want %q", got, err, w)
				}
			}
			for _, we := range tt.wantErr {
				if _, err := r.ReadMessage(); !errors.Is(err, we) {
					t.Fatalf("err = %v, want %v", err, we)
				}
			}
			if tt.name == "too large, then recovers" {
				got, err := r.ReadMessage()
				if err != nil || string(got) != m2 {
					t.Fatalf("after oversize: %q, %v", got, err)
				}
			}
			if _, err := r.ReadMessage(); !errors.Is(err, io.EOF) {
				t.Fatalf("at end: %v, want EOF", err)
			}
		})
	}
}

// TestMLLPOverPipe: a device sends messages with garbage in between over a
// connection; the host reads each, answers with an ACK, and the device
// reads the ACK back.
func TestMLLPOverPipe(t *testing.T) {
	dev, host := net.Pipe()
	defer dev.Close()
	defer host.Close()
	msgs := []string{
		"MSH|^~\\&|DEV||HOST||20250314||ORU^R01|M1|P|2.5\rOBX|1|NM|GLU||5.4|mmol/L\r",
		"MSH|^~\\&|DEV||HOST||20250314||ORU^R01|M2|P|2.5\rOBX|1|NM|GLU||6.1|mmol/L\r",
	}
	done := make(chan error, 1)
	go func() {
		r := hl7.NewMLLPReader(host, 0)
		for range msgs {
			raw, err := r.ReadMessage()
			if err != nil {
				done <- err
				return
			}
			m, err := hl7.Parse(raw)
			if err != nil {
				done <- err
				return
			}
			if err := hl7.WriteMLLP(host, hl7.NewACK(m, hl7.AA, "", "ACK", fixedNow)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	devReader := hl7.NewMLLPReader(dev, 0)
	for _, msg := range msgs {
		if _, err := dev.Write([]byte("\r\n~garbage~\x00")); err != nil {
			t.Fatal(err)
		}
		if err := hl7.WriteMLLP(dev, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		ack, err := devReader.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		am, err := hl7.Parse(ack)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := hl7.Parse([]byte(msg))
		wh, _ := want.MSH()
		if code, id, _ := hl7.AckOf(am); code != hl7.AA || id != wh.ControlID {
			t.Errorf("ACK %q for %s", ack, wh.ControlID)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWriteMLLP(t *testing.T) {
	var b bytes.Buffer
	if err := hl7.WriteMLLP(&b, []byte("MSH|^~\\&\r")); err != nil || b.String() != "\x0bMSH|^~\\&\r\x1c\r" {
		t.Errorf("frame = %q, %v", b.String(), err)
	}
	if err := hl7.WriteMLLP(&b, []byte("bad\x1cbyte")); err == nil {
		t.Error("framing byte inside the message accepted")
	}
}

func TestMLLPReaderNotesMissingCR(t *testing.T) {
	m1, m2, m3 := "MSH|^~\\&|A\r", "MSH|^~\\&|B\r", "MSH|^~\\&|C\r"
	r := hl7.NewMLLPReader(strings.NewReader("\x0b"+m1+"\x1c\x0b"+m2+"\x1c\r\x0b"+m3+"\x1c\r"), 0)
	for i, want := range []struct {
		msg       string
		missingCR int
	}{{m1, 0}, {m2, 1}, {m3, 0}} {
		got, err := r.ReadMessage()
		if err != nil || string(got) != want.msg {
			t.Fatalf("message %d: %q, %v", i, got, err)
		}
		if n := r.MissingCR(); n != want.missingCR {
			t.Errorf("after message %d: MissingCR = %d, want %d", i, n, want.missingCR)
		}
	}
}

func TestSegmentDeviations(t *testing.T) {
	tests := []struct {
		msg  string
		want []string
	}{
		{"MSH|^~\\&|A\rPID|1\rOBX|1\r", nil},
		{"MSH|^~\\&|A\rPID|1", nil},
		{"MSH|^~\\&|A\nPID|1\nOBX|1\n", []string{"3 segment(s) end in LF instead of CR; accepted"}},
		{"MSH|^~\\&|A\r\nPID|1\r\n", []string{"2 segment(s) end in CR LF instead of CR; accepted"}},
		{"MSH|^~\\&|A\r\nPID|1\nOBX|1\r", []string{"1 segment(s) end in CR LF instead of CR; accepted", "1 segment(s) end in LF instead of CR; accepted"}},
	}
	for _, tt := range tests {
		if got := hl7.SegmentDeviations([]byte(tt.msg)); !slices.Equal(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.msg, got, tt.want)
		}
		// Whatever the terminators, the segments parse the same.
		m, err := hl7.Parse([]byte(tt.msg))
		if err != nil || len(m.Segments) != strings.Count(strings.ReplaceAll(tt.msg, "\r\n", "\r"), "\r")+strings.Count(strings.ReplaceAll(tt.msg, "\r\n", "\r"), "\n")+boolInt(!strings.HasSuffix(tt.msg, "\r") && !strings.HasSuffix(tt.msg, "\n")) {
			t.Errorf("%q parsed to %d segments, %v", tt.msg, len(m.Segments), err)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
