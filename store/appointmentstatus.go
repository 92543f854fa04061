package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// StatusChange is one step of an appointment's status history: who moved
// it from which status to which, when, and why when a reason was given.
type StatusChange struct {
	ID            int64
	AppointmentID int64
	From          string // "" when the appointment was created
	To            string
	Reason        string
	UserID        int64 // 0 for API clients and visit links
	Actor         string
	At            time.Time
}

// MaxStatusReason bounds the reason given for a status change.
const MaxStatusReason = 500

// recordStatusChange appends a history row inside the write that changes
// the status, so the history never disagrees with the appointment.
func recordStatusChange(tx *txn, orgID, appointmentID int64, from, to, reason string) error {
	a := ActorFrom(tx.Context())
	_, err := tx.Exec(`INSERT INTO appointment_status_history (org_id, appointment_id, from_status, to_status,
		reason, user_id, actor, created_at) VALUES (?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?)`,
		orgID, appointmentID, from, to, reason, a.UserID, a.Name, unix(tx.Now))
	if err != nil {
		return fmt.Errorf("status history: %w", err)
	}
	return nil
}

// AppointmentHistory lists an appointment's status changes, oldest first.
func (s *Store) AppointmentHistory(ctx context.Context, orgID, appointmentID int64) ([]StatusChange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT h.id, h.appointment_id, h.from_status, h.to_status, h.reason,
		COALESCE(h.user_id, 0), COALESCE(u.name, h.actor), h.created_at
		FROM appointment_status_history h LEFT JOIN users u ON u.id = h.user_id
		WHERE h.org_id = ? AND h.appointment_id = ? ORDER BY h.id`, orgID, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("appointment history: %w", err)
	}
	defer rows.Close()
	var out []StatusChange
	for rows.Next() {
		var c StatusChange
		var at int64
		if err := rows.Scan(&c.ID, &c.AppointmentID, &c.From, &c.To, &c.Reason, &c.UserID, &c.Actor, &at); err != nil {
			return nil, fmt.Errorf("appointment history: %w", err)
		}
		c.At = fromUnix(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ChangeAppointmentStatus moves an appointment to status, keeping reason
// in its history and in the audit log.
func (s *Store) ChangeAppointmentStatus(ctx context.Context, orgID, id int64, status, reason string) (*Appointment, error) {
	reason = strings.TrimSpace(reason)
	if len(reason) > MaxStatusReason {
		return nil, Invalid("reason", fmt.Sprintf("must be at most %d characters", MaxStatusReason))
	}
	var out *Appointment
	err := s.write(ctx, func(tx *txn) error {
		a, err := updateAppointment(ctx, tx, orgID, id, reason, func(a *Appointment) error {
			a.Status = status
			return nil
		})
		out = a
		return err
	})
	return out, err
}

// ReinstateAppointment puts a cancelled or no-show appointment back on the
// schedule. A reason is required: it is what the history shows later.
func (s *Store) ReinstateAppointment(ctx context.Context, orgID, id int64, reason string) (*Appointment, error) {
	reason = strings.TrimSpace(reason)
	var v Validator
	v.Check(reason != "", "reason", "is required")
	v.Check(len(reason) <= MaxStatusReason, "reason", fmt.Sprintf("must be at most %d characters", MaxStatusReason))
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Appointment
	err := s.write(ctx, func(tx *txn) error {
		a, err := updateAppointment(ctx, tx, orgID, id, reason, func(a *Appointment) error {
			if a.Status != StatusCancelled && a.Status != StatusNoShow {
				return Conflict("only a cancelled or no-show appointment can be reinstated")
			}
			a.Status = StatusScheduled
			a.CancelledAt = time.Time{}
			if !a.ArrivedAt.IsZero() {
				a.Status = StatusArrived
			}
			return nil
		})
		out = a
		return err
	})
	return out, err
}

// Visit-link roles.
const (
	LinkPatient  = "patient"
	LinkProvider = "provider"
)

// ReissueVisitLink gives the appointment a new link for role; the old link
// stops working in the same write.
func (s *Store) ReissueVisitLink(ctx context.Context, orgID, id int64, role string) (*Appointment, error) {
	col := map[string]string{LinkPatient: "patient_token", LinkProvider: "provider_token"}[role]
	if col == "" {
		return nil, Invalid("role", "must be patient or provider")
	}
	var out *Appointment
	err := s.write(ctx, func(tx *txn) error {
		a, err := appointmentBy(txQueryer{tx}, ctx, orgID, ApptByID, fmt.Sprint(id))
		if err != nil {
			return err
		}
		tok := NewToken(24)
		if _, err := tx.Exec(`UPDATE appointments SET `+col+` = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			tok, unix(tx.Now), orgID, id); err != nil {
			return fmt.Errorf("reissue link: %w", err)
		}
		if role == LinkPatient {
			a.PatientToken = tok
		} else {
			a.ProviderToken = tok
		}
		a.UpdatedAt = tx.Now
		out = a
		if err := tx.Event(orgID, EventAppointmentUpdated, "appointment", id, map[string]any{"appointmentId": id}); err != nil {
			return err
		}
		return tx.Audit(orgID, "update", "appointment", fmt.Sprint(id), a.PatientID, role+" link re-issued")
	})
	return out, err
}
