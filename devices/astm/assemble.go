package astm

import (
	"bytes"
	"fmt"
)

// verdict is the receiver's answer to one frame.
type verdict int

const (
	accepted  verdict = iota // ACK, text kept
	duplicate                // ACK, text dropped: the sender missed our ACK and re-sent
	rejected                 // NAK
)

// assembler applies the receiver's acceptance rules to frames: it keeps the
// texts of accepted frames, recognises a re-sent frame, and rejects bad
// ones. The live Link and Unframe share it, so a stored transcript
// re-parses to exactly what the receiver accepted at the time.
//
// Tolerant (the default): a frame whose checksum is right is accepted
// whatever its number, because real analysers restart their numbering
// mid-transfer; only a frame with the same number and the same bytes as the
// last accepted one is taken as a re-send. Each departure from the standard
// is noted in deviations. Strict: the standard's rule, a frame must carry the
// next number (a repeat of the last number is a re-send) or it is NAKed.
type assembler struct {
	maxText    int
	strict     bool
	text       []byte
	frames     int
	last       int    // number of the last accepted frame, -1 before the first
	lastFinal  bool   // the last accepted frame ended in ETX
	lastBytes  []byte // FN through the checksum of the last accepted frame
	deviations []string

	undoText, undoLast, undoDev int // state before the last accepted frame, for undo
	undoBytes                   []byte
}

func newAssembler(maxText int, strict bool) *assembler {
	return &assembler{maxText: maxText, strict: strict, last: -1}
}

// maxDeviations bounds the notes kept for one transcript: a sender that
// numbers every frame wrongly says so in the first few.
const maxDeviations = 20

func (a *assembler) note(format string, args ...any) {
	switch {
	case len(a.deviations) < maxDeviations:
		a.deviations = append(a.deviations, fmt.Sprintf(format, args...))
	case len(a.deviations) == maxDeviations:
		a.deviations = append(a.deviations, "further deviations not listed")
	}
}

// restart prepares for a new transfer (after ENQ) without dropping text.
func (a *assembler) restart() { a.last = -1 }

// add judges one frame given as STX ... C1 C2 [CR [LF]].
func (a *assembler) add(b []byte) (verdict, error) {
	f, err := DecodeFrame(b)
	if err != nil {
		return rejected, err
	}
	body := frameBody(b)
	next := 1
	if a.last >= 0 {
		next = (a.last + 1) % 8
		if f.Number == a.last && (a.strict || bytes.Equal(body, a.lastBytes)) {
			return duplicate, nil
		}
	}
	var deviation string
	if f.Number != next {
		if a.strict {
			return rejected, fmt.Errorf("%w: got frame %d, expected %d", ErrFrameSequence, f.Number, next)
		}
		deviation = fmt.Sprintf("frame number %d where %d was expected; accepted (checksum right)", f.Number, next)
		if f.Number == a.last {
			deviation = fmt.Sprintf("frame number %d repeated with different bytes; accepted as a new frame (checksum right)", f.Number)
		}
	}
	if len(a.text)+len(f.Text) > a.maxText {
		return rejected, fmt.Errorf("%w (%d bytes)", ErrMessageTooLarge, a.maxText)
	}
	a.undoText, a.undoLast, a.undoDev, a.undoBytes = len(a.text), a.last, len(a.deviations), a.lastBytes
	if deviation != "" {
		a.note("%s", deviation)
	}
	a.text = append(a.text, f.Text...)
	a.frames++
	a.last = f.Number
	a.lastFinal = f.Final
	a.lastBytes = append(a.lastBytes[:0:0], body...)
	return accepted, nil
}

// undo forgets the frame just accepted, so that when it is NAKed after all
// (Config.Commit failed) its retransmission is taken as new, not as a
// duplicate.
func (a *assembler) undo() {
	a.text = a.text[:a.undoText]
	a.frames--
	a.last = a.undoLast
	a.lastFinal = false
	a.lastBytes = a.undoBytes
	a.deviations = a.deviations[:a.undoDev]
}

// frameBody is a frame's FN through its checksum, the part a re-send
// repeats byte for byte (the trailing CR LF may differ).
func frameBody(b []byte) []byte {
	if i := bytes.IndexAny(b, "\x03\x17"); i >= 0 && i+3 <= len(b) {
		return b[1 : i+3]
	}
	return b
}

// Unframe extracts the message text from a recorded transcript of the line
// (for example Transfer.Raw, or a capture made with a serial sniffer),
// applying the tolerant rules of the live receiver: frames with a bad
// checksum are skipped, re-sent frames count once, and a transfer that the
// sender abandoned (EOT right after a rejected frame) is dropped. Texts of
// several transfers (ENQ ... EOT) are concatenated.
func Unframe(raw []byte) []byte {
	text, _ := UnframeReport(raw, false)
	return text
}

// UnframeReport is Unframe with the receiver's mode (strict: frames out of
// sequence are skipped, as the strict receiver NAKed them) and the list of
// deviations from E1381 that the tolerant receiver accepted, for the
// device's log.
func UnframeReport(raw []byte, strict bool) (text []byte, deviations []string) {
	a := newAssembler(len(raw), strict)
	transferStart, transferDev := 0, 0
	lastRejected := false
	for i := 0; i < len(raw); {
		switch raw[i] {
		case ENQ:
			a.restart()
			transferStart, transferDev = len(a.text), len(a.deviations)
			lastRejected = false
			i++
		case EOT:
			if lastRejected {
				a.text = a.text[:transferStart]
				a.deviations = a.deviations[:transferDev]
			}
			lastRejected = false
			i++
		case STX:
			end := frameEnd(raw, i)
			v, _ := a.add(raw[i:end])
			lastRejected = v == rejected
			i = end
		default:
			i++
		}
	}
	return a.text, a.deviations
}

// frameEnd returns the index just past the frame starting at raw[start]
// (an STX): through ETB/ETX and two checksum bytes, or up to the next STX,
// ENQ or EOT if the frame is cut short.
func frameEnd(raw []byte, start int) int {
	for i := start + 1; i < len(raw); i++ {
		switch raw[i] {
		case ETX, ETB:
			return min(i+3, len(raw))
		case STX, ENQ, EOT:
			return i
		}
	}
	return len(raw)
}
