package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// WebhookEvents are the event names a telehealth webhook may subscribe to,
// as documented. The outbox uses the same names (see event.go).
var WebhookEvents = []string{
	EventPatientCreated, EventPatientUpdated, EventPatientDeactivated,
	EventAppointmentScheduled, EventAppointmentRescheduled, EventAppointmentCancelled,
	EventAppointmentCompleted, EventAppointmentIncompleted, EventAppointmentNoShow,
	EventAppointmentLWBS, EventEpisodeCreated, EventEpisodeUpdated,
}

// Webhook is an endpoint that receives encrypted event notifications.
type Webhook struct {
	ID            int64
	UUID          string // the API's webhookId
	OrgID         int64
	Endpoint      string
	Events        []string
	EncryptionKey string // base64 of 16 random bytes, as issued to the client
	Active        bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DeactivatedAt time.Time
}

// Validate checks the endpoint and the event list; duplicate events are
// dropped (the order of first appearance is kept).
func (w *Webhook) Validate() error {
	var v Validator
	w.Endpoint = strings.TrimSpace(w.Endpoint)
	if w.Endpoint == "" {
		v.Add("endpoint", "This value should not be blank.")
	} else if u, err := url.Parse(w.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Add("endpoint", "This value is not a valid URL.")
	} else if len(w.Endpoint) > 2000 {
		v.Add("endpoint", "This value is too long. It should have 2000 characters or less.")
	}
	if len(w.Events) == 0 {
		v.Add("events", "This value should not be blank.")
	}
	var seen []string
	for i, e := range w.Events {
		if !slices.Contains(WebhookEvents, e) {
			v.Add(fmt.Sprintf("events[%d]", i), "The value you selected is not a valid choice. Valid choices: "+strings.Join(WebhookEvents, ", ")+".")
			continue
		}
		if !slices.Contains(seen, e) {
			seen = append(seen, e)
		}
	}
	if v.Err() == nil {
		w.Events = seen
	}
	return v.Err()
}

// Subscribes reports whether the webhook wants events of type typ.
func (w *Webhook) Subscribes(typ string) bool { return w.Active && slices.Contains(w.Events, typ) }

// newEncryptionKey is 16 random bytes, standard base64 (24 characters), as
// in the documented example "39VNjjSpgoUWMbUhVCjAoQ==".
func newEncryptionKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// CreateWebhook validates and stores a new active webhook with a fresh
// encryption key.
func (s *Store) CreateWebhook(ctx context.Context, orgID int64, w *Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		w.OrgID, w.UUID, w.EncryptionKey, w.Active = orgID, NewUUID(), newEncryptionKey(), true
		w.CreatedAt, w.UpdatedAt = tx.Now, tx.Now
		events, _ := json.Marshal(w.Events)
		res, err := tx.Exec(`INSERT INTO webhooks (uuid, org_id, endpoint, events_json, encryption_key, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?)`, w.UUID, orgID, w.Endpoint, string(events), w.EncryptionKey, unix(tx.Now), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create webhook: %w", err)
		}
		w.ID, _ = res.LastInsertId()
		// The key is a secret: the audit row names the webhook, never the key.
		return tx.Audit(orgID, "create", "webhook", w.UUID, 0, w.Endpoint)
	})
}

const webhookCols = `id, uuid, org_id, endpoint, events_json, encryption_key, active, created_at, updated_at, deactivated_at`

func scanWebhook(row interface{ Scan(...any) error }) (*Webhook, error) {
	var w Webhook
	var events string
	var c, u, d int64
	err := row.Scan(&w.ID, &w.UUID, &w.OrgID, &w.Endpoint, &events, &w.EncryptionKey, &w.Active, &c, &u, &d)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, fmt.Errorf("webhook %d events: %w", w.ID, err)
	}
	w.CreatedAt, w.UpdatedAt, w.DeactivatedAt = fromUnix(c), fromUnix(u), fromUnix(d)
	return &w, nil
}

// Webhook returns a webhook (active or not) by its public id.
func (s *Store) Webhook(ctx context.Context, orgID int64, uuid string) (*Webhook, error) {
	w, err := scanWebhook(s.r.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE org_id = ? AND uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", uuid, err)
	}
	return w, nil
}

// Webhooks lists an organisation's webhooks, oldest first; deactivated ones
// only when includeInactive.
func (s *Store) Webhooks(ctx context.Context, orgID int64, includeInactive bool) ([]Webhook, error) {
	q := `SELECT ` + webhookCols + ` FROM webhooks WHERE org_id = ?`
	if !includeInactive {
		q += ` AND active = 1`
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		out = append(out, *w)
	}
	return out, rows.Err()
}

// UpdateWebhook replaces the endpoint and events of an active webhook. The
// encryption key does not change.
func (s *Store) UpdateWebhook(ctx context.Context, orgID int64, uuid, endpoint string, events []string) (*Webhook, error) {
	upd := &Webhook{Endpoint: endpoint, Events: events}
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	var out *Webhook
	err := s.write(ctx, func(tx *txn) error {
		w, err := scanWebhook(tx.QueryRow(`SELECT `+webhookCols+` FROM webhooks WHERE org_id = ? AND uuid = ? AND active = 1`, orgID, uuid))
		if err != nil {
			return fmt.Errorf("webhook %s: %w", uuid, err)
		}
		w.Endpoint, w.Events, w.UpdatedAt = upd.Endpoint, upd.Events, tx.Now
		ev, _ := json.Marshal(w.Events)
		if _, err := tx.Exec(`UPDATE webhooks SET endpoint = ?, events_json = ?, updated_at = ? WHERE id = ?`,
			w.Endpoint, string(ev), unix(tx.Now), w.ID); err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
		out = w
		return tx.Audit(orgID, "update", "webhook", w.UUID, 0, w.Endpoint)
	})
	if err != nil {
		return nil, err // out may still be written by a write the caller gave up on
	}
	return out, nil
}

// DeactivateWebhook stops a webhook: it receives nothing more, and its
// pending deliveries are given up.
func (s *Store) DeactivateWebhook(ctx context.Context, orgID int64, uuid string) error {
	return s.write(ctx, func(tx *txn) error {
		var id int64
		err := tx.QueryRow(`SELECT id FROM webhooks WHERE org_id = ? AND uuid = ? AND active = 1`, orgID, uuid).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("webhook %s: %w", uuid, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("deactivate webhook: %w", err)
		}
		if _, err := tx.Exec(`UPDATE webhooks SET active = 0, deactivated_at = ?, updated_at = ? WHERE id = ?`,
			unix(tx.Now), unix(tx.Now), id); err != nil {
			return fmt.Errorf("deactivate webhook: %w", err)
		}
		if _, err := tx.Exec(`UPDATE webhook_deliveries SET status = 'failed', last_error = 'webhook deactivated'
			WHERE webhook_id = ? AND status = 'pending'`, id); err != nil {
			return fmt.Errorf("deactivate webhook: %w", err)
		}
		return tx.Audit(orgID, "deactivate", "webhook", uuid, 0, "")
	})
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one event to deliver to one webhook, with the state of
// its attempts.
type WebhookDelivery struct {
	ID            int64
	OrgID         int64
	WebhookID     int64
	WebhookUUID   string
	Endpoint      string
	EncryptionKey string
	EventID       int64
	EventType     string
	SubjectType   string
	SubjectID     int64
	Data          json.RawMessage // the payload's "data" member
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastAttemptAt time.Time
	LastStatus    int // HTTP status of the last attempt, 0 = no answer
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   time.Time
}

// EnqueueDeliveries turns outbox events into pending webhook deliveries
// and moves the consumer's cursor past them, in one transaction: a crash
// between reading the events and writing re-reads them and, thanks to
// (webhook, event) uniqueness, adds nothing twice. data gives each event's
// payload "data" member; an event it declines (false) is skipped. It
// returns how many deliveries were added.
func (s *Store) EnqueueDeliveries(ctx context.Context, consumer string, evs []Event, data func(Event) (any, bool)) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	added := 0
	err := s.write(ctx, func(tx *txn) error {
		added = 0
		for _, ev := range evs {
			d, ok := data(ev)
			if !ok {
				continue
			}
			n, err := tx.enqueueDeliveries(ev, d)
			if err != nil {
				return err
			}
			added += n
		}
		return tx.setCursor(consumer, evs[len(evs)-1].ID)
	})
	return added, err
}

// enqueueDeliveries adds, within the write, one pending delivery of the
// event for each active webhook of its organisation that subscribes to the
// event's type, with data as the payload's "data" member. A delivery that
// already exists (same webhook and event) is left alone, so re-reading an
// event after a crash adds nothing twice. It returns how many were added.
func (tx *txn) enqueueDeliveries(ev Event, data any) (int, error) {
	// No ORDER BY: the (org_id, active) index yields rows in id order anyway,
	// and with one the bundled SQLite re-plans this hot statement every call.
	rows, err := tx.Query(`SELECT `+webhookCols+` FROM webhooks WHERE org_id = ? AND active = 1`, ev.OrgID)
	if err != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	var hooks []*Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("enqueue deliveries: %w", err)
		}
		// A webhook hears only what happened after it was created, even when
		// the consumer catches up on older events.
		if w.Subscribes(ev.Type) && !ev.CreatedAt.Before(w.CreatedAt) {
			hooks = append(hooks, w)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	if len(hooks) == 0 {
		return 0, nil
	}
	body, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	n := 0
	for _, w := range hooks {
		res, err := tx.Exec(`INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, event_type, subject_type,
			subject_id, data_json, status, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (webhook_id, event_id) DO NOTHING`,
			ev.OrgID, w.ID, ev.ID, ev.Type, ev.SubjectType, ev.SubjectID, string(body), unix(tx.Now), unix(tx.Now))
		if err != nil {
			return n, fmt.Errorf("enqueue deliveries: %w", err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

const deliveryCols = `d.id, d.org_id, d.webhook_id, w.uuid, w.endpoint, w.encryption_key, d.event_id, d.event_type,
	d.subject_type, d.subject_id, d.data_json, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at,
	d.last_status, d.last_error, d.created_at, d.delivered_at`

func scanDelivery(row interface{ Scan(...any) error }) (*WebhookDelivery, error) {
	var d WebhookDelivery
	var data string
	var next, last, c, del int64
	err := row.Scan(&d.ID, &d.OrgID, &d.WebhookID, &d.WebhookUUID, &d.Endpoint, &d.EncryptionKey, &d.EventID,
		&d.EventType, &d.SubjectType, &d.SubjectID, &data, &d.Status, &d.Attempts, &next, &last, &d.LastStatus,
		&d.LastError, &c, &del)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.Data = json.RawMessage(data)
	d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt, d.DeliveredAt = fromUnix(next), fromUnix(last), fromUnix(c), fromUnix(del)
	return &d, nil
}

// ClaimDueDeliveries returns up to limit pending deliveries (of every
// organisation) whose next attempt is due, oldest first, and pushes their
// next attempt lease into the future so that no other claimer takes them
// while they are in flight. If the process dies mid-attempt the lease runs
// out and the delivery is tried again (delivery is at least once).
func (s *Store) ClaimDueDeliveries(ctx context.Context, lease time.Duration, limit int, skip []int64) ([]WebhookDelivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []WebhookDelivery
	// Not cancellable: a claim that commits after the caller gave up would
	// leave leased deliveries nobody tries until the lease ends.
	err := s.write(context.WithoutCancel(ctx), func(tx *txn) error {
		out = nil
		q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= ?`
		args := []any{unix(tx.Now)}
		if len(skip) > 0 {
			q += ` AND d.id NOT IN (?` + strings.Repeat(", ?", len(skip)-1) + `)`
			for _, id := range skip {
				args = append(args, id)
			}
		}
		rows, err := tx.Query(q+` ORDER BY d.next_attempt_at, d.id LIMIT ?`, append(args, limit)...)
		if err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("claim deliveries: %w", err)
			}
			out = append(out, *d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		for _, d := range out {
			if _, err := tx.Exec(`UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`,
				unix(tx.Now.Add(lease)), d.ID); err != nil {
				return fmt.Errorf("claim deliveries: %w", err)
			}
		}
		return nil
	})
	return out, err
}

// NextDeliveryAt is when the earliest pending delivery is due (zero when
// none is pending).
func (s *Store) NextDeliveryAt(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next delivery: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return fromUnix(next.Int64), nil
}

// DeliveryAttempt is the outcome of one attempt.
type DeliveryAttempt struct {
	At         time.Time // when the attempt was made
	HTTPStatus int       // 0 when there was no answer
	Err        string    // short reason, never the payload
	Delivered  bool
	GiveUp     bool      // failed for good
	NextAt     time.Time // next attempt when neither delivered nor given up
}

// RecordDeliveryAttempt stores the outcome of an attempt. A delivery that
// is no longer pending (its webhook was deactivated meanwhile) keeps its
// status.
func (s *Store) RecordDeliveryAttempt(ctx context.Context, id int64, a DeliveryAttempt) error {
	status, next, delivered := DeliveryPending, unix(a.NextAt), int64(0)
	switch {
	case a.Delivered:
		status, delivered = DeliveryDelivered, unix(a.At)
	case a.GiveUp:
		status = DeliveryFailed
	}
	if len(a.Err) > 500 {
		a.Err = a.Err[:500]
	}
	return s.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`UPDATE webhook_deliveries SET status = CASE WHEN status = 'pending' THEN ? ELSE status END,
			attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ?, last_status = ?, last_error = ?,
			delivered_at = ? WHERE id = ?`, status, next, unix(a.At), a.HTTPStatus, a.Err, delivered, id)
		if err != nil {
			return fmt.Errorf("record delivery %d: %w", id, err)
		}
		return nil
	})
}

// ReleaseDelivery makes a claimed delivery due now without counting an
// attempt (the worker stopped before it could try).
func (s *Store) ReleaseDelivery(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(`UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending'`,
			unix(tx.Now), id); err != nil {
			return fmt.Errorf("release delivery %d: %w", id, err)
		}
		return nil
	})
}

// DeliveryFilter selects deliveries for the admin log.
type DeliveryFilter struct {
	WebhookID int64
	Status    string
	Limit     int
}

// WebhookDeliveries lists an organisation's deliveries, newest first.
func (s *Store) WebhookDeliveries(ctx context.Context, orgID int64, f DeliveryFilter) ([]WebhookDelivery, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.org_id = ?`
	args := []any{orgID}
	if f.WebhookID > 0 {
		q += ` AND d.webhook_id = ?`
		args = append(args, f.WebhookID)
	}
	if f.Status != "" {
		q += ` AND d.status = ?`
		args = append(args, f.Status)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY d.id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("webhook deliveries: %w", err)
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// RetryDelivery makes a delivery of an active webhook due now, with a fresh
// count of attempts (so a given-up delivery gets a whole new retry period).
func (s *Store) RetryDelivery(ctx context.Context, orgID, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?
			WHERE org_id = ? AND id = ? AND status <> 'delivered'
			AND webhook_id IN (SELECT id FROM webhooks WHERE org_id = ? AND active = 1)`, unix(tx.Now), orgID, id, orgID)
		if err != nil {
			return fmt.Errorf("retry delivery %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("retry delivery %d: %w", id, ErrNotFound)
		}
		if err := tx.Event(orgID, EventWebhookDeliveryDue, "webhook-delivery", id, nil); err != nil {
			return err
		}
		return tx.Audit(orgID, "retry", "webhook-delivery", fmt.Sprint(id), 0, "")
	})
}

// EventWebhookDeliveryDue wakes the webhook worker (a manual retry); it is
// not a documented webhook event and is never delivered.
const EventWebhookDeliveryDue = "webhook:delivery-due"
