package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Video call statuses (the telehealth API's videoCall.status values).
const (
	VideoWaiting    = "waiting"
	VideoOnCall     = "on call"
	VideoComplete   = "complete"
	VideoIncomplete = "incomplete"
	VideoLWBS       = "LWBS"
)

// VideoChange is what happened in a visit's call, as the media server saw it.
type VideoChange string

// The changes the media server reports.
const (
	VideoPatientWaiting VideoChange = "patient-waiting" // the patient is in the lobby
	VideoAdmitted       VideoChange = "admitted"        // the provider let the patient in
	VideoLeftUnseen     VideoChange = "left-unseen"     // the patient left the lobby before being admitted
	VideoDropped        VideoChange = "dropped"         // the call ended without the provider ending the visit
	VideoEnded          VideoChange = "ended"           // the provider ended the visit for everyone
)

// RecordVideo moves an appointment's video status (and, where the call
// implies it, the visit's own status) after a change in its call, writing
// the documented webhook events (appointment:lwbs, appointment:incompleted,
// appointment:completed) in the same transaction. A change that does not
// apply to the current status changes nothing and is not an error: the
// media server reports what it saw and the store decides what it means.
func (s *Store) RecordVideo(ctx context.Context, orgID, apptID int64, change VideoChange) (*Appointment, error) {
	var unchanged bool
	a, err := s.UpdateAppointment(ctx, orgID, apptID, func(a *Appointment) error {
		before := *a
		switch change {
		case VideoPatientWaiting:
			if !a.Open() {
				return Conflict("This visit has ended.")
			}
			if a.VideoStatus != VideoOnCall {
				a.VideoStatus = VideoWaiting
			}
			if a.Status == StatusScheduled {
				a.Status = StatusArrived
			}
		case VideoAdmitted:
			if !a.Open() {
				return Conflict("This visit has ended.")
			}
			a.VideoStatus = VideoOnCall
			if !strings.HasSuffix(a.Status, ".progress") {
				a.Status = StatusExamProgress
			}
		case VideoLeftUnseen:
			if a.VideoStatus == VideoWaiting {
				a.VideoStatus = VideoLWBS
			}
		case VideoDropped:
			if a.VideoStatus == VideoOnCall {
				a.VideoStatus = VideoIncomplete
			}
		case VideoEnded:
			if a.VideoStatus == VideoComplete && !a.Open() {
				break
			}
			a.VideoStatus = VideoComplete
			if a.Open() {
				a.Status = StatusCompleted
			}
		default:
			return fmt.Errorf("record video: unknown change %q", change)
		}
		if a.VideoStatus == before.VideoStatus && a.Status == before.Status {
			unchanged = true
			return errUnchanged
		}
		return nil
	})
	if unchanged {
		return s.Appointment(ctx, orgID, apptID)
	}
	return a, err
}

// errUnchanged rolls back a change that changed nothing, so that no event
// or audit row is written for it.
var errUnchanged = errors.New("unchanged")

// GuestToken returns the appointment's third-participant link token,
// creating it on first use.
func (s *Store) GuestToken(ctx context.Context, orgID, apptID int64) (string, error) {
	var token string
	err := s.write(ctx, func(tx *txn) error {
		err := tx.QueryRow(`SELECT guest_token FROM appointments WHERE org_id = ? AND id = ?`, orgID, apptID).Scan(&token)
		if err != nil {
			return rowNotFound(err)
		}
		if token != "" {
			return nil
		}
		token = NewToken(24)
		if _, err := tx.Exec(`UPDATE appointments SET guest_token = ? WHERE org_id = ? AND id = ?`, token, orgID, apptID); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "guest_link", fmt.Sprint(apptID), 0, "")
	})
	if err != nil {
		return "", fmt.Errorf("guest token %d: %w", apptID, err)
	}
	return token, nil
}

// ChatMessage is one line of a visit's chat.
type ChatMessage struct {
	ID            int64
	AppointmentID int64
	AuthorRole    string // provider, patient, guest
	AuthorName    string
	Body          string
	CreatedAt     time.Time
}

// MaxChatLength is the longest chat message, in characters.
const MaxChatLength = 2000

// Validate checks a chat message's own fields.
func (m *ChatMessage) Validate() error {
	var v Validator
	n := utf8.RuneCountInString(strings.TrimSpace(m.Body))
	v.Check(n > 0, "body", "is required")
	v.Check(n <= MaxChatLength, "body", fmt.Sprintf("must be at most %d characters", MaxChatLength))
	v.Check(utf8.ValidString(m.Body), "body", "must be text")
	v.Check(m.AuthorRole == "provider" || m.AuthorRole == "patient" || m.AuthorRole == "guest", "role", "must be provider, patient or guest")
	return v.Err()
}

// AddVisitChat keeps one chat message with the visit.
func (s *Store) AddVisitChat(ctx context.Context, orgID int64, m *ChatMessage) error {
	m.Body = strings.TrimSpace(m.Body)
	if err := m.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		var patientID int64
		err := tx.QueryRow(`SELECT patient_id FROM appointments WHERE org_id = ? AND id = ?`, orgID, m.AppointmentID).Scan(&patientID)
		if err != nil {
			return rowNotFound(err)
		}
		m.CreatedAt = tx.Now
		res, err := tx.Exec(`INSERT INTO visit_chat_messages (org_id, appointment_id, author_role, author_name, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, orgID, m.AppointmentID, m.AuthorRole, m.AuthorName, m.Body, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("add visit chat: %w", err)
		}
		m.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "visit_chat", fmt.Sprint(m.ID), patientID, "")
	})
}

// VisitChat lists a visit's chat, oldest first.
func (s *Store) VisitChat(ctx context.Context, orgID, apptID int64) ([]ChatMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, appointment_id, author_role, author_name, body, created_at
		FROM visit_chat_messages WHERE org_id = ? AND appointment_id = ? ORDER BY id`, orgID, apptID)
	if err != nil {
		return nil, fmt.Errorf("visit chat: %w", err)
	}
	defer rows.Close()
	var out []ChatMessage
	for rows.Next() {
		var m ChatMessage
		var at int64
		if err := rows.Scan(&m.ID, &m.AppointmentID, &m.AuthorRole, &m.AuthorName, &m.Body, &at); err != nil {
			return nil, fmt.Errorf("visit chat: %w", err)
		}
		m.CreatedAt = fromUnix(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// rowNotFound turns "no row" into ErrNotFound.
func rowNotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
