package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/envelope"
)

// Consumer is the telehealth webhook worker's name in the events outbox
// cursors.
const Consumer = "webhooks"

// One worker delivers both webhook families: the telehealth webhooks
// (envelope-encrypted payloads, several in flight) and the POCT webhooks
// (signed JSON bodies, one at a time so a receiver sees a clinic's events
// in order). A channel is what differs: where the deliveries are queued
// and claimed, and how one is turned into a request. The crash-safety
// argument is the same for both and lives here:
//
//   - outbox events become deliveries in the same store write that moves
//     the channel's cursor: a crash adds nothing twice and loses nothing;
//     events that give no delivery move the cursor in memory only, stored
//     when it trails far enough or the worker stops (store.ConsumerCursor):
//     a crash makes the worker read them again, and they give nothing again;
//   - a delivery is claimed with a lease (its next attempt pushed past any
//     attempt's length) before it is posted, and its outcome recorded
//     after: if the process dies in between, the lease runs out and it is
//     posted again (at least once; the delivery id header lets a receiver
//     drop the duplicate);
//   - a worker told to stop releases what it claimed but did not try.

// channel is one webhook family's storage and wire format.
type channel interface {
	name() string     // for logs: "webhooks", "poct webhooks"
	consumer() string // the outbox cursor
	// queue turns outbox events into deliveries and moves the cursor past
	// the last one, in one store write; it returns how many were added and
	// whether it wrote. When no event can give a delivery it writes nothing
	// (the worker moves the cursor lazily: store.ConsumerCursor).
	queue(ctx context.Context, evs []store.Event) (added int, wrote bool, err error)
	nextDue(ctx context.Context) (time.Time, error)
	claim(ctx context.Context, lease time.Duration, limit int, skip []int64) ([]delivery, error)
	record(ctx context.Context, id int64, a store.DeliveryAttempt) error
	release(ctx context.Context, id int64) error
}

// delivery is a claimed delivery as the worker sees it.
type delivery struct {
	id       int64
	attempts int   // made before this one
	log      []any // what identifies it in logs (never a key or the body)
	request  func(ctx context.Context, now time.Time) (*http.Request, error)
}

// Config configures a Worker; zero fields take the defaults.
type Config struct {
	Store    *store.Store
	Log      *slog.Logger
	Client   *http.Client  // default: 10 s timeout, no redirects followed
	Backoff  Backoff       // default DefaultBackoff
	Parallel int           // deliveries in flight at most; default 4
	Poll     time.Duration // longest sleep between checks; default 30 s
}

// Worker consumes the outbox and delivers one family's webhooks.
type Worker struct {
	st       *store.Store
	ch       channel
	log      *slog.Logger
	client   *http.Client
	backoff  Backoff
	parallel int
	poll     time.Duration
	wake     chan struct{}
	cur      *store.ConsumerCursor // read at the first pass; Run's goroutine only
}

// New returns the telehealth webhook worker; call Run.
func New(c Config) *Worker { return newWorker(c, telehealth{c.Store}) }

func newWorker(c Config, ch channel) *Worker {
	w := &Worker{st: c.Store, ch: ch, log: c.Log, client: c.Client, backoff: c.Backoff, parallel: c.Parallel, poll: c.Poll,
		wake: make(chan struct{}, 1)}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.client == nil {
		w.client = &http.Client{
			Timeout: 10 * time.Second,
			// A redirect is an answer that is not 2xx: retried, not followed
			// (following would post the payload somewhere not configured).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if w.backoff.Base == 0 {
		w.backoff = DefaultBackoff
	}
	if w.parallel <= 0 {
		w.parallel = 4
	}
	if w.poll <= 0 {
		w.poll = 30 * time.Second
	}
	return w
}

// Wake makes the worker look for new events and due deliveries now (tests
// that move the store's clock; the admin page's "retry now" goes through an
// event instead).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// lease is how long a claimed delivery is reserved for its attempt: longer
// than any attempt can take.
func (w *Worker) lease() time.Duration {
	t := w.client.Timeout
	if t <= 0 {
		t = time.Minute
	}
	return t + time.Minute
}

type result struct {
	id      int64
	attempt store.DeliveryAttempt
	stopped bool // the worker stopped before an attempt was made
}

// Run works until ctx ends, then waits for the deliveries in flight.
func (w *Worker) Run(ctx context.Context) error {
	notify, unsubscribe := w.st.SubscribeConsumer()
	defer unsubscribe()
	defer w.flushCursor()
	done := make(chan result, w.parallel)
	inflight := map[int64]bool{}
	defer func() {
		for len(inflight) > 0 {
			w.finish(<-done, inflight)
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if err := w.consume(ctx); err != nil && ctx.Err() == nil {
			w.log.Error(w.ch.name()+": read outbox", "err", err)
		}
		next, err := w.dispatch(ctx, inflight, done)
		if err != nil && ctx.Err() == nil {
			w.log.Error(w.ch.name()+": claim deliveries", "err", err)
		}
		timer.Reset(w.sleep(next))
		select {
		case <-ctx.Done():
			return nil
		case <-notify:
		case <-w.wake:
		case r := <-done:
			w.finish(r, inflight)
		case <-timer.C:
		}
	}
}

// sleep is how long to wait for the next due delivery (at most poll).
func (w *Worker) sleep(next time.Time) time.Duration {
	if next.IsZero() {
		return w.poll
	}
	d := next.Sub(w.st.Now())
	return min(max(d, 50*time.Millisecond), w.poll)
}

// consume turns new outbox events into deliveries; the store commits them
// with the consumer's cursor, so a crash adds nothing twice. Events that
// give none move the cursor lazily (store.ConsumerCursor).
func (w *Worker) consume(ctx context.Context) error {
	if w.cur == nil {
		cur, err := w.st.OpenCursor(ctx, w.ch.consumer())
		if err != nil {
			return err
		}
		w.cur = cur
	}
	for {
		evs, err := w.st.EventsAfter(ctx, 0, w.cur.Position(), 500)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return w.cur.Skip(ctx, w.cur.Position())
		}
		through := evs[len(evs)-1].ID
		added, wrote, err := w.ch.queue(ctx, evs)
		if err != nil {
			return fmt.Errorf("enqueue deliveries: %w", err)
		}
		if wrote {
			w.cur.Wrote(through)
		} else if err := w.cur.Skip(ctx, through); err != nil {
			return err
		}
		if added > 0 {
			w.log.Debug(w.ch.name()+": deliveries queued", "count", added, "through_event", through)
		}
		if len(evs) < 500 {
			return nil
		}
	}
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
		w.log.Error(w.ch.name()+": store cursor", "err", err)
	}
}

// dispatch starts attempts for due deliveries while there is room, and
// returns when the next delivery is due (zero: none pending). A claim is a
// write; it is made only when the read says a delivery is due, not on
// every pass (each group of writes wakes the worker).
func (w *Worker) dispatch(ctx context.Context, inflight map[int64]bool, done chan<- result) (time.Time, error) {
	next, err := w.ch.nextDue(ctx)
	if err != nil {
		return time.Time{}, err
	}
	room := w.parallel - len(inflight)
	if room <= 0 || ctx.Err() != nil || next.IsZero() || next.After(w.st.Now()) {
		return next, nil
	}
	skip := make([]int64, 0, len(inflight))
	for id := range inflight {
		skip = append(skip, id)
	}
	ds, err := w.ch.claim(ctx, w.lease(), room, skip)
	if err != nil {
		return next, err // due: try again soon
	}
	for _, d := range ds {
		inflight[d.id] = true
		go func() { done <- w.attempt(ctx, d) }()
	}
	return w.ch.nextDue(ctx)
}

// finish records an attempt's outcome.
func (w *Worker) finish(r result, inflight map[int64]bool) {
	delete(inflight, r.id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r.stopped {
		if err := w.ch.release(ctx, r.id); err != nil {
			w.log.Error(w.ch.name()+": release delivery", "delivery", r.id, "err", err)
		}
		return
	}
	if err := w.ch.record(ctx, r.id, r.attempt); err != nil {
		w.log.Error(w.ch.name()+": record attempt", "delivery", r.id, "err", err)
	}
}

// attempt posts one delivery and decides what happens next. It never logs
// a key, a secret or the payload.
func (w *Worker) attempt(ctx context.Context, d delivery) result {
	res := result{id: d.id}
	now := w.st.Now()
	logAttrs := append([]any{"delivery", d.id}, d.log...)
	req, err := d.request(ctx, now)
	if err != nil {
		res.attempt = w.failed(d, 0, err.Error())
		return res
	}
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			res.stopped = true
			return res
		}
		res.attempt = w.failed(d, 0, transportError(err))
		w.log.Warn(w.ch.name()+": delivery failed", append(logAttrs, "attempt", d.attempts+1, "err", res.attempt.Err)...)
		return res
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		res.attempt = store.DeliveryAttempt{At: w.st.Now(), HTTPStatus: resp.StatusCode, Delivered: true}
		w.log.Info(w.ch.name()+": delivered", append(logAttrs, "attempt", d.attempts+1, "status", resp.StatusCode)...)
		return res
	}
	res.attempt = w.failed(d, resp.StatusCode, fmt.Sprintf("endpoint answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
	w.log.Warn(w.ch.name()+": delivery refused", append(logAttrs, "attempt", d.attempts+1, "status", resp.StatusCode,
		"given_up", res.attempt.GiveUp)...)
	return res
}

// failed schedules the retry of a failed attempt, or gives up.
func (w *Worker) failed(d delivery, status int, msg string) store.DeliveryAttempt {
	now := w.st.Now()
	delay, giveUp := w.backoff.Next(d.attempts + 1)
	a := store.DeliveryAttempt{At: now, HTTPStatus: status, Err: msg, GiveUp: giveUp}
	if !giveUp {
		a.NextAt = now.Add(delay)
	}
	return a
}

// telehealth is the telehealth webhooks: the documented payload sealed in
// the webhook's envelope (web/envelope), posted as text.
type telehealth struct{ st *store.Store }

func (telehealth) name() string     { return "webhooks" }
func (telehealth) consumer() string { return Consumer }

// queue writes only when some event has a webhook to go to: the store's
// write checks the webhooks again, this read only spares the write.
func (t telehealth) queue(ctx context.Context, evs []store.Event) (int, bool, error) {
	hooks := map[int64][]store.Webhook{} // org -> its active webhooks
	wanted := false
	for _, ev := range evs {
		if _, ok := Data(ev); !ok {
			continue
		}
		ws, ok := hooks[ev.OrgID]
		if !ok {
			var err error
			if ws, err = t.st.Webhooks(ctx, ev.OrgID, false); err != nil {
				return 0, false, err
			}
			hooks[ev.OrgID] = ws
		}
		if slices.ContainsFunc(ws, func(w store.Webhook) bool { return w.Subscribes(ev.Type) && !ev.CreatedAt.Before(w.CreatedAt) }) {
			wanted = true
			break
		}
	}
	if !wanted {
		return 0, false, nil
	}
	n, err := t.st.EnqueueDeliveries(ctx, Consumer, evs, Data)
	return n, err == nil, err
}

func (t telehealth) nextDue(ctx context.Context) (time.Time, error) { return t.st.NextDeliveryAt(ctx) }

func (t telehealth) record(ctx context.Context, id int64, a store.DeliveryAttempt) error {
	return t.st.RecordDeliveryAttempt(ctx, id, a)
}

func (t telehealth) release(ctx context.Context, id int64) error {
	return t.st.ReleaseDelivery(ctx, id)
}

func (t telehealth) claim(ctx context.Context, lease time.Duration, limit int, skip []int64) ([]delivery, error) {
	ds, err := t.st.ClaimDueDeliveries(ctx, lease, limit, skip)
	if err != nil {
		return nil, err
	}
	out := make([]delivery, len(ds))
	for i, d := range ds {
		out[i] = delivery{id: d.ID, attempts: d.Attempts, log: []any{"webhook", d.WebhookUUID, "event", d.EventType},
			request: func(ctx context.Context, _ time.Time) (*http.Request, error) {
				plain, err := body(d.EventType, d.Data)
				if err != nil {
					return nil, fmt.Errorf("build payload: %w", err)
				}
				sealed, err := envelope.Seal(d.EncryptionKey, plain)
				if err != nil {
					return nil, fmt.Errorf("encrypt payload: %w", err)
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint, bytes.NewBufferString(sealed))
				if err != nil {
					return nil, errors.New("bad endpoint")
				}
				// The body is the envelope itself, as the spec's PHP snippet
				// reads it ($encryptedString = file_get_contents('php://input')).
				req.Header.Set("Content-Type", "text/plain; charset=utf-8")
				req.Header.Set("User-Agent", "Clinicbox-Webhooks/1")
				req.Header.Set("X-Webhook-Id", d.WebhookUUID)
				req.Header.Set("X-Webhook-Delivery", fmt.Sprint(d.ID))
				return req, nil
			}}
	}
	return out, nil
}

// transportError is a short reason without the URL (which may carry a
// token in its query).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timed out"
	}
	return err.Error()
}
