package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clinicbox/clinicbox/devices/astm"
)

// The instrument's side of E1381. It is written independently of
// astm.Link (only the frame encoding is shared) so that the two check each
// other in tests.

const (
	busyDelay       = 10 * time.Second // after a NAK to our ENQ
	contentionDelay = time.Second      // after an ENQ in reply: the instrument bids again first
)

func (in *Instrument) sendASTM(ctx context.Context, text []byte) (Report, error) {
	var rep Report
	if len(text) == 0 {
		return rep, errors.New("sim: empty ASTM message")
	}
	if err := in.bid(ctx, &rep); err != nil {
		return rep, err
	}
	frames := in.frames(text)
	for i, f := range frames {
		for attempt := 1; ; attempt++ {
			wire := astm.AppendFrame(nil, f)
			if i+1 == in.cfg.CorruptFrame && attempt == 1 {
				rep.Corrupted = corrupt(wire)
			}
			if err := in.write(wire); err != nil {
				return rep, err
			}
			rep.Frames++
			reply, err := in.reply(ctx, func(byte) bool { return true })
			if err != nil {
				return rep, in.abort(err)
			}
			if reply == astm.ACK {
				break
			}
			if reply == astm.EOT { // receiver interrupt
				if err := in.write([]byte{astm.EOT}); err != nil {
					return rep, err
				}
				if i < len(frames)-1 {
					return rep, fmt.Errorf("sim: host interrupted after frame %d of %d", i+1, len(frames))
				}
				return rep, nil
			}
			rep.NAKs++
			if attempt >= in.cfg.MaxAttempts {
				return rep, in.abort(fmt.Errorf("sim: frame %d rejected %d times", i+1, attempt))
			}
		}
	}
	return rep, in.write([]byte{astm.EOT})
}

// bid sends ENQ until the host answers ACK.
func (in *Instrument) bid(ctx context.Context, rep *Report) error {
	for {
		if err := in.write([]byte{astm.ENQ}); err != nil {
			return err
		}
		reply, err := in.reply(ctx, func(b byte) bool { return b == astm.ACK || b == astm.NAK || b == astm.ENQ })
		if err != nil {
			return in.abort(err)
		}
		switch reply {
		case astm.ACK:
			return nil
		case astm.NAK:
			rep.NAKs++
			err = in.wait(ctx, busyDelay)
		case astm.ENQ:
			err = in.wait(ctx, contentionDelay)
		}
		if err != nil {
			return err
		}
	}
}

func (in *Instrument) reply(ctx context.Context, want func(byte) bool) (byte, error) {
	tc := in.cfg.Clock.After(in.cfg.ReplyTimeout)
	for {
		b, err := in.readByte(ctx, tc)
		if err != nil {
			return 0, err
		}
		if want(b) {
			return b, nil
		}
	}
}

// abort ends the transmission with EOT, as the standard asks of a sender
// that gives up.
func (in *Instrument) abort(reason error) error {
	if err := in.write([]byte{astm.EOT}); err != nil {
		return errors.Join(reason, err)
	}
	return reason
}

func (in *Instrument) frames(text []byte) []astm.Frame {
	switch in.cfg.Framing {
	case FrameSingle:
		return []astm.Frame{{Number: 1, Text: text, Final: true}}
	case FramePerRecord, FramePerRecordETX:
		var frames []astm.Frame
		n := 0
		for _, rec := range bytes.SplitAfter(text, []byte{astm.CR}) {
			if len(rec) == 0 {
				continue
			}
			if len(frames) > 0 && bytes.IndexByte([]byte(in.cfg.RestartNumbering), rec[0]) >= 0 {
				n = 0
			}
			for _, f := range astm.SplitFrames(rec, in.cfg.FrameSize) {
				n++
				f.Number = n % 8
				f.Final = in.cfg.Framing == FramePerRecordETX && f.Final
				frames = append(frames, f)
			}
		}
		frames[len(frames)-1].Final = true
		return frames
	}
	return astm.SplitFrames(text, in.cfg.FrameSize)
}

// corrupt damages one text byte of an encoded frame in place, leaving the
// checksum as it was, as line noise would; it returns the damaged text.
// A digit is changed to another digit (a plausible misread value), else a
// letter's case is flipped, else a checksum digit is changed.
func corrupt(wire []byte) []byte {
	text := wire[2 : len(wire)-5] // between FN and ETB/ETX
	for i, c := range text {
		switch {
		case c >= '0' && c <= '9':
			text[i] = '0' + (c-'0'+1)%10
			return bytes.Clone(text)
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			text[i] = c ^ 0x20
			return bytes.Clone(text)
		}
	}
	c1 := &wire[len(wire)-4]
	if *c1 == '0' {
		*c1 = '1'
	} else {
		*c1 = '0'
	}
	return bytes.Clone(text)
}
