package astm

import (
	"bytes"
	"fmt"
)

// MaxFrameText is the largest frame text the standard allows (a frame is at
// most 247 bytes: STX, FN, 240 text bytes, ETB/ETX, two checksum digits, CR
// and LF). The receiver tolerates longer frames; the sender never makes them.
const MaxFrameText = 240

// Frame is one E1381 frame.
type Frame struct {
	Number int    // frame number 0..7 (FN); the first frame of a message is 1
	Text   []byte // the bytes between the frame number and ETB/ETX
	Final  bool   // true for ETX (end frame), false for ETB (intermediate)
}

// AppendFrame appends f in wire form, STX FN text ETB|ETX C1 C2 CR LF, to dst.
func AppendFrame(dst []byte, f Frame) []byte {
	start := len(dst)
	dst = append(dst, STX, byte('0'+f.Number&7))
	dst = append(dst, f.Text...)
	if f.Final {
		dst = append(dst, ETX)
	} else {
		dst = append(dst, ETB)
	}
	dst = appendChecksum(dst, Checksum(dst[start+1:]))
	return append(dst, CR, LF)
}

// DecodeFrame decodes one frame: STX FN text ETB|ETX C1 C2, optionally
// followed by CR and LF (a missing LF or CR is tolerated). Checksum digits
// may be lower case. Text aliases b.
func DecodeFrame(b []byte) (Frame, error) {
	if len(b) < 5 || b[0] != STX {
		return Frame{}, fmt.Errorf("%w: does not start with STX or is too short (%d bytes)", ErrFrameSyntax, len(b))
	}
	fn := b[1]
	if fn < '0' || fn > '7' {
		return Frame{}, fmt.Errorf("%w: frame number %q is not 0..7", ErrFrameSyntax, fn)
	}
	// Text may not contain ETB or ETX, so the first one ends it.
	end := bytes.IndexAny(b[2:], "\x03\x17")
	if end < 0 {
		return Frame{}, fmt.Errorf("%w: no ETB or ETX", ErrFrameSyntax)
	}
	end += 2
	rest := b[end+1:]
	if len(rest) < 2 {
		return Frame{}, fmt.Errorf("%w: checksum truncated", ErrFrameSyntax)
	}
	want, ok := parseChecksum(rest[0], rest[1])
	if !ok {
		return Frame{}, fmt.Errorf("%w: checksum %q is not two hex digits", ErrFrameSyntax, rest[:2])
	}
	switch tail := rest[2:]; {
	case len(tail) == 0, string(tail) == "\r", string(tail) == "\r\n", string(tail) == "\n":
	default:
		return Frame{}, fmt.Errorf("%w: %d unexpected bytes after the checksum", ErrFrameSyntax, len(tail))
	}
	if got := Checksum(b[1 : end+1]); got != want {
		return Frame{}, fmt.Errorf("%w: frame says %02X, bytes sum to %02X", ErrChecksum, want, got)
	}
	return Frame{Number: int(fn - '0'), Text: b[2:end], Final: b[end] == ETX}, nil
}

// SplitFrames cuts text into frames of at most size text bytes (size <= 0
// means MaxFrameText), numbered 1..7,0,1,... with ETB on every frame but
// the last, which carries ETX. Empty text still yields one (empty) frame.
func SplitFrames(text []byte, size int) []Frame {
	if size <= 0 {
		size = MaxFrameText
	}
	n := (len(text) + size - 1) / size
	if n == 0 {
		n = 1
	}
	frames := make([]Frame, 0, n)
	for i := range n {
		lo, hi := i*size, min((i+1)*size, len(text))
		frames = append(frames, Frame{Number: (i + 1) % 8, Text: text[lo:hi], Final: i == n-1})
	}
	return frames
}
