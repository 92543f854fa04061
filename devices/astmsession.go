package devices

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/store"
)

// maxGateBuffer bounds what the gate keeps of one transfer.
const maxGateBuffer = 16 << 20

// ackGate sits between the ASTM link and the port. E1381 acknowledges
// frame by frame, and the ACK of a message's last frame (ETX) tells the
// instrument its message was delivered; the gate holds that ACK until the
// bytes received so far are stored. If storing fails, the frame is NAKed
// instead, so the instrument sends it again rather than forget a message we
// do not have.
//
// The protocol is half duplex: while the link decides on a frame, the
// instrument waits, so the bytes read so far end with that frame.
type ackGate struct {
	rw      io.ReadWriter
	onFinal func(raw []byte) error

	mu  sync.Mutex
	buf []byte // bytes read since the current transfer's ENQ (roughly)
}

func (g *ackGate) Read(p []byte) (int, error) {
	n, err := g.rw.Read(p)
	if n > 0 {
		g.mu.Lock()
		if len(g.buf)+n > maxGateBuffer {
			g.buf = g.buf[:0]
		}
		g.buf = append(g.buf, p[:n]...)
		g.mu.Unlock()
	}
	return n, err
}

func (g *ackGate) Write(p []byte) (int, error) {
	if len(p) == 1 && p[0] == astm.ACK {
		if snapshot := g.finalFrame(); snapshot != nil {
			if err := g.onFinal(snapshot); err != nil {
				if _, werr := g.rw.Write([]byte{astm.NAK}); werr != nil {
					return 0, werr
				}
				return 1, nil
			}
		}
	}
	return g.rw.Write(p)
}

// finalFrame returns the transfer so far (from its ENQ) when the frame
// about to be ACKed is a valid end frame (ETX); else nil.
func (g *ackGate) finalFrame() []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := bytes.LastIndexByte(g.buf, astm.ENQ); i > 0 {
		g.buf = append(g.buf[:0], g.buf[i:]...)
	}
	j := bytes.LastIndexByte(g.buf, astm.STX)
	if j < 0 {
		return nil
	}
	f, err := astm.DecodeFrame(bytes.TrimRight(g.buf[j:], "\r\n"))
	if err != nil || !f.Final {
		return nil
	}
	return bytes.Clone(g.buf)
}

// runASTM receives ASTM transfers until the port fails: each is stored
// before its last frame is acknowledged, then ingested; host queries are
// answered with the patient and orders of the queried sample.
func (r *runner) runASTM(ctx context.Context, port io.ReadWriter) error {
	var cur int64 // stored row of the transfer being received
	gate := &ackGate{rw: port}
	gate.onFinal = func(raw []byte) error {
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
	cfg := r.m.opt.ASTM
	link := astm.NewLink(gate, cfg)
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
				if err := r.ingestASTM(ctx, link, id, nil); err != nil {
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
			return err
		}
		if t == nil {
			continue
		}
		id := cur
		cur = 0
		if id == 0 {
			m := &store.DeviceMessage{Direction: "in", Raw: t.Raw}
			if err := r.save(ctx, m); err != nil {
				return err
			}
			id = m.ID
		} else {
			sctx, cancel := storeCtx(ctx)
			err := r.m.st.UpdateDeviceMessageRaw(sctx, r.dev.OrgID, id, t.Raw)
			cancel()
			if err != nil {
				return fmt.Errorf("store message %d: %w", id, err)
			}
		}
		if err := r.ingestASTM(ctx, link, id, t.Raw); err != nil {
			return err
		}
	}
}

// ingestASTM ingests a stored transfer (raw nil: read it back) and answers
// its host queries.
func (r *runner) ingestASTM(ctx context.Context, link *astm.Link, id int64, raw []byte) error {
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
	if err := r.record(ctx, id, in); err != nil {
		return err
	}
	for _, q := range msgs {
		if len(q.Queries) == 0 {
			continue
		}
		answer, err := answerQueries(context.WithoutCancel(ctx), r.m.st, r.dev.OrgID, q, r.m.st.Now().In(r.loc))
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
