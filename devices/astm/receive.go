package astm

import (
	"bytes"
	"context"
	"errors"
)

// Receive waits for the instrument to send a message and returns it once
// the instrument ends it with EOT. Messages that arrived while Send was
// yielding the line are returned first.
//
// The wait for ENQ has no time limit: cancel ctx to stop. An *AbortError
// means one message was discarded (receiver timeout, sender gave up, too
// large) and the link is ready for the next; any other error means the
// link is unusable (port gone, ctx done, Close) and should be rebuilt.
func (l *Link) Receive(ctx context.Context) (*Transfer, error) {
	if len(l.queue) > 0 {
		t := l.queue[0]
		l.queue = l.queue[1:]
		return t, nil
	}
	for {
		b, err := l.readByte(ctx, nil)
		if err != nil {
			return nil, err
		}
		if b != ENQ {
			continue // neutral state: anything but a bid is noise
		}
		t, err := l.answerBid(ctx)
		if err != nil || t != nil {
			return t, err
		}
	}
}

// answerBid handles an ENQ just read: it replies NAK if the caller is busy,
// otherwise ACK, and receives the message. A nil Transfer with a nil error
// means there was nothing to deliver (busy, or an empty ENQ/EOT exchange).
func (l *Link) answerBid(ctx context.Context) (*Transfer, error) {
	if l.cfg.Busy != nil && l.cfg.Busy() {
		return nil, l.write(NAK)
	}
	if err := l.write(ACK); err != nil {
		return nil, err
	}
	return l.receiveFrames(ctx)
}

// receiveFrames is the receiver's transfer state, entered after ACKing ENQ.
func (l *Link) receiveFrames(ctx context.Context) (*Transfer, error) {
	l.raw = append(make([]byte, 0, 1024), ENQ)
	defer func() { l.raw = nil }()

	asm := newAssembler(l.cfg.MaxMessage, l.cfg.Strict)
	t := newTimer(l.cfg.Clock, l.cfg.ReceiveTimeout, true)
	lastReply := ACK
	tooLarge := false
	frame := make([]byte, 0, MaxFrameText+8)

	abort := func(reason error) (*Transfer, error) {
		return nil, &AbortError{Err: reason, Raw: l.raw}
	}
	for {
		b, err := l.readByte(ctx, t)
		switch {
		case errors.Is(err, errTimedOut):
			return abort(ErrReceiveTimeout)
		case err != nil:
			return nil, err
		}
		switch b {
		case EOT:
			switch {
			case tooLarge:
				return abort(ErrMessageTooLarge)
			case lastReply == NAK:
				return abort(ErrSenderAborted)
			case asm.frames == 0:
				return nil, nil // an empty bid: nothing to deliver
			}
			return &Transfer{Text: asm.text, Raw: l.raw, Frames: asm.frames, Deviations: asm.deviations}, nil
		case STX:
			// handled below
		default:
			continue // LF after the checksum, or noise between frames
		}

		var whole bool
		frame, whole, err = l.readFrame(ctx, t, frame[:0])
		switch {
		case errors.Is(err, errTimedOut):
			return abort(ErrReceiveTimeout)
		case errors.Is(err, errEOTInFrame):
			return abort(ErrSenderAborted)
		case err != nil:
			return nil, err
		}
		v := rejected
		if whole {
			var ferr error
			v, ferr = asm.add(frame)
			tooLarge = tooLarge || errors.Is(ferr, ErrMessageTooLarge)
			if v == accepted && asm.lastFinal && l.cfg.Commit != nil {
				if err := l.cfg.Commit(bytes.Clone(l.raw)); err != nil {
					asm.undo()
					v = rejected
				}
			}
		}
		tooLarge = tooLarge || len(l.raw) >= l.rawMax
		lastReply = ACK
		if v == rejected {
			lastReply = NAK
		}
		if err := l.write(lastReply); err != nil {
			return nil, err
		}
	}
}

var errEOTInFrame = errors.New("astm: EOT inside a frame")

// readFrame collects a frame whose STX was just read, through ETB/ETX and
// the two checksum characters, into dst. The reply goes out right after the
// checksum: waiting for CR LF would hang on instruments that omit them, and
// whatever trails the checksum is skipped as inter-frame noise.
// A frame longer than MaxFrame is read to its end but not kept (whole is
// false), so the caller NAKs it without holding it in memory.
func (l *Link) readFrame(ctx context.Context, t *timer, dst []byte) (frame []byte, whole bool, err error) {
	dst = append(dst, STX)
	whole = true
	keep := func(b byte) {
		if len(dst) < l.cfg.MaxFrame {
			dst = append(dst, b)
		} else {
			whole = false
		}
	}
	for {
		b, err := l.readByte(ctx, t)
		if err != nil {
			return dst, false, err
		}
		switch b {
		case STX: // the sender restarted the frame
			dst, whole = append(dst[:0], STX), true
			continue
		case EOT:
			return dst, false, errEOTInFrame
		}
		keep(b)
		if b != ETX && b != ETB {
			continue
		}
		for range 2 {
			c, err := l.readByte(ctx, t)
			if err != nil {
				return dst, false, err
			}
			keep(c)
		}
		return dst, whole, nil
	}
}
