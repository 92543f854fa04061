package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/api/poct"
)

// PoctConsumer is the POCT webhook worker's name in the outbox cursors: it
// reads the same outbox as the telehealth webhooks, with its own cursor.
const PoctConsumer = "poct-webhooks"

// Signature headers of a POCT webhook POST.
const (
	HeaderTimestamp = "X-Clinicbox-Timestamp"
	HeaderSignature = "X-Clinicbox-Signature"
)

// SignPoct is the signature of a body sent at unix time ts:
// "v1=" + hex(HMAC-SHA256(secret, ts + "." + body)). Covering the
// timestamp lets a receiver refuse a replayed old request.
func SignPoct(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is a webhook request that does not verify.
var ErrBadSignature = errors.New("webhook: bad or stale signature")

// VerifyPoct checks a received request the way a receiver should: the
// signature over the timestamp and body, and a timestamp within tolerance
// of now.
func VerifyPoct(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrBadSignature
	}
	want := SignPoct(secret, ts, body)
	if subtle.ConstantTimeCompare([]byte(want), []byte(signature)) != 1 {
		return ErrBadSignature
	}
	return nil
}

// PoctConfig configures a PoctWorker; zero fields take the defaults.
type PoctConfig struct {
	Store   *store.Store
	Log     *slog.Logger
	Client  *http.Client
	Backoff Backoff
	Poll    time.Duration
}

// PoctWorker turns outbox events into signed POCT webhook deliveries and
// posts them, retrying with backoff; nothing is lost across a restart.
type PoctWorker struct {
	st      *store.Store
	log     *slog.Logger
	client  *http.Client
	backoff Backoff
	poll    time.Duration
	wake    chan struct{}
}

// NewPoct returns a worker; call Run.
func NewPoct(c PoctConfig) *PoctWorker {
	w := &PoctWorker{st: c.Store, log: c.Log, client: c.Client, backoff: c.Backoff, poll: c.Poll, wake: make(chan struct{}, 1)}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.client == nil {
		w.client = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if w.backoff.Base == 0 {
		w.backoff = DefaultBackoff
	}
	if w.poll <= 0 {
		w.poll = 30 * time.Second
	}
	return w
}

// Wake makes the worker look for work now.
func (w *PoctWorker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends. Deliveries are attempted one at a time: the
// order of a clinic's events is kept for a receiver that is up.
func (w *PoctWorker) Run(ctx context.Context) error {
	notify, unsubscribe := w.st.Subscribe()
	defer unsubscribe()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if err := w.consume(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("poct webhooks: read outbox", "err", err)
		}
		if err := w.deliverDue(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("poct webhooks: deliver", "err", err)
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

func (w *PoctWorker) sleep(ctx context.Context) time.Duration {
	next, err := w.st.NextPoctDeliveryAt(ctx)
	if err != nil || next.IsZero() {
		return w.poll
	}
	return min(max(next.Sub(w.st.Now()), 50*time.Millisecond), w.poll)
}

// consume turns new outbox events into deliveries; the deliveries and the
// cursor commit together.
func (w *PoctWorker) consume(ctx context.Context) error {
	for {
		after, err := w.st.Cursor(ctx, PoctConsumer)
		if err != nil {
			return err
		}
		evs, err := w.st.EventsAfter(ctx, 0, after, 500)
		if err != nil || len(evs) == 0 {
			return err
		}
		hooks := map[int64]bool{} // org -> has an active webhook
		var bodies []store.PoctEventBody
		for _, ev := range evs {
			has, ok := hooks[ev.OrgID]
			if !ok {
				ws, err := w.st.PoctWebhooks(ctx, ev.OrgID)
				if err != nil {
					return err
				}
				has = len(ws) > 0
				hooks[ev.OrgID] = has
			}
			if !has {
				continue
			}
			b, err := PoctBody(ctx, w.st, ev)
			if err != nil {
				return err
			}
			if b != nil {
				bodies = append(bodies, *b)
			}
		}
		if _, err := w.st.QueuePoctDeliveries(ctx, PoctConsumer, evs[len(evs)-1].ID, bodies); err != nil {
			return err
		}
		if len(evs) < 500 {
			return nil
		}
	}
}

// PoctBody builds the webhook body of an outbox event, or nil when the
// event is not a POCT webhook event. The subject is read as it is now and
// the body is stored, so every retry sends the same bytes:
//
//	{"id":"evt_123","event":"result.created","created_at":"...","result":{...}}
func PoctBody(ctx context.Context, st *store.Store, ev store.Event) (*store.PoctEventBody, error) {
	var name, key string
	var obj any
	switch ev.Type {
	case store.EventObservationCreated, store.EventObservationCorrected, store.EventObservationAssigned:
		r, err := st.ResultByID(ctx, ev.OrgID, ev.SubjectID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil // replaced by a re-ingestion since
		}
		if err != nil {
			return nil, err
		}
		if r.QC || (ev.Type == store.EventObservationCreated && r.PrevID > 0) {
			return nil, nil // QC is not a result; a device's correction has its own event
		}
		name, key, obj = "result.updated", "result", poct.ResultJSON(r)
		if ev.Type == store.EventObservationCreated {
			name = "result.created"
		}
	case store.EventOrderUpdated:
		o, err := st.OrderByID(ctx, ev.OrgID, ev.SubjectID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		name, key, obj = "order.updated", "order", poct.OrderJSON(o)
	case store.EventDeviceStatus:
		d, err := st.Device(ctx, ev.OrgID, ev.SubjectID)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		f, err := st.FleetDevice(ctx, ev.OrgID, d.UUID)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		// The state the event announced, not a later one.
		var p struct {
			State   string `json:"state"`
			QCState string `json:"qcState"`
		}
		json.Unmarshal(ev.Payload, &p)
		if p.State != "" {
			f.Status.State = p.State
		}
		if p.QCState != "" {
			f.Status.QCState = p.QCState
		}
		name, key, obj = "device.status_changed", "device", poct.DeviceJSON(f)
	case store.EventQCFailed:
		q, err := st.QCRunRecord(ctx, ev.OrgID, ev.SubjectID)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		d, err := st.Device(ctx, ev.OrgID, q.DeviceID)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		name, key, obj = "qc.failed", "qc_run", poct.QCRunJSON(q, d.UUID)
	default:
		return nil, nil
	}
	body, err := json.Marshal(map[string]any{"id": fmt.Sprintf("evt_%d", ev.ID), "event": name,
		"created_at": ev.CreatedAt.UTC().Format(time.RFC3339), key: obj})
	if err != nil {
		return nil, err
	}
	return &store.PoctEventBody{OrgID: ev.OrgID, EventID: ev.ID, EventType: name, At: ev.CreatedAt, Body: body}, nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// deliverDue attempts the deliveries that are due, oldest first.
func (w *PoctWorker) deliverDue(ctx context.Context) error {
	for ctx.Err() == nil {
		ds, err := w.st.ClaimPoctDeliveries(ctx, w.client.Timeout+time.Minute, 8)
		if err != nil || len(ds) == 0 {
			return err
		}
		for _, d := range ds {
			a := w.attempt(ctx, d)
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			err := w.st.RecordPoctAttempt(rctx, d.ID, a)
			cancel()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// attempt posts one delivery, signed at the time of sending. Neither the
// secret nor the body is logged.
func (w *PoctWorker) attempt(ctx context.Context, d store.PoctDelivery) store.DeliveryAttempt {
	now := w.st.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return w.failed(d, 0, "bad url")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Clinicbox-POCT-Webhooks/1")
	req.Header.Set("X-Clinicbox-Event", d.EventType)
	req.Header.Set("X-Clinicbox-Delivery", strconv.FormatInt(d.ID, 10))
	req.Header.Set("X-Clinicbox-Webhook", d.WebhookUUID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, SignPoct(d.Secret, now.Unix(), d.Body))
	resp, err := w.client.Do(req)
	if err != nil {
		a := w.failed(d, 0, transportError(err))
		w.log.Warn("poct webhooks: delivery failed", "delivery", d.ID, "event", d.EventType, "attempt", d.Attempts+1, "err", a.Err)
		return a
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		w.log.Info("poct webhooks: delivered", "delivery", d.ID, "event", d.EventType, "status", resp.StatusCode)
		return store.DeliveryAttempt{At: now, HTTPStatus: resp.StatusCode, Delivered: true}
	}
	a := w.failed(d, resp.StatusCode, fmt.Sprintf("endpoint answered %d %s", resp.StatusCode, strings.TrimSpace(http.StatusText(resp.StatusCode))))
	w.log.Warn("poct webhooks: delivery refused", "delivery", d.ID, "event", d.EventType, "status", resp.StatusCode, "given_up", a.GiveUp)
	return a
}

func (w *PoctWorker) failed(d store.PoctDelivery, status int, msg string) store.DeliveryAttempt {
	now := w.st.Now()
	delay, giveUp := w.backoff.Next(d.Attempts + 1)
	a := store.DeliveryAttempt{At: now, HTTPStatus: status, Err: msg, GiveUp: giveUp}
	if !giveUp {
		a.NextAt = now.Add(delay)
	}
	return a
}
