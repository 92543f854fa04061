package devices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/store"
)

// maxHL7Message bounds one MLLP frame.
const maxHL7Message = 8 << 20

// runHL7 receives HL7 v2 messages framed with MLLP until the stream fails.
// Each is stored before it is acknowledged: AA when ingested, AE when it
// was stored but could not be ingested (it waits in the log for an admin),
// AR when it could not be parsed or stored (the sender should send again).
func (r *runner) runHL7(ctx context.Context, port io.ReadWriter) error {
	rd := hl7.NewMLLPReader(port, maxHL7Message)
	for {
		raw, err := rd.ReadMessage()
		if errors.Is(err, hl7.ErrMessageTooLarge) {
			r.fail(err)
			if err := hl7.WriteMLLP(port, hl7.NewACK(nil, hl7.AR, "message too large", "", r.m.st.Now().In(r.loc))); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		m := &store.DeviceMessage{Direction: "in", Raw: raw}
		if err := r.save(ctx, m); err != nil {
			r.fail(err)
			parsed, _ := hl7.Parse(raw)
			hl7.WriteMLLP(port, hl7.NewACK(parsed, hl7.AR, "could not store the message; send it again", "", r.m.st.Now().In(r.loc)))
			return err
		}
		in, parsed, err := hl7Ingestion(context.WithoutCancel(ctx), r.m.st, &r.dev, raw, r.loc)
		if err != nil {
			return fmt.Errorf("ingest message %d: %w", m.ID, err)
		}
		if n := rd.MissingCR(); n > 0 {
			in.Warnings = append(in.Warnings, fmt.Sprintf("%d earlier MLLP frame(s) ended without the CR after the end byte; accepted", n))
		}
		if err := r.record(ctx, m.ID, in); err != nil {
			return err
		}
		if in.Kind == "ack" {
			continue // never acknowledge an acknowledgement
		}
		code, text := hl7.AA, ""
		switch {
		case parsed == nil:
			code, text = hl7.AR, in.Error
		case in.Status == store.MessageFailed:
			code, text = hl7.AE, in.Error
		}
		ack := hl7.NewACK(parsed, code, text, fmt.Sprintf("CB%d", m.ID), r.m.st.Now().In(r.loc))
		out := &store.DeviceMessage{Direction: "out", Kind: "ack", Raw: ack, ReplyTo: m.ID}
		if err := r.save(ctx, out); err != nil {
			r.fail(err)
		}
		if err := hl7.WriteMLLP(port, ack); err != nil {
			return err
		}
	}
}

// runTCP listens on the device's TCP address for HL7 (MLLP) connections;
// each connection runs its own session, and a failed one never stops the
// listener. A listener that cannot start is retried with backoff.
func (r *runner) runTCP(ctx context.Context) {
	backoff := r.m.opt.MinBackoff
	for ctx.Err() == nil {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", r.dev.TCPAddr)
		if err != nil {
			r.fail(fmt.Errorf("listen %s: %w", r.dev.TCPAddr, err))
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, r.m.opt.MaxBackoff)
			continue
		}
		backoff = r.m.opt.MinBackoff
		r.connected(ln.Addr().String(), true)
		r.log.Info("listening for HL7 over MLLP", "addr", ln.Addr().String())
		r.acceptLoop(ctx, ln)
		r.connected(r.dev.TCPAddr, false)
	}
}

func (r *runner) acceptLoop(ctx context.Context, ln net.Listener) {
	var wg sync.WaitGroup
	conns := map[net.Conn]struct{}{}
	var mu sync.Mutex
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				r.fail(fmt.Errorf("accept on %s: %w", r.dev.TCPAddr, err))
				ln.Close()
			}
			return
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					r.fail(fmt.Errorf("driver panicked: %v", p))
				}
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			if err := r.runHL7(ctx, c); err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
				r.log.Info("HL7 connection ended", "remote", c.RemoteAddr().String(), "err", err)
			}
		})
	}
}
