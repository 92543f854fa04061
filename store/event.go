package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Event types. The telehealth webhook names are used as they are documented,
// so the webhook face delivers events without translating them.
const (
	EventPatientCreated         = "patient:created"
	EventPatientUpdated         = "patient:updated"
	EventPatientDeactivated     = "patient:deactivated"
	EventAppointmentScheduled   = "appointment:scheduled"
	EventAppointmentRescheduled = "appointment:rescheduled"
	EventAppointmentCancelled   = "appointment:cancelled"
	EventAppointmentCompleted   = "appointment:completed"
	EventAppointmentIncompleted = "appointment:incompleted"
	EventAppointmentNoShow      = "appointment:no-show"
	EventAppointmentLWBS        = "appointment:lwbs"
	// EventAppointmentStatus is any other status change (arrived, started...):
	// it keeps live pages current but is not a documented webhook event.
	EventAppointmentStatus  = "appointment:status"
	EventAppointmentUpdated = "appointment:updated"
	EventObservationCreated = "observation:created"
	EventWaitingRoomChanged = "waiting-room:changed"
)

// Event is one row of the outbox.
type Event struct {
	ID          int64
	OrgID       int64
	Type        string
	SubjectType string // patient, appointment, observation, ...
	SubjectID   int64
	Payload     json.RawMessage
	CreatedAt   time.Time
}

// Event appends an event to the outbox within the write. payload may be nil.
func (tx *txn) Event(orgID int64, typ, subjectType string, subjectID int64, payload any) error {
	body := []byte("{}")
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return fmt.Errorf("event %s: %w", typ, err)
		}
		body = b
	}
	res, err := tx.Exec(`INSERT INTO events (org_id, type, subject_type, subject_id, payload, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, orgID, typ, subjectType, subjectID, string(body), unix(tx.Now))
	if err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	tx.Notify()
	id, _ := res.LastInsertId()
	tx.published(Event{ID: id, OrgID: orgID, Type: typ, SubjectType: subjectType, SubjectID: subjectID,
		Payload: json.RawMessage(body), CreatedAt: fromUnix(unix(tx.Now))})
	return nil
}

// EventsAfter lists up to limit events with id > after, oldest first, of every
// organisation (for the dispatcher) or of one (orgID > 0).
func (s *Store) EventsAfter(ctx context.Context, orgID, after int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := `SELECT id, org_id, type, subject_type, subject_id, payload, created_at FROM events WHERE id > ?`
	args := []any{after}
	if orgID > 0 {
		q += ` AND org_id = ?`
		args = append(args, orgID)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", after, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var payload string
		var created int64
		if err := rows.Scan(&e.ID, &e.OrgID, &e.Type, &e.SubjectType, &e.SubjectID, &payload, &created); err != nil {
			return nil, fmt.Errorf("events after %d: %w", after, err)
		}
		e.Payload = json.RawMessage(payload)
		e.CreatedAt = fromUnix(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastEventID is the newest event id (0 when there are none).
func (s *Store) LastEventID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(id) FROM events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("last event: %w", err)
	}
	return id.Int64, nil
}

// Cursor is where a durable consumer of the outbox has got to.
func (s *Store) Cursor(ctx context.Context, consumer string) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT last_id FROM event_cursors WHERE consumer = ?`, consumer).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor %s: %w", consumer, err)
	}
	return id, nil
}

// setCursor moves a consumer's cursor inside a write, so that what the
// consumer derived from the events and its position commit together.
func (tx *txn) setCursor(consumer string, lastID int64) error {
	_, err := tx.Exec(`INSERT INTO event_cursors (consumer, last_id) VALUES (?, ?)
		ON CONFLICT (consumer) DO UPDATE SET last_id = excluded.last_id`, consumer, lastID)
	if err != nil {
		return fmt.Errorf("set cursor %s: %w", consumer, err)
	}
	return nil
}

// SetCursor moves a consumer's cursor.
func (s *Store) SetCursor(ctx context.Context, consumer string, lastID int64) error {
	return s.write(ctx, func(tx *txn) error { return tx.setCursor(consumer, lastID) })
}
