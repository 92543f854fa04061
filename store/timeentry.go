package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TimeEntry is monitoring time a clinician spent on an enrollment:
// reviewing readings, calling the patient. Interactive marks a real-time
// exchange with the patient (a call, a video visit), which some billing
// codes need.
type TimeEntry struct {
	ID             int64
	UUID           string
	OrgID          int64
	EnrollmentID   int64
	EnrollmentUUID string
	UserID         int64
	UserUUID       string
	UserName       string
	StartedAt      time.Time
	Duration       time.Duration // whole seconds, 1 s to 24 h
	Interactive    bool
	Note           string
	CreatedAt      time.Time
}

// Validate checks a time entry.
func (t *TimeEntry) Validate(now time.Time) error {
	var v Validator
	t.Note = strings.TrimSpace(t.Note)
	t.Duration = t.Duration.Truncate(time.Second)
	v.Check(t.Duration >= time.Second && t.Duration <= 24*time.Hour, "minutes", "must be more than 0 and at most 24 hours")
	v.Check(!t.StartedAt.IsZero(), "startedAt", "is required")
	v.Check(t.StartedAt.Before(now.Add(time.Hour)), "startedAt", "must not be in the future")
	v.Check(t.StartedAt.After(now.AddDate(-2, 0, 0)), "startedAt", "must be within the last two years")
	v.Text("note", t.Note, MaxNote)
	return v.Err()
}

// LogTime records monitoring time on an enrollment.
func (s *Store) LogTime(ctx context.Context, orgID int64, enrollmentUUID string, t *TimeEntry) error {
	if err := t.Validate(s.Now()); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		var patientID int64
		err := tx.QueryRow(`SELECT id, patient_id FROM enrollments WHERE org_id = ? AND uuid = ?`, orgID, enrollmentUUID).Scan(&t.EnrollmentID, &patientID)
		if err != nil {
			return fmt.Errorf("enrollment %s: %w", enrollmentUUID, ErrNotFound)
		}
		t.OrgID, t.EnrollmentUUID = orgID, enrollmentUUID
		t.UUID = NewUUID()
		t.CreatedAt = tx.Now
		res, err := tx.Exec(`INSERT INTO time_entries (uuid, org_id, enrollment_id, user_id, started_at, seconds, interactive, note, created_at)
			VALUES (?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?)`, t.UUID, orgID, t.EnrollmentID, t.UserID, unix(t.StartedAt),
			int64(t.Duration/time.Second), boolInt(t.Interactive), t.Note, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("log time: %w", err)
		}
		t.ID, _ = res.LastInsertId()
		if err := tx.Event(orgID, EventTimeLogged, "enrollment", t.EnrollmentID, map[string]any{"enrollmentId": t.EnrollmentID, "patientId": patientID}); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "time-entry", t.UUID, patientID, t.Duration.String())
	})
}

// TimeEntries lists an enrollment's time in [from, to), oldest first
// (zero times: no bound).
func (s *Store) TimeEntries(ctx context.Context, orgID int64, enrollmentUUID string, from, to time.Time) ([]TimeEntry, error) {
	q := `SELECT t.id, t.uuid, t.org_id, t.enrollment_id, e.uuid, COALESCE(t.user_id, 0), COALESCE(u.uuid, ''), COALESCE(u.name, ''), t.started_at,
			t.seconds, t.interactive, t.note, t.created_at
		FROM time_entries t JOIN enrollments e ON e.id = t.enrollment_id LEFT JOIN users u ON u.id = t.user_id
		WHERE t.org_id = ? AND e.uuid = ?`
	args := []any{orgID, enrollmentUUID}
	if !from.IsZero() {
		q += ` AND t.started_at >= ?`
		args = append(args, unix(from))
	}
	if !to.IsZero() {
		q += ` AND t.started_at < ?`
		args = append(args, unix(to))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY t.started_at, t.id LIMIT 5000`, args...)
	if err != nil {
		return nil, fmt.Errorf("time entries: %w", err)
	}
	defer rows.Close()
	var out []TimeEntry
	for rows.Next() {
		var t TimeEntry
		var start, secs, c int64
		if err := rows.Scan(&t.ID, &t.UUID, &t.OrgID, &t.EnrollmentID, &t.EnrollmentUUID, &t.UserID, &t.UserUUID, &t.UserName, &start,
			&secs, &t.Interactive, &t.Note, &c); err != nil {
			return nil, fmt.Errorf("time entries: %w", err)
		}
		t.StartedAt, t.Duration, t.CreatedAt = fromUnix(start), time.Duration(secs)*time.Second, fromUnix(c)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if out == nil {
		// Tell an enrollment without time from one that does not exist.
		if _, err := s.Enrollment(ctx, orgID, enrollmentUUID); errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}
