package sim

import (
	"context"
	"fmt"

	"github.com/clinicbox/clinicbox/devices/hl7"
)

// sendHL7 writes msg in an MLLP frame and waits for the host's ACK.
func (in *Instrument) sendHL7(ctx context.Context, msg []byte) (Report, error) {
	var rep Report
	if err := hl7.WriteMLLP(in.w, msg); err != nil {
		return rep, fmt.Errorf("sim: %w", err)
	}
	ack, err := in.readMLLP(ctx)
	if err != nil {
		return rep, fmt.Errorf("sim: waiting for ACK: %w", err)
	}
	rep.Ack = ack
	m, err := hl7.Parse(ack)
	if err != nil {
		return rep, fmt.Errorf("sim: ACK: %w", err)
	}
	code, _, ok := hl7.AckOf(m)
	switch {
	case !ok:
		return rep, fmt.Errorf("sim: ACK has no MSA segment")
	case code != hl7.AA && code != "CA":
		return rep, fmt.Errorf("sim: host answered %s", code)
	}
	return rep, nil
}

// readMLLP reads one MLLP frame from the host within the reply timeout.
func (in *Instrument) readMLLP(ctx context.Context) ([]byte, error) {
	tc := in.cfg.Clock.After(in.cfg.ReplyTimeout)
	var msg []byte
	inFrame := false
	for {
		b, err := in.readByte(ctx, tc)
		if err != nil {
			return nil, err
		}
		switch {
		case b == 0x0B:
			inFrame, msg = true, msg[:0]
		case !inFrame:
		case b == 0x1C:
			return msg, nil
		case len(msg) >= hl7.DefaultMaxMessage:
			return nil, hl7.ErrMessageTooLarge
		default:
			msg = append(msg, b)
		}
	}
}
