package astm

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Send delivers text (records separated by CR, as made by Encode) to the
// instrument: it bids with ENQ, sends the text in frames of FrameSize bytes
// and ends with EOT.
//
// The host gives way to the instrument, as the standard requires: a NAK to
// our ENQ (busy) makes Send wait BusyDelay and bid again; an ENQ in reply
// (contention) makes it receive the instrument's message first and bid again
// after ContentionDelay. Messages received meanwhile are returned by the
// following calls to Receive. Bidding continues until ctx ends.
//
// A frame is sent at most MaxAttempts times; then, or when the receiver
// stays silent for ReplyTimeout, Send ends the transmission with EOT and
// returns ErrTooManyAttempts or ErrReplyTimeout. An EOT reply (receiver
// interrupt) counts as ACK for that frame and stops the transmission; Send
// returns ErrInterrupted if frames were left unsent.
func (l *Link) Send(ctx context.Context, text []byte) error {
	if len(text) == 0 {
		return errors.New("astm: send: empty message")
	}
	frames := SplitFrames(text, l.cfg.FrameSize)
	if err := l.establish(ctx); err != nil {
		return fmt.Errorf("astm: send: %w", err)
	}
	var wire []byte
	for i, f := range frames {
		wire = AppendFrame(wire[:0], f)
		interrupted, err := l.sendFrame(ctx, wire)
		if err != nil {
			return fmt.Errorf("astm: send frame %d of %d: %w", i+1, len(frames), err)
		}
		if interrupted {
			if err := l.write(EOT); err != nil {
				return err
			}
			if i < len(frames)-1 {
				return fmt.Errorf("astm: send: after frame %d of %d: %w", i+1, len(frames), ErrInterrupted)
			}
			return nil
		}
	}
	return l.write(EOT)
}

// establish bids for the line until the instrument ACKs our ENQ.
func (l *Link) establish(ctx context.Context) error {
	for {
		if l.pendingENQ() {
			// The instrument bid while we were idle: it goes first.
			if err := l.yield(ctx, l.cfg.ContentionDelay); err != nil {
				return err
			}
			continue
		}
		if err := l.write(ENQ); err != nil {
			return err
		}
		reply, err := l.awaitReply(ctx, func(b byte) bool { return b == ACK || b == NAK || b == ENQ })
		if errors.Is(err, errTimedOut) {
			return l.giveUp(ErrReplyTimeout)
		}
		if err != nil {
			return err
		}
		switch reply {
		case ACK:
			return nil
		case NAK: // receiver busy
			err = l.yield(ctx, l.cfg.BusyDelay)
		case ENQ: // contention: the instrument has priority
			err = l.yield(ctx, l.cfg.ContentionDelay)
		}
		if err != nil {
			return err
		}
	}
}

// sendFrame transmits one encoded frame until it is acknowledged.
func (l *Link) sendFrame(ctx context.Context, wire []byte) (interrupted bool, err error) {
	for attempt := 1; ; attempt++ {
		if err := l.write(wire...); err != nil {
			return false, err
		}
		// In the transfer phase every reply counts: anything but ACK or
		// EOT is a NAK.
		reply, err := l.awaitReply(ctx, func(byte) bool { return true })
		switch {
		case errors.Is(err, errTimedOut):
			return false, l.giveUp(ErrReplyTimeout)
		case err != nil:
			return false, err
		case reply == ACK:
			return false, nil
		case reply == EOT:
			return true, nil
		case attempt >= l.cfg.MaxAttempts:
			return false, l.giveUp(fmt.Errorf("%w (%d attempts)", ErrTooManyAttempts, attempt))
		}
	}
}

// awaitReply waits up to ReplyTimeout for a byte that want accepts,
// ignoring the others.
func (l *Link) awaitReply(ctx context.Context, want func(byte) bool) (byte, error) {
	t := newTimer(l.cfg.Clock, l.cfg.ReplyTimeout, false)
	for {
		b, err := l.readByte(ctx, t)
		if err != nil {
			return 0, err
		}
		if want(b) {
			return b, nil
		}
	}
}

// giveUp ends a failed transmission with EOT, as the standard requires, and
// returns reason.
func (l *Link) giveUp(reason error) error {
	if err := l.write(EOT); err != nil {
		return errors.Join(reason, err)
	}
	return reason
}

// yield keeps the line for the instrument for d: any bid it makes in that
// time is answered and its message queued for Receive. A message still
// arriving when d ends is received to its end first.
func (l *Link) yield(ctx context.Context, d time.Duration) error {
	t := newTimer(l.cfg.Clock, d, false)
	for {
		b, err := l.readByte(ctx, t)
		if errors.Is(err, errTimedOut) {
			return nil
		}
		if err != nil {
			return err
		}
		if b != ENQ {
			continue
		}
		tr, err := l.answerBid(ctx)
		var abort *AbortError
		switch {
		case errors.As(err, &abort):
			// Discarded, as in Receive; the instrument will send it again.
		case err != nil:
			return err
		case tr != nil:
			l.queue = append(l.queue, tr)
		}
	}
}
