package devices

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/store"
)

// runASTM receives ASTM transfers until the port fails: each is stored
// before its last frame is acknowledged, then ingested; host queries are
// answered with the patient and orders of the queried sample.
func (r *runner) runASTM(ctx context.Context, port io.ReadWriter) error {
	var cur int64 // stored row of the transfer being received
	cfg := r.m.opt.ASTM
	cfg.Strict = r.dev.StrictFraming
	// E1381 acknowledges frame by frame, and the ACK of a message's last
	// frame (ETX) tells the instrument its message was delivered: the link
	// calls Commit first, and NAKs the frame if the bytes could not be
	// stored, so the instrument sends it again rather than forget a message
	// we do not have. Later end frames of the same transfer update the row.
	cfg.Commit = func(raw []byte) error {
		if cur == 0 {
			m := &store.DeviceMessage{Direction: "in", Raw: raw}
			if err := r.save(ctx, m); err != nil {
				r.fail(err)
				return err
			}
			cur = m.ID
			return nil
		}
		sctx, cancel := storeCtx(ctx)
		defer cancel()
		return r.m.st.UpdateDeviceMessageRaw(sctx, r.dev.OrgID, cur, raw)
	}
	link := astm.NewLink(port, cfg)
	defer link.Close()
	for {
		t, err := link.Receive(ctx)
		var abort *astm.AbortError
		if errors.As(err, &abort) {
			// The messages acknowledged before the abort are stored: ingest
			// them. The discarded rest is kept for the log only.
			if cur != 0 {
				id := cur
				cur = 0
				if err := r.ingestASTM(ctx, link, id, nil, nil); err != nil {
					return err
				}
			}
			m := &store.DeviceMessage{Direction: "in", Kind: "aborted", Raw: abort.Raw, Status: store.MessageIgnored, Error: abort.Error()}
			if err := r.save(ctx, m); err != nil {
				return err
			}
			r.fail(abort)
			continue
		}
		if err != nil {
			// The port is gone mid-transfer: what was acknowledged is stored
			// and is ingested now; the rest the instrument sends again.
			if cur != 0 {
				if ierr := r.ingestASTM(context.WithoutCancel(ctx), nil, cur, nil, nil); ierr != nil {
					r.fail(ierr)
				}
			}
			return err
		}
		if t == nil {
			continue
		}
		id := cur
		cur = 0
		final := t.Raw
		if id == 0 {
			m := &store.DeviceMessage{Direction: "in", Raw: t.Raw}
			if err := r.save(ctx, m); err != nil {
				return err
			}
			id, final = m.ID, nil
		}
		if err := r.ingestASTM(ctx, link, id, t.Raw, final); err != nil {
			return err
		}
	}
}

// ingestASTM ingests a stored transfer (raw nil: read it back) and answers
// its host queries. final, if set, is the whole transcript, stored with the
// observations in place of what was stored before the last ACK.
func (r *runner) ingestASTM(ctx context.Context, link *astm.Link, id int64, raw, final []byte) error {
	if raw == nil {
		msg, err := r.m.st.DeviceMessage(context.WithoutCancel(ctx), r.dev.OrgID, id)
		if err != nil {
			return fmt.Errorf("read message %d: %w", id, err)
		}
		raw = msg.Raw
	}
	in, msgs, err := ingestASTM(context.WithoutCancel(ctx), r.m.st, &r.dev, raw, r.loc)
	if err != nil {
		return fmt.Errorf("ingest message %d: %w", id, err)
	}
	in.Raw = final
	if err := r.record(ctx, id, in); err != nil {
		return err
	}
	for _, q := range msgs {
		if len(q.Queries) == 0 || link == nil {
			continue
		}
		answer, err := answerQueries(context.WithoutCancel(ctx), r.m.st, &r.dev, q, r.m.st.Now().In(r.loc))
		if err != nil {
			r.fail(err)
			continue
		}
		out := &store.DeviceMessage{Direction: "out", Kind: "query-reply", Raw: answer, ReplyTo: id}
		if err := r.save(ctx, out); err != nil {
			return err
		}
		if err := link.Send(ctx, answer); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.fail(fmt.Errorf("answer query of message %d: %w", id, err))
		}
	}
	return nil
}
