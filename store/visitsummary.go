package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// VisitSummary is everything a visit's printed summary shows, read at one
// moment.
type VisitSummary struct {
	Org          Org
	Patient      Patient
	Appointment  Appointment
	Room         WaitingRoom
	Clinician    string // the appointment's provider ("" when none)
	Note         *Note  // nil when the visit has no note
	Observations []Observation
	Attachments  []Attachment
	PrintedAt    time.Time // when it was read, from the store's clock
}

// VisitSummary reads an appointment's summary: its note (if any), the
// patient's observations of the visit's day (in the room's time zone, and
// any recorded against the appointment), and its attachments.
func (s *Store) VisitSummary(ctx context.Context, orgID, appointmentID int64) (*VisitSummary, error) {
	a, err := s.Appointment(ctx, orgID, appointmentID)
	if err != nil {
		return nil, err
	}
	out := &VisitSummary{Appointment: *a, PrintedAt: s.now().UTC()}
	org, err := s.Org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out.Org = *org
	p, err := s.PatientBy(ctx, orgID, ByID, fmt.Sprint(a.PatientID))
	if err != nil {
		return nil, err
	}
	out.Patient = *p
	room, err := s.WaitingRoom(ctx, orgID, a.WaitingRoomID)
	if err != nil {
		return nil, err
	}
	out.Room = *room
	if a.ProviderID != 0 {
		if u, err := s.User(ctx, orgID, a.ProviderID); err == nil {
			out.Clinician = u.Name
			if out.Clinician == "" {
				out.Clinician = u.Email
			}
		}
	}
	out.Note, err = s.AppointmentNote(ctx, orgID, a.ID)
	if errors.Is(err, ErrNotFound) {
		out.Note, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	loc := room.Location()
	start := a.Start.In(loc)
	day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
	out.Observations, err = s.observationsOfVisit(ctx, orgID, a, day, day.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	out.Attachments, err = s.Attachments(ctx, orgID, a.ID)
	return out, err
}

// obsTime is when an observation was measured, or received when the sender
// gave no time we could read.
const obsTime = `COALESCE(NULLIF(measured_at, 0), created_at)`

func (s *Store) observationsOfVisit(ctx context.Context, orgID int64, a *Appointment, from, to time.Time) ([]Observation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+observationCols+` FROM observations
		WHERE org_id = ? AND is_qc = 0 AND patient_id = ? AND (appointment_id = ? OR (`+obsTime+` >= ? AND `+obsTime+` < ?))
		ORDER BY `+obsTime+`, id`, orgID, a.PatientID, a.ID, unix(from), unix(to))
	if err != nil {
		return nil, fmt.Errorf("observations of visit: %w", err)
	}
	defer rows.Close()
	var out []Observation
	var o Observation
	d := newObservationDest(&o)
	for rows.Next() {
		if err := d.scan(rows); err != nil {
			return nil, fmt.Errorf("observations of visit: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// MaxResultsReport bounds a results report: years of several daily readings.
const MaxResultsReport = 50000

// PatientResults lists a patient's observations (not QC) measured in
// [from, to), by code and then time, for the results report. More than
// MaxResultsReport is a validation error asking for a shorter period.
func (s *Store) PatientResults(ctx context.Context, orgID, patientID int64, from, to time.Time) ([]Observation, error) {
	if _, err := s.PatientBy(ctx, orgID, ByID, fmt.Sprint(patientID)); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+observationCols+` FROM observations
		WHERE org_id = +? AND patient_id = +? AND is_qc = 0 AND `+obsTime+` >= +? AND `+obsTime+` < +?
		ORDER BY code_system, code, `+obsTime+`, id LIMIT +?`, orgID, patientID, unix(from), unix(to), MaxResultsReport+1)
	if err != nil {
		return nil, fmt.Errorf("patient results: %w", err)
	}
	defer rows.Close()
	var out []Observation
	var o Observation
	d := newObservationDest(&o)
	for rows.Next() {
		if err := d.scan(rows); err != nil {
			return nil, fmt.Errorf("patient results: %w", err)
		}
		out = append(out, o)
	}
	if len(out) > MaxResultsReport {
		return nil, Invalid("from", fmt.Sprintf("the period holds more than %d results; choose a shorter one", MaxResultsReport))
	}
	return out, rows.Err()
}
