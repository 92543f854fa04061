package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Episode event types, as the telehealth webhooks name them.
const (
	EventEpisodeCreated = "episode:created"
	EventEpisodeUpdated = "episode:updated"
)

// EpisodeStatuses are the statuses an episode of care can have, stored in
// lower case (the API accepts them in any case).
var EpisodeStatuses = []string{"planning", "waitlist", "active", "onhold", "finished", "canceled"}

// Episode is an episode of care: a patient's course of treatment that
// appointments can belong to.
type Episode struct {
	ID               int64
	UUID             string // the API's episode id
	OrgID            int64
	PatientID        int64
	Name             string
	Type             string
	From             string // YYYY-MM-DD
	To               string // YYYY-MM-DD or ""
	Status           string
	Objective        string
	ReasonIncomplete string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Validate checks an episode's fields and normalises the status to lower case.
func (e *Episode) Validate() error {
	var v Validator
	e.Name, e.Type = strings.TrimSpace(e.Name), strings.TrimSpace(e.Type)
	e.Status = strings.ToLower(strings.TrimSpace(e.Status))
	v.Check(e.Name != "", "name", "is required")
	v.Check(len(e.Name) <= 200, "name", "must be at most 200 characters")
	v.Line("name", e.Name, MaxLabel)
	v.Check(e.Type != "", "type", "is required")
	v.Check(len(e.Type) <= 100, "type", "must be at most 100 characters")
	v.Line("type", e.Type, MaxShortID)
	from, errFrom := time.Parse("2006-01-02", e.From)
	switch {
	case e.From == "":
		v.Add("from", "is required")
	case errFrom != nil:
		v.Add("from", "must be a date as YYYY-MM-DD")
	default:
		v.Date("from", from)
	}
	if e.To != "" {
		to, err := time.Parse("2006-01-02", e.To)
		if err != nil {
			v.Add("to", "must be a date as YYYY-MM-DD")
		} else if errFrom == nil && to.Before(from) {
			v.Add("to", "must not be before from")
		} else {
			v.Date("to", to)
		}
	}
	if e.Status == "" {
		v.Add("status", "is required")
	} else if !slices.Contains(EpisodeStatuses, e.Status) {
		v.Add("status", "must be one of PLANNING, WAITLIST, ACTIVE, ONHOLD, FINISHED, CANCELED")
	}
	v.Check(len(e.Objective) <= 2000, "objective", "must be at most 2000 characters")
	v.Check(len(e.ReasonIncomplete) <= 2000, "reasonIncomplete", "must be at most 2000 characters")
	v.Text("objective", e.Objective, MaxParagraph)
	v.Text("reasonIncomplete", e.ReasonIncomplete, MaxParagraph)
	return v.Err()
}

// CreateEpisode stores a new episode of care for a patient of the organisation.
func (s *Store) CreateEpisode(ctx context.Context, orgID int64, e *Episode) error {
	e.OrgID = orgID
	if err := e.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		if _, err := patientBy(ctx, txQueryer{tx}, orgID, ByID, fmt.Sprint(e.PatientID)); err != nil {
			return err
		}
		e.UUID = NewUUID()
		e.CreatedAt, e.UpdatedAt = tx.Now, tx.Now
		res, err := tx.Exec(`INSERT INTO episodes (uuid, org_id, patient_id, name, type, from_date, to_date, status,
			objective, reason_incomplete, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.UUID, orgID, e.PatientID, e.Name, e.Type, e.From, e.To, e.Status, e.Objective, e.ReasonIncomplete,
			unix(tx.Now), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create episode: %w", err)
		}
		e.ID, _ = res.LastInsertId()
		if err := tx.Event(orgID, EventEpisodeCreated, "episode", e.ID, map[string]any{"episodeId": e.UUID, "patientId": e.PatientID}); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "episode", e.UUID, e.PatientID, e.Name)
	})
}

const episodeCols = `id, uuid, org_id, patient_id, name, type, from_date, to_date, status, objective,
	reason_incomplete, created_at, updated_at`

func scanEpisode(row interface{ Scan(...any) error }) (*Episode, error) {
	var e Episode
	var c, u int64
	err := row.Scan(&e.ID, &e.UUID, &e.OrgID, &e.PatientID, &e.Name, &e.Type, &e.From, &e.To, &e.Status,
		&e.Objective, &e.ReasonIncomplete, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	e.CreatedAt, e.UpdatedAt = fromUnix(c), fromUnix(u)
	return &e, nil
}

// Episode returns an episode of the organisation by its uuid.
func (s *Store) Episode(ctx context.Context, orgID int64, uuid string) (*Episode, error) {
	e, err := scanEpisode(s.r.QueryRowContext(ctx, `SELECT `+episodeCols+` FROM episodes WHERE org_id = ? AND uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("episode %s: %w", uuid, err)
	}
	return e, nil
}

// EpisodeByID returns an episode of the organisation by its integer id.
func (s *Store) EpisodeByID(ctx context.Context, orgID, id int64) (*Episode, error) {
	e, err := scanEpisode(s.r.QueryRowContext(ctx, `SELECT `+episodeCols+` FROM episodes WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("episode %d: %w", id, err)
	}
	return e, nil
}

// Episodes lists a patient's episodes of care, oldest first.
func (s *Store) Episodes(ctx context.Context, orgID, patientID int64) ([]Episode, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+episodeCols+` FROM episodes WHERE org_id = ? AND patient_id = ? ORDER BY id`, orgID, patientID)
	if err != nil {
		return nil, fmt.Errorf("episodes: %w", err)
	}
	defer rows.Close()
	var out []Episode
	for rows.Next() {
		e, err := scanEpisode(rows)
		if err != nil {
			return nil, fmt.Errorf("episodes: %w", err)
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// UpdateEpisode loads an episode, lets change modify it, validates and saves
// it with an episode:updated event.
func (s *Store) UpdateEpisode(ctx context.Context, orgID int64, uuid string, change func(*Episode) error) (*Episode, error) {
	var out *Episode
	err := s.write(ctx, func(tx *txn) error {
		e, err := scanEpisode(tx.QueryRow(`SELECT `+episodeCols+` FROM episodes WHERE org_id = ? AND uuid = ?`, orgID, uuid))
		if err != nil {
			return err
		}
		if err := change(e); err != nil {
			return err
		}
		if err := e.Validate(); err != nil {
			return err
		}
		e.UpdatedAt = tx.Now
		if _, err := tx.Exec(`UPDATE episodes SET name = ?, type = ?, from_date = ?, to_date = ?, status = ?, objective = ?,
			reason_incomplete = ?, updated_at = ? WHERE org_id = ? AND id = ?`, e.Name, e.Type, e.From, e.To, e.Status,
			e.Objective, e.ReasonIncomplete, unix(tx.Now), orgID, e.ID); err != nil {
			return fmt.Errorf("update episode: %w", err)
		}
		if err := tx.Event(orgID, EventEpisodeUpdated, "episode", e.ID, map[string]any{"episodeId": e.UUID, "patientId": e.PatientID}); err != nil {
			return err
		}
		if err := tx.Audit(orgID, "update", "episode", e.UUID, e.PatientID, e.Status); err != nil {
			return err
		}
		out = e
		return nil
	})
	return out, err
}

// AssignEpisode puts an appointment into an episode of care of the same
// patient, or takes it out of its episode when episodeUUID is "".
func (s *Store) AssignEpisode(ctx context.Context, orgID, appointmentID int64, episodeUUID string) (*Appointment, error) {
	var out *Appointment
	err := s.write(ctx, func(tx *txn) error {
		var epID, epPatient int64
		if episodeUUID != "" {
			err := tx.QueryRow(`SELECT id, patient_id FROM episodes WHERE org_id = ? AND uuid = ?`, orgID, episodeUUID).Scan(&epID, &epPatient)
			if errors.Is(err, sql.ErrNoRows) {
				return Invalid("episodeId", "does not exist")
			}
			if err != nil {
				return fmt.Errorf("assign episode: %w", err)
			}
		}
		a, err := updateAppointmentTx(ctx, tx, orgID, appointmentID, func(a *Appointment) error {
			if epID != 0 && epPatient != a.PatientID {
				return Invalid("episodeId", "is an episode of another patient")
			}
			a.EpisodeID = epID
			return nil
		})
		out = a
		return err
	})
	return out, err
}
