package lis

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/store"
)

// Consumer is the worker's name in the outbox cursors.
const Consumer = "lis"

// Config configures a Worker; zero fields take the defaults.
type Config struct {
	Store       *store.Store
	Log         *slog.Logger
	Poll        time.Duration // how often destinations and due messages are re-read: 2 s
	DialTimeout time.Duration // 5 s
	AckTimeout  time.Duration // how long to wait for an ACK: 10 s
	MinBackoff  time.Duration // first retry delay: 5 s, doubling
	MaxBackoff  time.Duration // longest retry delay: 5 min (a LIS that is down loses nothing)
	TLS         *tls.Config   // for destinations with TLS; nil: the system's roots
}

// Worker builds and sends the messages.
type Worker struct {
	c    Config
	wake chan struct{}
	cur  *store.ConsumerCursor // read at the first pass; Run's goroutine only
}

// New returns a worker; call Run.
func New(c Config) *Worker {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Poll <= 0 {
		c.Poll = 2 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 10 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 5 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	return &Worker{c: c, wake: make(chan struct{}, 1)}
}

// Wake makes the worker look for work now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends. Destinations are re-read on every pass, so one
// added or removed from the command line is picked up within Poll.
func (w *Worker) Run(ctx context.Context) error {
	notify, unsubscribe := w.c.Store.SubscribeConsumer()
	defer unsubscribe()
	defer w.flushCursor()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if err := w.consume(ctx); err != nil && ctx.Err() == nil {
			w.c.Log.Error("lis: read outbox", "err", err)
		}
		if err := w.deliver(ctx); err != nil && ctx.Err() == nil {
			w.c.Log.Error("lis: deliver", "err", err)
		}
		timer.Reset(w.sleep(ctx))
		select {
		case <-ctx.Done():
			return nil
		case <-notify:
		case <-w.wake:
		case <-timer.C:
		}
	}
}

func (w *Worker) sleep(ctx context.Context) time.Duration {
	next, err := w.c.Store.NextLISAttemptAt(ctx)
	if err != nil || next.IsZero() {
		return w.c.Poll
	}
	return min(max(next.Sub(w.c.Store.Now()), 20*time.Millisecond), w.c.Poll)
}

// consume turns new outbox events into queued messages; the messages and
// the cursor commit together. Events that give no message move the cursor
// lazily (store.ConsumerCursor): most never concern a LIS.
func (w *Worker) consume(ctx context.Context) error {
	st := w.c.Store
	if w.cur == nil {
		cur, err := st.OpenCursor(ctx, Consumer)
		if err != nil {
			return err
		}
		w.cur = cur
	}
	for {
		evs, err := st.EventsAfter(ctx, 0, w.cur.Position(), 200)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return w.cur.Skip(ctx, w.cur.Position())
		}
		through := evs[len(evs)-1].ID
		msgs, err := w.messages(ctx, evs)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			if err := w.cur.Skip(ctx, through); err != nil {
				return err
			}
		} else {
			n, err := st.QueueLISMessages(ctx, Consumer, through, msgs)
			if err != nil {
				return err
			}
			w.cur.Wrote(through)
			if n > 0 {
				w.c.Log.Info("lis: messages queued", "count", n)
			}
		}
		if len(evs) < 200 {
			return nil
		}
	}
}

// messages builds the messages of evs for the destinations there are now;
// the destinations are read only when an event can give a message.
func (w *Worker) messages(ctx context.Context, evs []store.Event) ([]store.LISMessage, error) {
	if !slices.ContainsFunc(evs, func(ev store.Event) bool { return lisEvent(ev.Type) }) {
		return nil, nil
	}
	st := w.c.Store
	all, err := st.LISDestinations(ctx, 0)
	if err != nil {
		return nil, err
	}
	dests := map[int64][]store.LISDestination{}
	for _, d := range all {
		dests[d.OrgID] = append(dests[d.OrgID], d)
	}
	b := &builder{st: st, maps: map[int64]*store.CodeMap{}, orgs: map[int64]*store.Org{}}
	var msgs []store.LISMessage
	for _, ev := range evs {
		if !lisEvent(ev.Type) || len(dests[ev.OrgID]) == 0 {
			continue
		}
		ms, err := b.forEvent(ctx, ev, dests[ev.OrgID])
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", ev.ID, err)
		}
		msgs = append(msgs, ms...)
	}
	return msgs, nil
}

// flushCursor stores the cursor's position when the worker stops, so that
// a restart does not read the events skipped since again.
func (w *Worker) flushCursor() {
	if w.cur == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.cur.Flush(ctx); err != nil {
		w.c.Log.Error("lis: store cursor", "err", err)
	}
}

// deliver sends each destination's due messages, in order, over one
// connection per pass.
func (w *Worker) deliver(ctx context.Context) error {
	dests, err := w.c.Store.LISDestinations(ctx, 0)
	if err != nil {
		return err
	}
	for _, d := range dests {
		if ctx.Err() != nil {
			return nil
		}
		msgs, err := w.c.Store.NextLISMessages(ctx, d.ID, 50)
		if err != nil {
			return err
		}
		if len(msgs) > 0 {
			w.send(ctx, d, msgs)
		}
	}
	return nil
}

// send delivers msgs in order and stops at the first that is not accepted,
// so a correction never overtakes what it corrects.
func (w *Worker) send(ctx context.Context, d store.LISDestination, msgs []store.LISMessage) {
	conn, err := w.dial(ctx, d)
	if err != nil {
		w.record(ctx, msgs[0], store.LISAttempt{Err: "connect: " + short(err)})
		w.c.Log.Warn("lis: cannot connect", "destination", d.Name, "addr", d.Addr(), "err", short(err))
		return
	}
	defer conn.Close()
	rd := hl7.NewMLLPReader(conn, 1<<20)
	for _, m := range msgs {
		a := w.exchange(conn, rd, m)
		w.record(ctx, m, a)
		if !a.Acked {
			w.c.Log.Warn("lis: not accepted", "destination", d.Name, "message", m.ID, "control_id", m.ControlID,
				"ack", a.AckCode, "err", a.Err, "attempt", m.Attempts+1)
			return
		}
		w.c.Log.Info("lis: accepted", "destination", d.Name, "message", m.ID, "control_id", m.ControlID)
	}
}

func (w *Worker) dial(ctx context.Context, d store.LISDestination) (net.Conn, error) {
	dialer := &net.Dialer{Timeout: w.c.DialTimeout}
	if d.TLS {
		cfg, err := w.tlsConfig(d)
		if err != nil {
			return nil, err
		}
		td := &tls.Dialer{NetDialer: dialer, Config: cfg}
		return td.DialContext(ctx, "tcp", d.Addr())
	}
	return dialer.DialContext(ctx, "tcp", d.Addr())
}

// tlsConfig is how the destination's certificate is trusted:
//
//   - a CA (d.TLSCA): the certificate must chain to it and name the host;
//   - a pin (d.TLSPin): the certificate must be exactly that one (SHA-256
//     of its DER bytes); a LIS with a self-signed certificate is trusted
//     this way, so the host name is not checked, the pin is stronger;
//     with a CA as well, the chain and host name are checked too;
//   - neither: the system's roots (Config.TLS in tests) and the host name.
//
// A certificate that fails is refused at the handshake: the attempt is
// recorded and logged as a connection error, and retried with backoff.
func (w *Worker) tlsConfig(d store.LISDestination) (*tls.Config, error) {
	cfg := w.c.TLS
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = d.Host
	}
	if d.TLSCA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(d.TLSCA)) {
			return nil, errors.New("the destination's CA is not PEM certificates")
		}
		cfg.RootCAs = pool
	}
	if d.TLSPin == "" {
		return cfg, nil
	}
	want, err := hex.DecodeString(d.TLSPin)
	if err != nil || len(want) != sha256.Size {
		return nil, errors.New("the destination's certificate pin is not a SHA-256 fingerprint")
	}
	roots, name, checkChain := cfg.RootCAs, cfg.ServerName, d.TLSCA != ""
	cfg.InsecureSkipVerify = true // replaced by VerifyConnection below
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the LIS sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		if got := sha256.Sum256(leaf.Raw); subtle.ConstantTimeCompare(got[:], want) != 1 {
			return fmt.Errorf("the LIS's certificate (SHA-256 %x) is not the pinned one", got)
		}
		if !checkChain {
			return nil
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name})
		return err
	}
	return cfg, nil
}

// exchange writes one message and reads its ACK.
func (w *Worker) exchange(conn net.Conn, rd *hl7.MLLPReader, m store.LISMessage) store.LISAttempt {
	conn.SetDeadline(time.Now().Add(w.c.AckTimeout))
	if err := hl7.WriteMLLP(conn, m.Message); err != nil {
		return store.LISAttempt{Err: "send: " + short(err)}
	}
	raw, err := rd.ReadMessage()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return store.LISAttempt{Err: "no ACK within " + w.c.AckTimeout.String()}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return store.LISAttempt{Err: "the LIS closed the connection before acknowledging"}
		}
		return store.LISAttempt{Err: "read ACK: " + short(err)}
	}
	a := store.LISAttempt{Ack: raw}
	ack, err := hl7.Parse(raw)
	if err != nil {
		a.Err = "unreadable ACK: " + short(err)
		return a
	}
	code, id, ok := hl7.AckOf(ack)
	if !ok {
		a.Err = "the answer has no MSA segment"
		return a
	}
	a.AckCode = string(code)
	if id != m.ControlID {
		a.Err = fmt.Sprintf("ACK for control id %q, not %q", id, m.ControlID)
		return a
	}
	switch code {
	case hl7.AA, "CA":
		a.Acked = true
	default:
		msa, _ := ack.Segment("MSA")
		a.Err = "the LIS answered " + string(code)
		if t := msa.Field(3).String(); t != "" {
			a.Err += ": " + t
		}
	}
	return a
}

// record stores an attempt, with the next try after a failure.
func (w *Worker) record(ctx context.Context, m store.LISMessage, a store.LISAttempt) {
	a.At = w.c.Store.Now()
	if !a.Acked {
		a.NextAt = a.At.Add(w.backoff(m.Attempts + 1))
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.c.Store.RecordLISAttempt(rctx, m.ID, a); err != nil {
		w.c.Log.Error("lis: record attempt", "message", m.ID, "err", err)
	}
}

// backoff is MinBackoff doubling per failed attempt, capped at MaxBackoff;
// there is no last attempt: a LIS that is down for a day still gets
// everything once it is back.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.c.MinBackoff
	for i := 1; i < attempts && d < w.c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.c.MaxBackoff)
}

func short(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// controlID is the message's MSH-10: unique per event and destination,
// and at most 20 characters as HL7 2.5 asks.
func controlID(eventID, destID int64) string {
	return "CB" + strconv.FormatInt(eventID, 36) + "." + strconv.FormatInt(destID, 36)
}
