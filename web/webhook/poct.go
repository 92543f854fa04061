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
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/api/poct/poctwire"
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

// PoctConfig configures the POCT webhook worker; zero fields take the
// defaults.
type PoctConfig struct {
	Store   *store.Store
	Log     *slog.Logger
	Client  *http.Client
	Backoff Backoff
	Poll    time.Duration
}

// PoctWorker is the webhook worker (worker.go) on the POCT channel.
type PoctWorker = Worker

// NewPoct returns the POCT webhook worker; call Run. Deliveries are
// attempted one at a time: the order of a clinic's events is kept for a
// receiver that is up.
func NewPoct(c PoctConfig) *Worker {
	return newWorker(Config{Store: c.Store, Log: c.Log, Client: c.Client, Backoff: c.Backoff, Poll: c.Poll, Parallel: 1},
		poctChannel{c.Store})
}

// poctChannel is the POCT webhooks: the JSON body built when the event was
// read, signed at the time of sending (SignPoct).
type poctChannel struct{ st *store.Store }

func (poctChannel) name() string     { return "poct webhooks" }
func (poctChannel) consumer() string { return PoctConsumer }

func (p poctChannel) nextDue(ctx context.Context) (time.Time, error) {
	return p.st.NextPoctDeliveryAt(ctx)
}

func (p poctChannel) record(ctx context.Context, id int64, a store.DeliveryAttempt) error {
	return p.st.RecordPoctAttempt(ctx, id, a)
}

func (p poctChannel) release(ctx context.Context, id int64) error {
	return p.st.ReleasePoctDelivery(ctx, id)
}

// queue builds the bodies of the POCT events for organisations that have
// a webhook; the store queues them for each subscribed webhook with the
// cursor. With no body to queue it writes nothing.
func (p poctChannel) queue(ctx context.Context, evs []store.Event) (int, bool, error) {
	hooks := map[int64]bool{} // org -> has an active webhook
	var bodies []store.PoctEventBody
	for _, ev := range evs {
		if !poctEvent(ev.Type) {
			continue
		}
		has, ok := hooks[ev.OrgID]
		if !ok {
			ws, err := p.st.PoctWebhooks(ctx, ev.OrgID)
			if err != nil {
				return 0, false, err
			}
			has = len(ws) > 0
			hooks[ev.OrgID] = has
		}
		if !has {
			continue
		}
		b, err := PoctBody(ctx, p.st, ev)
		if err != nil {
			return 0, false, err
		}
		if b != nil {
			bodies = append(bodies, *b)
		}
	}
	if len(bodies) == 0 {
		return 0, false, nil
	}
	n, err := p.st.QueuePoctDeliveries(ctx, PoctConsumer, evs[len(evs)-1].ID, bodies)
	return n, err == nil, err
}

func (p poctChannel) claim(ctx context.Context, lease time.Duration, limit int, skip []int64) ([]delivery, error) {
	ds, err := p.st.ClaimPoctDeliveries(ctx, lease, limit, skip)
	if err != nil {
		return nil, err
	}
	out := make([]delivery, len(ds))
	for i, d := range ds {
		out[i] = delivery{id: d.ID, attempts: d.Attempts, log: []any{"webhook", d.WebhookUUID, "event", d.EventType},
			request: func(ctx context.Context, now time.Time) (*http.Request, error) {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
				if err != nil {
					return nil, errors.New("bad url")
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", "Clinicbox-POCT-Webhooks/1")
				req.Header.Set("X-Clinicbox-Event", d.EventType)
				req.Header.Set("X-Clinicbox-Delivery", strconv.FormatInt(d.ID, 10))
				req.Header.Set("X-Clinicbox-Webhook", d.WebhookUUID)
				req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
				req.Header.Set(HeaderSignature, SignPoct(d.Secret, now.Unix(), d.Body))
				return req, nil
			}}
	}
	return out, nil
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
		name, key, obj = "result.updated", "result", poctwire.ResultOf(r)
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
		name, key, obj = "order.updated", "order", poctwire.OrderOf(o)
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
		name, key, obj = "device.status_changed", "device", poctwire.DeviceOf(f)
	case store.EventQCFailed:
		q, err := st.QCRunRecord(ctx, ev.OrgID, ev.SubjectID)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		d, err := st.Device(ctx, ev.OrgID, q.DeviceID)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		name, key, obj = "qc.failed", "qc_run", poctwire.QCRunOf(q, d.UUID)
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

// poctEvent says whether an outbox event type can become a POCT webhook
// body: PoctBody's cases (keep them alike).
func poctEvent(typ string) bool {
	switch typ {
	case store.EventObservationCreated, store.EventObservationCorrected, store.EventObservationAssigned,
		store.EventOrderUpdated, store.EventDeviceStatus, store.EventQCFailed:
		return true
	}
	return false
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
