package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// PoctWebhookEvents are the events a POCT webhook may subscribe to.
var PoctWebhookEvents = []string{"result.created", "result.updated", "order.updated", "device.status_changed", "qc.failed"}

// PoctWebhook is an endpoint that receives signed POCT events.
type PoctWebhook struct {
	ID        int64
	UUID      string
	OrgID     int64
	URL       string
	Events    []string
	Secret    string // the HMAC-SHA256 key; shown to the client when created
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the URL and events; duplicates are dropped.
func (w *PoctWebhook) Validate() error {
	var v Validator
	w.URL = strings.TrimSpace(w.URL)
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Add("url", "must be an http or https URL")
	}
	v.Check(len(w.URL) <= 2000, "url", "must be at most 2000 characters")
	v.Check(len(w.Events) > 0, "events", "choose at least one of "+strings.Join(PoctWebhookEvents, ", "))
	var seen []string
	for _, e := range w.Events {
		if !slices.Contains(PoctWebhookEvents, e) {
			v.Add("events", fmt.Sprintf("%q is not one of %s", e, strings.Join(PoctWebhookEvents, ", ")))
			continue
		}
		if !slices.Contains(seen, e) {
			seen = append(seen, e)
		}
	}
	w.Events = seen
	return v.Err()
}

// CreatePoctWebhook stores an active webhook with a fresh signing secret.
func (s *Store) CreatePoctWebhook(ctx context.Context, orgID int64, w *PoctWebhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		w.OrgID, w.UUID, w.Secret, w.Active = orgID, NewUUID(), "whsec_"+NewToken(32), true
		w.CreatedAt, w.UpdatedAt = tx.Now, tx.Now
		res, err := tx.Exec(`INSERT INTO poct_webhooks (uuid, org_id, url, events, secret, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?)`, w.UUID, orgID, w.URL, strings.Join(w.Events, " "), w.Secret, unix(tx.Now), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create poct webhook: %w", err)
		}
		w.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "poct-webhook", w.UUID, 0, w.URL)
	})
}

const poctWebhookCols = `id, uuid, org_id, url, events, secret, active, created_at, updated_at`

func scanPoctWebhook(row interface{ Scan(...any) error }) (*PoctWebhook, error) {
	var w PoctWebhook
	var events string
	var c, u int64
	err := row.Scan(&w.ID, &w.UUID, &w.OrgID, &w.URL, &events, &w.Secret, &w.Active, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	w.Events = strings.Fields(events)
	w.CreatedAt, w.UpdatedAt = fromUnix(c), fromUnix(u)
	return &w, nil
}

// PoctWebhooks lists an organisation's active webhooks.
func (s *Store) PoctWebhooks(ctx context.Context, orgID int64) ([]PoctWebhook, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+poctWebhookCols+` FROM poct_webhooks WHERE org_id = ? AND active = 1 ORDER BY id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("poct webhooks: %w", err)
	}
	defer rows.Close()
	out := []PoctWebhook{}
	for rows.Next() {
		w, err := scanPoctWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("poct webhooks: %w", err)
		}
		out = append(out, *w)
	}
	return out, rows.Err()
}

// PoctWebhook returns an active webhook by its public id.
func (s *Store) PoctWebhook(ctx context.Context, orgID int64, uuid string) (*PoctWebhook, error) {
	w, err := scanPoctWebhook(s.r.QueryRowContext(ctx, `SELECT `+poctWebhookCols+` FROM poct_webhooks
		WHERE org_id = ? AND uuid = ? AND active = 1`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("poct webhook %s: %w", uuid, err)
	}
	return w, nil
}

// DeletePoctWebhook deactivates a webhook and gives up its pending deliveries.
func (s *Store) DeletePoctWebhook(ctx context.Context, orgID int64, uuid string) error {
	return s.write(ctx, func(tx *txn) error {
		var id int64
		err := tx.QueryRow(`SELECT id FROM poct_webhooks WHERE org_id = ? AND uuid = ? AND active = 1`, orgID, uuid).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("poct webhook %s: %w", uuid, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delete poct webhook: %w", err)
		}
		if _, err := tx.Exec(`UPDATE poct_webhooks SET active = 0, updated_at = ? WHERE id = ?`, unix(tx.Now), id); err != nil {
			return fmt.Errorf("delete poct webhook: %w", err)
		}
		if _, err := tx.Exec(`UPDATE poct_deliveries SET status = 'failed', last_error = 'webhook deleted'
			WHERE webhook_id = ? AND status = 'pending'`, id); err != nil {
			return fmt.Errorf("delete poct webhook: %w", err)
		}
		return tx.Audit(orgID, "delete", "poct-webhook", uuid, 0, "")
	})
}

// PoctEventBody is one outbox event turned into a webhook body.
type PoctEventBody struct {
	OrgID     int64
	EventID   int64
	EventType string // result.created, ...
	At        time.Time
	Body      []byte
}

// QueuePoctDeliveries adds, in one write that also moves consumer's
// cursor to lastEventID, a pending delivery of each body to every active
// webhook of its organisation that subscribes to its event and existed
// when the event happened. Re-running after a crash adds nothing twice.
func (s *Store) QueuePoctDeliveries(ctx context.Context, consumer string, lastEventID int64, bodies []PoctEventBody) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *txn) error {
		n = 0
		for _, b := range bodies {
			res, err := tx.Exec(`INSERT INTO poct_deliveries (org_id, webhook_id, event_id, event_type, body, next_attempt_at, created_at)
				SELECT ?, id, ?, ?, ?, ?, ? FROM poct_webhooks WHERE org_id = ? AND active = 1 AND created_at <= ?
				AND (' ' || events || ' ') LIKE ?
				ON CONFLICT (webhook_id, event_id) DO NOTHING`,
				b.OrgID, b.EventID, b.EventType, b.Body, unix(tx.Now), unix(tx.Now), b.OrgID, unix(b.At), "% "+b.EventType+" %")
			if err != nil {
				return fmt.Errorf("queue poct deliveries: %w", err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return tx.setCursor(consumer, lastEventID)
	})
	return n, err
}

// PoctDelivery is one body to POST to one webhook.
type PoctDelivery struct {
	ID            int64
	OrgID         int64
	WebhookUUID   string
	URL           string
	Secret        string
	EventID       int64
	EventType     string
	Body          []byte
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastAttemptAt time.Time
	LastStatus    int
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   time.Time
}

const poctDeliveryCols = `d.id, d.org_id, w.uuid, w.url, w.secret, d.event_id, d.event_type, d.body, d.status, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at`

func scanPoctDelivery(row interface{ Scan(...any) error }) (*PoctDelivery, error) {
	var d PoctDelivery
	var n, l, c, del int64
	err := row.Scan(&d.ID, &d.OrgID, &d.WebhookUUID, &d.URL, &d.Secret, &d.EventID, &d.EventType, &d.Body, &d.Status,
		&d.Attempts, &n, &l, &d.LastStatus, &d.LastError, &c, &del)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt, d.DeliveredAt = fromUnix(n), fromUnix(l), fromUnix(c), fromUnix(del)
	return &d, nil
}

// ClaimPoctDeliveries returns up to limit due pending deliveries (every
// organisation's, oldest first, leaving out skip: those in flight) and
// leases them for their attempt, as ClaimDueDeliveries does.
func (s *Store) ClaimPoctDeliveries(ctx context.Context, lease time.Duration, limit int, skip []int64) ([]PoctDelivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []PoctDelivery
	err := s.write(context.WithoutCancel(ctx), func(tx *txn) error {
		out = nil
		q := `SELECT ` + poctDeliveryCols + ` FROM poct_deliveries d JOIN poct_webhooks w ON w.id = d.webhook_id
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
			return fmt.Errorf("claim poct deliveries: %w", err)
		}
		for rows.Next() {
			d, err := scanPoctDelivery(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("claim poct deliveries: %w", err)
			}
			out = append(out, *d)
		}
		rows.Close()
		for _, d := range out {
			if _, err := tx.Exec(`UPDATE poct_deliveries SET next_attempt_at = ? WHERE id = ?`, unix(tx.Now.Add(lease)), d.ID); err != nil {
				return fmt.Errorf("claim poct deliveries: %w", err)
			}
		}
		return nil
	})
	return out, err
}

// ReleasePoctDelivery makes a claimed delivery due now without counting
// an attempt (the worker stopped before it could try).
func (s *Store) ReleasePoctDelivery(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(`UPDATE poct_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending'`,
			unix(tx.Now), id); err != nil {
			return fmt.Errorf("release poct delivery %d: %w", id, err)
		}
		return nil
	})
}

// NextPoctDeliveryAt is when the earliest pending delivery is due.
func (s *Store) NextPoctDeliveryAt(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM poct_deliveries WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next poct delivery: %w", err)
	}
	return fromUnix(next.Int64), nil
}

// RecordPoctAttempt stores the outcome of an attempt.
func (s *Store) RecordPoctAttempt(ctx context.Context, id int64, a DeliveryAttempt) error {
	status, delivered := DeliveryPending, int64(0)
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
		_, err := tx.Exec(`UPDATE poct_deliveries SET status = CASE WHEN status = 'pending' THEN ? ELSE status END,
			attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ?, last_status = ?, last_error = ?,
			delivered_at = CASE WHEN ? > 0 THEN ? ELSE delivered_at END WHERE id = ?`,
			status, unix(a.NextAt), unix(a.At), a.HTTPStatus, a.Err, delivered, delivered, id)
		if err != nil {
			return fmt.Errorf("record poct delivery %d: %w", id, err)
		}
		return nil
	})
}

// PoctDeliveries lists an organisation's deliveries, newest first.
func (s *Store) PoctDeliveries(ctx context.Context, orgID int64, limit int) ([]PoctDelivery, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+poctDeliveryCols+` FROM poct_deliveries d JOIN poct_webhooks w ON w.id = d.webhook_id
		WHERE d.org_id = ? ORDER BY d.id DESC LIMIT ?`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("poct deliveries: %w", err)
	}
	defer rows.Close()
	var out []PoctDelivery
	for rows.Next() {
		d, err := scanPoctDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("poct deliveries: %w", err)
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// EventPoctDeliveryDue wakes the POCT webhook worker (a re-send).
const EventPoctDeliveryDue = "poct-webhook:delivery-due"

// ResendPoctDelivery sends a delivery again, now, with a fresh count of
// attempts: the same body, so a receiver that already has it can tell by
// its id (X-Clinicbox-Delivery). A delivered one may be sent again too (the
// receiver lost it).
func (s *Store) ResendPoctDelivery(ctx context.Context, orgID, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`UPDATE poct_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?
			WHERE org_id = ? AND id = ? AND webhook_id IN (SELECT id FROM poct_webhooks WHERE org_id = ? AND active = 1)`,
			unix(tx.Now), orgID, id, orgID)
		if err != nil {
			return fmt.Errorf("resend poct delivery %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("poct delivery %d: %w", id, ErrNotFound)
		}
		if err := tx.Event(orgID, EventPoctDeliveryDue, "poct-delivery", id, nil); err != nil {
			return err
		}
		return tx.Audit(orgID, "resend", "poct-delivery", fmt.Sprint(id), 0, "")
	})
}
