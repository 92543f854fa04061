package astm

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestChecksum(t *testing.T) {
	// Expected values computed independently (sum of bytes mod 256).
	tests := []struct {
		in   string // FN through ETB/ETX
		want byte
	}{
		{"1H|\\^&\r\x03", 0xE5},
		{"2P|1\r\x17", 0x53},
		{"0L|1|N\r\x03", 0x03}, // wraps past 0xFF
		{"7\x03", 0x3A},
		{"1R|1|^^^GLU|5,8|mmol/L\r\x03", 0x7F},
		{"", 0x00},
	}
	for _, tt := range tests {
		if got := Checksum([]byte(tt.in)); got != tt.want {
			t.Errorf("Checksum(%q) = %02X, want %02X", tt.in, got, tt.want)
		}
	}
}

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		f    Frame
		want string
	}{
		{Frame{Number: 1, Text: []byte("H|\\^&\r"), Final: true}, "\x021H|\\^&\r\x03E5\r\n"},
		{Frame{Number: 2, Text: []byte("P|1\r"), Final: false}, "\x022P|1\r\x1753\r\n"},
		{Frame{Number: 0, Text: []byte("L|1|N\r"), Final: true}, "\x020L|1|N\r\x0303\r\n"},
		{Frame{Number: 7, Final: true}, "\x027\x033A\r\n"},
	}
	for _, tt := range tests {
		if got := string(AppendFrame(nil, tt.f)); got != tt.want {
			t.Errorf("AppendFrame(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		text    string
		fn      int
		final   bool
		wantErr error
	}{
		{name: "end frame", in: "\x021H|\\^&\r\x03E5\r\n", text: "H|\\^&\r", fn: 1, final: true},
		{name: "intermediate frame", in: "\x022P|1\r\x1753\r\n", text: "P|1\r", fn: 2},
		{name: "lower-case checksum", in: "\x021H|\\^&\r\x03e5\r\n", text: "H|\\^&\r", fn: 1, final: true},
		{name: "missing LF", in: "\x021H|\\^&\r\x03E5\r", text: "H|\\^&\r", fn: 1, final: true},
		{name: "missing CR LF", in: "\x021H|\\^&\r\x03E5", text: "H|\\^&\r", fn: 1, final: true},
		{name: "empty text", in: "\x027\x033A\r\n", text: "", fn: 7, final: true},
		{name: "bad checksum", in: "\x021H|\\^&\r\x03E6\r\n", wantErr: ErrChecksum},
		{name: "text changed", in: "\x021H|\\^%\r\x03E5\r\n", wantErr: ErrChecksum},
		{name: "no STX", in: "1H|\\^&\r\x03E5\r\n", wantErr: ErrFrameSyntax},
		{name: "FN 8", in: "\x028H|\r\x03E5\r\n", wantErr: ErrFrameSyntax},
		{name: "FN letter", in: "\x02AH|\r\x03E5\r\n", wantErr: ErrFrameSyntax},
		{name: "no terminator", in: "\x021H|\\^&\rE5\r\n", wantErr: ErrFrameSyntax},
		{name: "truncated checksum", in: "\x021H|\\^&\r\x03E", wantErr: ErrFrameSyntax},
		{name: "checksum not hex", in: "\x021H|\\^&\r\x03G5\r\n", wantErr: ErrFrameSyntax},
		{name: "junk after", in: "\x021H|\\^&\r\x03E5\r\nX", wantErr: ErrFrameSyntax},
		{name: "too short", in: "\x02", wantErr: ErrFrameSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := DecodeFrame([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(f.Text) != tt.text || f.Number != tt.fn || f.Final != tt.final {
				t.Errorf("got %+v (text %q), want text %q fn %d final %v", f, f.Text, tt.text, tt.fn, tt.final)
			}
		})
	}
}

func TestSplitFrames(t *testing.T) {
	text := []byte(strings.Repeat("x", 240*9+17))
	frames := SplitFrames(text, 0)
	if len(frames) != 10 {
		t.Fatalf("got %d frames, want 10", len(frames))
	}
	wantFN := []int{1, 2, 3, 4, 5, 6, 7, 0, 1, 2} // 1..7 then wraps to 0
	var joined []byte
	for i, f := range frames {
		if f.Number != wantFN[i] {
			t.Errorf("frame %d: FN %d, want %d", i, f.Number, wantFN[i])
		}
		if f.Final != (i == 9) {
			t.Errorf("frame %d: Final %v", i, f.Final)
		}
		if i < 9 && len(f.Text) != 240 {
			t.Errorf("frame %d: %d bytes, want 240", i, len(f.Text))
		}
		joined = append(joined, f.Text...)
		// Every encoded frame must decode to itself.
		back, err := DecodeFrame(AppendFrame(nil, f))
		if err != nil || !bytes.Equal(back.Text, f.Text) || back.Number != f.Number || back.Final != f.Final {
			t.Errorf("frame %d does not round-trip: %+v, %v", i, back, err)
		}
	}
	if !bytes.Equal(joined, text) {
		t.Error("joined frames differ from the text")
	}
	if got := SplitFrames(nil, 0); len(got) != 1 || !got[0].Final {
		t.Errorf("empty text: %+v, want one final frame", got)
	}
}

func TestUnframe(t *testing.T) {
	f1 := AppendFrame(nil, Frame{Number: 1, Text: []byte("H|\\^&\rP|1\r"), Final: false})
	f2 := AppendFrame(nil, Frame{Number: 2, Text: []byte("L|1|N\r"), Final: true})
	bad := bytes.Clone(f2)
	bad[3] = 'X' // corrupt the text, keep the checksum
	tests := []struct {
		name string
		raw  []byte
		want string
	}{
		{"clean", cat([]byte{ENQ}, f1, f2, []byte{EOT}), "H|\\^&\rP|1\rL|1|N\r"},
		{"repeat counted once", cat([]byte{ENQ}, f1, f1, f2, []byte{EOT}), "H|\\^&\rP|1\rL|1|N\r"},
		{"bad frame skipped, resend kept", cat([]byte{ENQ}, f1, bad, f2, []byte{EOT}), "H|\\^&\rP|1\rL|1|N\r"},
		{"abandoned transfer dropped", cat([]byte{ENQ}, f1, bad, []byte{EOT}, []byte{ENQ}, f1, f2, []byte{EOT}), "H|\\^&\rP|1\rL|1|N\r"},
		{"noise between frames", cat([]byte{ENQ, 'x', LF}, f1, []byte{LF, LF}, f2, []byte{EOT}), "H|\\^&\rP|1\rL|1|N\r"},
		{"no frames", []byte{ENQ, EOT}, ""},
	}
	for _, tt := range tests {
		if got := string(Unframe(tt.raw)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
