package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// An encounter is the visit that groups results: an appointment, the same
// row every face sees. A walk-in encounter is an appointment opened at an
// instrument station for a patient who had none; it lives in the
// organisation's "Walk-in" waiting room (created on first use).

// WalkInRoom is the waiting room walk-in encounters are kept in.
const WalkInRoom = "Walk-in"

// Encounter is an appointment seen as an encounter.
type Encounter struct {
	Appointment
	PatientUUID   string
	WalkInStation string // "" for a booked appointment
}

// WalkIn reports whether the encounter was opened at a station.
func (e *Encounter) WalkIn() bool { return e.WalkInStation != "" }

// CreateWalkIn opens a walk-in encounter for a patient at a station: an
// appointment that starts now, already arrived.
func (s *Store) CreateWalkIn(ctx context.Context, orgID, patientID int64, station string) (*Encounter, error) {
	station = strings.TrimSpace(station)
	var v Validator
	v.Check(patientID > 0, "patient", "is required")
	v.Check(station != "", "station", "is required (at most 100 characters)")
	v.Line("station", station, MaxShortID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var id int64
	err := s.write(ctx, func(tx *txn) error {
		var err error
		id, err = createWalkInTx(ctx, tx, orgID, patientID, station)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.EncounterByID(ctx, orgID, id)
}

// createWalkInTx opens a walk-in encounter within a write and returns its
// appointment id. The caller has checked the patient.
func createWalkInTx(ctx context.Context, tx *txn, orgID, patientID int64, station string) (int64, error) {
	var roomID int64
	err := tx.QueryRow(`SELECT id FROM waiting_rooms WHERE org_id = ? AND name = ?`, orgID, WalkInRoom).Scan(&roomID)
	if errors.Is(err, sql.ErrNoRows) {
		res, err := tx.Exec(`INSERT INTO waiting_rooms (uuid, org_id, name, service_line, slot_duration, created_at, updated_at)
			VALUES (?, ?, ?, 'point of care', 900, ?, ?)`, NewUUID(), orgID, WalkInRoom, unix(tx.Now), unix(tx.Now))
		if err != nil {
			return 0, fmt.Errorf("walk-in room: %w", err)
		}
		roomID, _ = res.LastInsertId()
	} else if err != nil {
		return 0, fmt.Errorf("walk-in room: %w", err)
	}
	a := &Appointment{PatientID: patientID, WaitingRoomID: roomID, Status: StatusArrived, Start: tx.Now,
		Reasons: []string{"walk-in at " + station}}
	if err := createAppointmentTx(ctx, tx, orgID, a); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(`UPDATE appointments SET walk_in_station = ?, arrived_at = ? WHERE id = ?`, station, unix(tx.Now), a.ID); err != nil {
		return 0, fmt.Errorf("create walk-in: %w", err)
	}
	return a.ID, nil
}

// StationWalkIn is a patient without an appointment who comes to an
// instrument station: a known patient (PatientID), or one found or
// registered by MRN with the name and birth date staff typed.
type StationWalkIn struct {
	Station   string
	PatientID int64
	MRN       string
	FirstName string
	LastName  string
	BirthDate string // YYYY-MM-DD
}

// OpenStationWalkIn is the walk-in button of a station page, in one
// write: the patient (registered when the MRN is new), a walk-in
// encounter at the station, and the patient made the station's current
// patient, so the readings that follow (and results assigned from the
// unmatched queue) land on that encounter. A patient who already has an
// open walk-in at the station opened within the selection window gets
// that one again (created false): a double click does not open two. An
// MRN that belongs to a patient with another last name is refused: a
// mistyped MRN must not put readings on someone else.
func (s *Store) OpenStationWalkIn(ctx context.Context, orgID int64, in StationWalkIn) (enc *Encounter, created bool, err error) {
	in.Station = strings.TrimSpace(in.Station)
	in.MRN = strings.TrimSpace(in.MRN)
	in.FirstName, in.LastName = strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	var v Validator
	v.Check(in.Station != "" && len(in.Station) <= 100, "station", "is required (at most 100 characters)")
	if in.PatientID == 0 {
		v.Check(in.MRN != "", "mrn", "is required")
		v.Line("mrn", in.MRN, 100)
		v.Check(in.LastName != "", "last_name", "is required")
		v.Line("first_name", in.FirstName, 200)
		v.Line("last_name", in.LastName, 200)
		if in.BirthDate != "" {
			_, perr := time.Parse("2006-01-02", in.BirthDate)
			v.Check(perr == nil, "birth_date", "must be a date (YYYY-MM-DD)")
		}
	}
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	var id int64
	err = s.write(ctx, func(tx *txn) error {
		var p *Patient
		var err error
		if in.PatientID > 0 {
			p, err = patientByTx(ctx, tx, orgID, ByID, strconv.FormatInt(in.PatientID, 10))
		} else {
			p, err = patientByTx(ctx, tx, orgID, ByMRN, in.MRN)
			switch {
			case errors.Is(err, ErrNotFound):
				p = &Patient{MRN: in.MRN, BirthDate: in.BirthDate, Active: true}
				p.setFirstLast(in.FirstName, in.LastName)
				err = createPatientTx(tx, orgID, p)
			case err == nil && !strings.EqualFold(p.LastName(), in.LastName):
				return Invalid("mrn", "belongs to a patient with another last name: search for the patient instead")
			}
		}
		if err != nil {
			return err
		}
		err = tx.QueryRow(`SELECT id FROM appointments WHERE org_id = ? AND patient_id = ? AND walk_in_station = ?
			AND start_at >= ? AND status NOT IN (?, ?, ?, ?) ORDER BY id DESC LIMIT 1`, orgID, p.ID, in.Station,
			unix(tx.Now.Add(-StationSelectionTTL)), StatusCompleted, StatusSignOff, StatusCancelled, StatusNoShow).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if id, err = createWalkInTx(ctx, tx, orgID, p.ID, in.Station); err != nil {
				return err
			}
			created = true
		case err != nil:
			return fmt.Errorf("station walk-in: %w", err)
		}
		return selectStationPatientTx(ctx, tx, orgID, in.Station, p.ID)
	})
	if err != nil {
		return nil, false, err
	}
	enc, err = s.EncounterByID(ctx, orgID, id)
	return enc, created, err
}

const encounterCols = `, p.uuid, a.walk_in_station`

// EncounterByID returns an encounter by row id.
func (s *Store) EncounterByID(ctx context.Context, orgID, id int64) (*Encounter, error) {
	return s.encounterWhere(ctx, `a.org_id = ? AND a.id = ?`, orgID, id)
}

// Encounter returns an encounter by its public id.
func (s *Store) Encounter(ctx context.Context, orgID int64, uuid string) (*Encounter, error) {
	return s.encounterWhere(ctx, `a.org_id = ? AND a.uuid = ?`, orgID, uuid)
}

func (s *Store) encounterWhere(ctx context.Context, where string, args ...any) (*Encounter, error) {
	var e Encounter
	a, err := scanAppointment(s.r.QueryRowContext(ctx, `SELECT `+prefixCols("a.", appointmentCols)+encounterCols+`
		FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE `+where, args...), &e.PatientUUID, &e.WalkInStation)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) || errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("encounter: %w", ErrNotFound)
		}
		return nil, fmt.Errorf("encounter: %w", err)
	}
	e.Appointment = *a
	return &e, nil
}

// EncounterFilter selects encounters.
type EncounterFilter struct {
	PatientID int64
	Station   string    // walk-ins of this station
	From, To  time.Time // start in [From, To)
	Open      bool      // neither finished nor cancelled
	AfterID   int64
	Limit     int
}

// Encounters lists encounters oldest first by id (a stable cursor).
func (s *Store) Encounters(ctx context.Context, orgID int64, f EncounterFilter) ([]Encounter, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	where := `a.org_id = ?`
	args := []any{orgID}
	if f.PatientID > 0 {
		where += ` AND a.patient_id = ?`
		args = append(args, f.PatientID)
	}
	if f.Station != "" {
		where += ` AND a.walk_in_station = ?`
		args = append(args, f.Station)
	}
	if !f.From.IsZero() {
		where += ` AND a.start_at >= ?`
		args = append(args, unix(f.From))
	}
	if !f.To.IsZero() {
		where += ` AND a.start_at < ?`
		args = append(args, unix(f.To))
	}
	if f.Open {
		where += ` AND a.status NOT IN (?, ?, ?, ?)`
		args = append(args, StatusCompleted, StatusSignOff, StatusCancelled, StatusNoShow)
	}
	if f.AfterID > 0 {
		where += ` AND a.id > ?`
		args = append(args, f.AfterID)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixCols("a.", appointmentCols)+encounterCols+`
		FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE `+where+` ORDER BY a.id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("encounters: %w", err)
	}
	defer rows.Close()
	out := []Encounter{}
	for rows.Next() {
		var e Encounter
		a, err := scanAppointment(rows, &e.PatientUUID, &e.WalkInStation)
		if err != nil {
			return nil, fmt.Errorf("encounters: %w", err)
		}
		e.Appointment = *a
		out = append(out, e)
	}
	return out, rows.Err()
}

// CompleteEncounter marks an encounter completed (appointment:completed:
// a LIS destination that sends whole encounters sends it then).
func (s *Store) CompleteEncounter(ctx context.Context, orgID int64, uuid string) (*Encounter, error) {
	e, err := s.Encounter(ctx, orgID, uuid)
	if err != nil {
		return nil, err
	}
	if e.Status == StatusCancelled || e.Status == StatusNoShow {
		return nil, Conflict("a cancelled encounter cannot be completed")
	}
	if e.Status != StatusCompleted {
		if _, err := s.UpdateAppointment(ctx, orgID, e.ID, func(a *Appointment) error {
			a.Status = StatusCompleted
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return s.EncounterByID(ctx, orgID, e.ID)
}

// openEncounterOf is the encounter a result of a patient belongs to when
// its message named none: the patient's newest open encounter that started
// within the last 24 hours.
func openEncounterOf(tx *txn, orgID, patientID int64) (int64, error) {
	var id int64
	err := tx.QueryRow(`SELECT id FROM appointments WHERE org_id = ? AND patient_id = ? AND start_at BETWEEN ? AND ?
		AND status NOT IN (?, ?, ?, ?) ORDER BY start_at DESC, id DESC LIMIT 1`, orgID, patientID,
		unix(tx.Now.Add(-24*time.Hour)), unix(tx.Now.Add(time.Hour)),
		StatusCompleted, StatusSignOff, StatusCancelled, StatusNoShow).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open encounter: %w", err)
	}
	return id, nil
}
