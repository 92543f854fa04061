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
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/envelope"
)

// Consumer is the worker's name in the events outbox cursors.
const Consumer = "webhooks"

// Config configures a Worker; zero fields take the defaults.
type Config struct {
	Store    *store.Store
	Log      *slog.Logger
	Client   *http.Client  // default: 10 s timeout, no redirects followed
	Backoff  Backoff       // default DefaultBackoff
	Parallel int           // deliveries in flight at most; default 4
	Poll     time.Duration // longest sleep between checks; default 30 s
}

// Worker consumes the outbox and delivers webhooks.
type Worker struct {
	st       *store.Store
	log      *slog.Logger
	client   *http.Client
	backoff  Backoff
	parallel int
	poll     time.Duration
	wake     chan struct{}
}

// New returns a worker; call Run.
func New(c Config) *Worker {
	w := &Worker{st: c.Store, log: c.Log, client: c.Client, backoff: c.Backoff, parallel: c.Parallel, poll: c.Poll,
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
	notify, unsubscribe := w.st.Subscribe()
	defer unsubscribe()
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
			w.log.Error("webhooks: read outbox", "err", err)
		}
		if err := w.dispatch(ctx, inflight, done); err != nil && ctx.Err() == nil {
			w.log.Error("webhooks: claim deliveries", "err", err)
		}
		timer.Reset(w.sleep(ctx))
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
func (w *Worker) sleep(ctx context.Context) time.Duration {
	next, err := w.st.NextDeliveryAt(ctx)
	if err != nil || next.IsZero() {
		return w.poll
	}
	d := next.Sub(w.st.Now())
	return min(max(d, 50*time.Millisecond), w.poll)
}

// consume turns new outbox events into deliveries; the store commits them
// with the consumer's cursor, so a crash adds nothing twice.
func (w *Worker) consume(ctx context.Context) error {
	for {
		after, err := w.st.Cursor(ctx, Consumer)
		if err != nil {
			return err
		}
		evs, err := w.st.EventsAfter(ctx, 0, after, 500)
		if err != nil || len(evs) == 0 {
			return err
		}
		added, err := w.st.EnqueueDeliveries(ctx, Consumer, evs, Data)
		if err != nil {
			return fmt.Errorf("enqueue deliveries: %w", err)
		}
		if added > 0 {
			w.log.Debug("webhooks: deliveries queued", "count", added, "through_event", evs[len(evs)-1].ID)
		}
		if len(evs) < 500 {
			return nil
		}
	}
}

// dispatch starts attempts for due deliveries while there is room.
func (w *Worker) dispatch(ctx context.Context, inflight map[int64]bool, done chan<- result) error {
	room := w.parallel - len(inflight)
	if room <= 0 || ctx.Err() != nil {
		return nil
	}
	skip := make([]int64, 0, len(inflight))
	for id := range inflight {
		skip = append(skip, id)
	}
	ds, err := w.st.ClaimDueDeliveries(ctx, w.lease(), room, skip)
	if err != nil {
		return err
	}
	for _, d := range ds {
		inflight[d.ID] = true
		go func() { done <- w.attempt(ctx, d) }()
	}
	return nil
}

// finish records an attempt's outcome.
func (w *Worker) finish(r result, inflight map[int64]bool) {
	delete(inflight, r.id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r.stopped {
		if err := w.st.ReleaseDelivery(ctx, r.id); err != nil {
			w.log.Error("webhooks: release delivery", "delivery", r.id, "err", err)
		}
		return
	}
	if err := w.st.RecordDeliveryAttempt(ctx, r.id, r.attempt); err != nil {
		w.log.Error("webhooks: record attempt", "delivery", r.id, "err", err)
	}
}

// attempt posts one delivery and decides what happens next. It never logs
// the key or the payload.
func (w *Worker) attempt(ctx context.Context, d store.WebhookDelivery) result {
	res := result{id: d.ID}
	plain, err := body(d.EventType, d.Data)
	if err != nil {
		res.attempt = w.failed(d, 0, "build payload: "+err.Error())
		return res
	}
	sealed, err := envelope.Seal(d.EncryptionKey, plain)
	if err != nil {
		res.attempt = w.failed(d, 0, "encrypt payload: "+err.Error())
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint, bytes.NewBufferString(sealed))
	if err != nil {
		res.attempt = w.failed(d, 0, "bad endpoint")
		return res
	}
	// The body is the envelope itself, as the spec's PHP snippet reads it
	// ($encryptedString = file_get_contents('php://input')).
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "Clinicbox-Webhooks/1")
	req.Header.Set("X-Webhook-Id", d.WebhookUUID)
	req.Header.Set("X-Webhook-Delivery", fmt.Sprint(d.ID))
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			res.stopped = true
			return res
		}
		res.attempt = w.failed(d, 0, transportError(err))
		w.log.Warn("webhooks: delivery failed", "delivery", d.ID, "webhook", d.WebhookUUID, "event", d.EventType,
			"attempt", d.Attempts+1, "err", res.attempt.Err)
		return res
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		res.attempt = store.DeliveryAttempt{At: w.st.Now(), HTTPStatus: resp.StatusCode, Delivered: true}
		w.log.Info("webhooks: delivered", "delivery", d.ID, "webhook", d.WebhookUUID, "event", d.EventType,
			"attempt", d.Attempts+1, "status", resp.StatusCode)
		return res
	}
	res.attempt = w.failed(d, resp.StatusCode, fmt.Sprintf("endpoint answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
	w.log.Warn("webhooks: delivery refused", "delivery", d.ID, "webhook", d.WebhookUUID, "event", d.EventType,
		"attempt", d.Attempts+1, "status", resp.StatusCode, "given_up", res.attempt.GiveUp)
	return res
}

// failed schedules the retry of a failed attempt, or gives up.
func (w *Worker) failed(d store.WebhookDelivery, status int, msg string) store.DeliveryAttempt {
	now := w.st.Now()
	delay, giveUp := w.backoff.Next(d.Attempts + 1)
	a := store.DeliveryAttempt{At: now, HTTPStatus: status, Err: msg, GiveUp: giveUp}
	if !giveUp {
		a.NextAt = now.Add(delay)
	}
	return a
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
