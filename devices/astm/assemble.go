package astm

import "fmt"

// verdict is the receiver's answer to one frame.
type verdict int

const (
	accepted  verdict = iota // ACK, text kept
	duplicate                // ACK, text dropped: the sender missed our ACK and re-sent
	rejected                 // NAK
)

// assembler applies the receiver's acceptance rules to frames: it keeps the
// texts of accepted frames, recognises a re-sent frame, and rejects bad or
// out-of-sequence ones. The live Link and Unframe share it, so a stored
// transcript re-parses to exactly what the receiver accepted at the time.
type assembler struct {
	maxText   int
	text      []byte
	frames    int
	last      int  // number of the last accepted frame, -1 before the first
	lastFinal bool // the last accepted frame ended in ETX

	undoText, undoLast int // state before the last accepted frame, for undo
}

func newAssembler(maxText int) *assembler { return &assembler{maxText: maxText, last: -1} }

// restart prepares for a new transfer (after ENQ) without dropping text.
func (a *assembler) restart() { a.last = -1 }

// add judges one frame given as STX ... C1 C2 [CR [LF]].
func (a *assembler) add(b []byte) (verdict, error) {
	f, err := DecodeFrame(b)
	if err != nil {
		return rejected, err
	}
	next := 1
	if a.last >= 0 {
		if f.Number == a.last {
			return duplicate, nil
		}
		next = (a.last + 1) % 8
	}
	if f.Number != next {
		return rejected, fmt.Errorf("%w: got frame %d, expected %d", ErrFrameSequence, f.Number, next)
	}
	if len(a.text)+len(f.Text) > a.maxText {
		return rejected, fmt.Errorf("%w (%d bytes)", ErrMessageTooLarge, a.maxText)
	}
	a.undoText, a.undoLast = len(a.text), a.last
	a.text = append(a.text, f.Text...)
	a.frames++
	a.last = f.Number
	a.lastFinal = f.Final
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
}

// Unframe extracts the message text from a recorded transcript of the line
// (for example Transfer.Raw, or a capture made with a serial sniffer),
// applying the same rules as the live receiver: frames with a bad checksum
// or out of sequence are skipped, re-sent frames count once, and a transfer
// that the sender abandoned (EOT right after a rejected frame) is dropped.
// Texts of several transfers (ENQ ... EOT) are concatenated.
func Unframe(raw []byte) []byte {
	a := newAssembler(len(raw))
	transferStart := 0
	lastRejected := false
	for i := 0; i < len(raw); {
		switch raw[i] {
		case ENQ:
			a.restart()
			transferStart = len(a.text)
			lastRejected = false
			i++
		case EOT:
			if lastRejected {
				a.text = a.text[:transferStart]
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
	return a.text
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
