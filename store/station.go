package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Station events.
const (
	EventStationSelected     = "station:selected"
	EventObservationAssigned = "observation:assigned"
)

// StationSelectionTTL is how long a patient stays selected at a station.
// Results that name nobody go to the selected patient, so a selection that
// was forgotten must not catch the next patient's readings for long.
const StationSelectionTTL = 2 * time.Hour

// StationSelection is the patient a clinician chose at a station.
type StationSelection struct {
	OrgID      int64
	Station    string
	PatientID  int64
	SelectedBy int64
	SelectedAt time.Time
	ExpiresAt  time.Time
}

// SelectStationPatient makes patientID the current patient of a station
// (patientID 0 clears the selection).
func (s *Store) SelectStationPatient(ctx context.Context, orgID int64, station string, patientID int64) error {
	station = strings.TrimSpace(station)
	if station == "" {
		return Invalid("station", "is required")
	}
	return s.write(ctx, func(tx *txn) error {
		if patientID != 0 {
			if _, err := patientBy(ctx, txQueryer{tx}, orgID, ByID, fmt.Sprint(patientID)); err != nil {
				return err
			}
		}
		return selectStationPatientTx(ctx, tx, orgID, station, patientID)
	})
}

// selectStationPatientTx makes patientID (checked by the caller) the
// station's current patient within a write; 0 clears.
func selectStationPatientTx(ctx context.Context, tx *txn, orgID int64, station string, patientID int64) error {
	if patientID == 0 {
		if _, err := tx.Exec(`DELETE FROM station_selections WHERE org_id = ? AND station = ?`, orgID, station); err != nil {
			return fmt.Errorf("clear station: %w", err)
		}
	} else {
		_, err := tx.Exec(`INSERT INTO station_selections (org_id, station, patient_id, selected_by, selected_at, expires_at)
			VALUES (?, ?, ?, NULLIF(?, 0), ?, ?)
			ON CONFLICT (org_id, station) DO UPDATE SET patient_id = excluded.patient_id,
			selected_by = excluded.selected_by, selected_at = excluded.selected_at, expires_at = excluded.expires_at`,
			orgID, station, patientID, ActorFrom(ctx).UserID, unix(tx.Now), unix(tx.Now.Add(StationSelectionTTL)))
		if err != nil {
			return fmt.Errorf("select station patient: %w", err)
		}
		if err := tx.Audit(orgID, "select", "station", station, patientID, ""); err != nil {
			return err
		}
	}
	return tx.Event(orgID, EventStationSelected, "station", 0, map[string]any{"station": station, "patientId": patientID})
}

// StationSelection returns a station's current patient; ErrNotFound when
// none is selected or the selection has expired.
func (s *Store) StationSelection(ctx context.Context, orgID int64, station string) (*StationSelection, error) {
	var sel StationSelection
	var by sql.NullInt64
	var at, exp int64
	err := s.r.QueryRowContext(ctx, `SELECT org_id, station, patient_id, selected_by, selected_at, expires_at
		FROM station_selections WHERE org_id = ? AND station = ? AND expires_at > ?`, orgID, station, unix(s.Now())).
		Scan(&sel.OrgID, &sel.Station, &sel.PatientID, &by, &at, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("station %q selection: %w", station, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("station %q selection: %w", station, err)
	}
	sel.SelectedBy = by.Int64
	sel.SelectedAt, sel.ExpiresAt = fromUnix(at), fromUnix(exp)
	return &sel, nil
}

// AssignObservations puts unmatched observations on a patient (the
// unmatched queue). Only observations with no patient that are not QC are
// assigned; it returns how many were.
func (s *Store) AssignObservations(ctx context.Context, orgID, patientID int64, ids []int64) (int, error) {
	if patientID == 0 {
		return 0, Invalid("patient", "is required")
	}
	if len(ids) == 0 {
		return 0, Invalid("observations", "choose at least one")
	}
	if len(ids) > 5000 {
		return 0, Invalid("observations", "at most 5000 at once")
	}
	n := 0
	err := s.write(ctx, func(tx *txn) error {
		if _, err := patientBy(ctx, txQueryer{tx}, orgID, ByID, fmt.Sprint(patientID)); err != nil {
			return err
		}
		// The results join the patient's open encounter (a walk-in opened
		// at the station for them, or today's appointment), as results that
		// arrive matched do.
		encounter, err := openEncounterOf(tx, orgID, patientID)
		if err != nil {
			return err
		}
		var samples []string
		for _, id := range ids {
			var sample string
			err := tx.QueryRow(`UPDATE observations SET patient_id = ?, appointment_id = COALESCE(appointment_id, NULLIF(?, 0))
				WHERE org_id = ? AND id = ? AND patient_id IS NULL AND is_qc = 0 RETURNING specimen_id`,
				patientID, encounter, orgID, id).Scan(&sample)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("assign observations: %w", err)
			}
			n++
			samples = append(samples, sample)
			if err := tx.Event(orgID, EventObservationAssigned, "observation", id,
				map[string]any{"observationId": id, "patientId": patientID}); err != nil {
				return err
			}
		}
		if n == 0 {
			return Conflict("none of those observations is waiting to be assigned")
		}
		// A host query's order for these samples now has its patient.
		if err := updateOrderStates(tx, orgID, samples); err != nil {
			return err
		}
		return tx.Audit(orgID, "assign", "observation", "", patientID, fmt.Sprintf("%d unmatched observations", n))
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// SampleOrder is a sample labelled for a patient: results and host queries
// that name only the sample id find their patient through it, and a query
// gets its tests back.
type SampleOrder struct {
	ID            int64
	UUID          string
	OrgID         int64
	SampleID      string
	PatientID     int64 // 0: a host-query order for a sample no patient is known for yet
	AppointmentID int64
	Station       string
	Tests         []string // test codes as the analyser names them
	Priority      string   // R routine, S stat
	State         string   // requested, ordered, partial, resulted: follows the results (see order.go)
	Source        string   // page, api, host-query
	CreatedBy     int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Validate checks a sample order.
func (o *SampleOrder) Validate() error { return o.validate(true) }

// validate checks a sample order; needPatient is false only for an order a
// host query requests for a sample no patient is known for.
func (o *SampleOrder) validate(needPatient bool) error {
	var v Validator
	o.SampleID = strings.TrimSpace(o.SampleID)
	v.Check(o.SampleID != "", "sampleId", "is required")
	v.Check(len(o.SampleID) <= MaxShortID && !strings.ContainsAny(o.SampleID, "|\\^&\r\n"), "sampleId",
		"must be at most 100 characters without | \\ ^ & or line breaks")
	v.Line("sampleId", o.SampleID, MaxShortID)
	v.Check(o.PatientID > 0 || !needPatient, "patient", "is required")
	if o.Priority == "" {
		o.Priority = "R"
	}
	if o.Source == "" {
		o.Source = "page"
	}
	v.Check(o.Source == "page" || o.Source == "api" || o.Source == "host-query", "source", "must be page, api or host-query")
	v.Check(o.Priority == "R" || o.Priority == "S", "priority", "must be R (routine) or S (stat)")
	v.Check(len(o.Tests) <= 100, "tests", "at most 100 tests")
	for _, t := range o.Tests {
		v.Check(t != "" && len(t) <= 50 && !strings.ContainsAny(t, "|\\^& \r\n") && !HasControl(t), "tests", "each test code must be 1 to 50 characters without spaces, delimiters or control characters")
	}
	return v.Err()
}

// CreateSampleOrder labels a sample for a patient.
func (s *Store) CreateSampleOrder(ctx context.Context, orgID int64, o *SampleOrder) error {
	o.OrgID = orgID
	if err := o.Validate(); err != nil {
		return err
	}
	o.CreatedBy = ActorFrom(ctx).UserID
	return s.write(ctx, func(tx *txn) error {
		if _, err := patientBy(ctx, txQueryer{tx}, orgID, ByID, fmt.Sprint(o.PatientID)); err != nil {
			if errors.Is(err, ErrNotFound) {
				return Invalid("patient", "does not exist")
			}
			return err
		}
		if o.AppointmentID > 0 {
			var pid int64
			err := tx.QueryRow(`SELECT patient_id FROM appointments WHERE org_id = ? AND id = ?`, orgID, o.AppointmentID).Scan(&pid)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && pid != o.PatientID) {
				return Invalid("encounter", "does not exist for this patient")
			} else if err != nil {
				return fmt.Errorf("create sample order: %w", err)
			}
		}
		o.UUID = NewUUID()
		o.CreatedAt, o.UpdatedAt, o.State = tx.Now, tx.Now, OrderOrdered
		res, err := tx.Exec(`INSERT INTO sample_orders (uuid, org_id, sample_id, patient_id, appointment_id, station,
			tests, priority, created_by, created_at, state, source, updated_at)
			VALUES (?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?)`,
			o.UUID, orgID, o.SampleID, o.PatientID, o.AppointmentID, o.Station, strings.Join(o.Tests, " "),
			o.Priority, o.CreatedBy, unix(tx.Now), o.State, o.Source, unix(tx.Now))
		if isUnique(err) {
			return Conflict(fmt.Sprintf("sample %q is already labelled", o.SampleID))
		}
		if err != nil {
			return fmt.Errorf("create sample order: %w", err)
		}
		o.ID, _ = res.LastInsertId()
		// Results that arrived before the label count at once.
		if err := updateOrderStates(tx, orgID, []string{o.SampleID}); err != nil {
			return err
		}
		if err := tx.Event(orgID, EventOrderUpdated, "order", o.ID, map[string]any{"orderId": o.ID, "state": o.State}); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "sample-order", o.SampleID, o.PatientID, strings.Join(o.Tests, " "))
	})
}

const sampleOrderCols = `id, uuid, org_id, sample_id, COALESCE(patient_id, 0), COALESCE(appointment_id, 0), station, tests,
	priority, COALESCE(created_by, 0), created_at, state, source, updated_at`

func scanSampleOrder(row interface{ Scan(...any) error }) (*SampleOrder, error) {
	var o SampleOrder
	var tests string
	var c, u int64
	err := row.Scan(&o.ID, &o.UUID, &o.OrgID, &o.SampleID, &o.PatientID, &o.AppointmentID, &o.Station, &tests,
		&o.Priority, &o.CreatedBy, &c, &o.State, &o.Source, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	o.Tests = strings.Fields(tests)
	o.CreatedAt, o.UpdatedAt = fromUnix(c), fromUnix(u)
	return &o, nil
}

// SampleOrderBySample finds the order of a sample id.
func (s *Store) SampleOrderBySample(ctx context.Context, orgID int64, sampleID string) (*SampleOrder, error) {
	if sampleID == "" {
		return nil, fmt.Errorf("sample order: %w", ErrNotFound)
	}
	o, err := scanSampleOrder(s.r.QueryRowContext(ctx, `SELECT `+sampleOrderCols+` FROM sample_orders
		WHERE org_id = ? AND sample_id = ?`, orgID, sampleID))
	if err != nil {
		return nil, fmt.Errorf("sample order %q: %w", sampleID, err)
	}
	return o, nil
}

// SampleOrders lists the newest sample orders of a station ("" = all).
func (s *Store) SampleOrders(ctx context.Context, orgID int64, station string, limit int) ([]SampleOrder, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	q := `SELECT ` + sampleOrderCols + ` FROM sample_orders WHERE org_id = ?`
	args := []any{orgID}
	if station != "" {
		q += ` AND station = ?`
		args = append(args, station)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sample orders: %w", err)
	}
	defer rows.Close()
	var out []SampleOrder
	for rows.Next() {
		o, err := scanSampleOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("sample orders: %w", err)
		}
		out = append(out, *o)
	}
	return out, rows.Err()
}

// PatientIDsByIdentifier returns the ids of the organisation's patients
// that carry value under any of keys (all identifier keys when none are
// given): what instrument ingestion matches a message's patient ids with.
// One query; each arm can use its column's index. More than one id means
// the identifier is ambiguous.
func (s *Store) PatientIDsByIdentifier(ctx context.Context, orgID int64, value string, keys ...PatientKey) ([]int64, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, nil
	}
	if len(keys) == 0 {
		keys = []PatientKey{ByUUID, ByMRN, ByExternalID, ByNationalID, ByHSID}
	}
	arms := map[PatientKey]string{
		ByUUID:       `uuid = ?2`,
		ByMRN:        `mrn = ?2 AND mrn <> ''`,
		ByExternalID: `external_id = ?2`,
		ByNationalID: `national_id = ?2 AND national_id <> ''`,
		ByHSID:       `hsid = ?2 AND hsid <> ''`,
	}
	var parts []string
	for _, k := range keys {
		arm, ok := arms[k]
		if !ok {
			return nil, fmt.Errorf("patients by identifier: unknown key %q", k)
		}
		parts = append(parts, `SELECT id FROM patients WHERE org_id = ?1 AND `+arm)
	}
	rows, err := s.r.QueryContext(ctx, strings.Join(parts, " UNION ")+` LIMIT 10`, orgID, value)
	if err != nil {
		return nil, fmt.Errorf("patients by identifier: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("patients by identifier: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
