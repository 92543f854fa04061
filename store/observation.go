package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Observation is one measured value, whatever brought it in: a serial
// instrument, a vendor's API call, a home device. Values are carried exactly
// as sent; interpretation (units, flags) is the sender's, never ours.
type Observation struct {
	ID             int64
	UUID           string
	OrgID          int64
	PatientID      int64 // 0 = not matched to a patient yet
	AppointmentID  int64
	DeviceID       int64
	Source         string // serial, instrument-api, monitoring, poct, manual
	MessageID      int64  // raw message it came from, if any
	Category       string // e.g. laboratory, vital-signs, ecg, spirometry
	CodeSystem     string // NPU, LOINC, local, ...
	Code           string
	Display        string
	Value          string
	Unit           string
	ReferenceRange string
	Flags          string
	Status         string
	MeasuredAtText string    // as sent
	MeasuredAt     time.Time // parsed from MeasuredAtText when possible
	QC             bool      // a control sample, never a patient result
	Operator       string
	Instrument     string
	// SpecimenID and PatientText are what the sender said about the sample
	// and the patient (ids, name), verbatim: a LIS matches on them.
	SpecimenID   string
	PatientText  string
	Version      int       // 1, then 2, ... for each correction
	PrevID       int64     // the version this one corrects (0: the first)
	SupersededAt time.Time // when a correction replaced it (zero: current)
	CreatedAt    time.Time
	// Monitoring readings (see reading.go): the metric definition, the
	// numeric value and the home device's own identifier.
	MetricKey      string
	ValueNum       float64
	ExternalDevice string
}

// Validate checks an observation's fields.
func (o *Observation) Validate() error {
	var v Validator
	o.Code = strings.TrimSpace(o.Code)
	v.Check(o.Code != "", "code", "is required")
	v.Check(len(o.Code) <= 200, "code", "must be at most 200 characters")
	v.Check(len(o.Value) <= 10000, "value", "must be at most 10000 characters")
	v.Check(o.Source != "", "source", "is required")
	v.Check(len(o.SpecimenID) <= 200, "specimenId", "must be at most 200 characters")
	v.Check(len(o.PatientText) <= 1000, "patient", "must be at most 1000 characters")
	if o.MessageID == 0 {
		// Entered through an API or a page: text fields are bounded like any
		// other input. Values from an instrument's stored message are
		// evidence and stay verbatim, control characters and all.
		v.Line("code", o.Code, 200)
		v.Text("value", o.Value, 10000)
		if !o.MeasuredAt.IsZero() {
			v.Date("measuredAt", o.MeasuredAt)
		}
		for field, val := range map[string]string{"unit": o.Unit, "referenceRange": o.ReferenceRange, "flags": o.Flags,
			"codeSystem": o.CodeSystem, "display": o.Display,
			"status": o.Status, "specimenId": o.SpecimenID, "operator": o.Operator, "instrument": o.Instrument, "category": o.Category} {
			v.Line(field, val, 1000)
		}
	}
	return v.Err()
}

// AddObservations stores observations entered by hand or by a face that
// carries no message of its own, each with its event. The patients (and
// devices, appointments) they name must belong to the organisation.
func (s *Store) AddObservations(ctx context.Context, orgID int64, obs []Observation) error {
	return s.write(ctx, func(tx *txn) error {
		for _, o := range obs {
			for _, ref := range []struct {
				table string
				id    int64
			}{{"patients", o.PatientID}, {"appointments", o.AppointmentID}, {"devices", o.DeviceID}} {
				if ref.id == 0 {
					continue
				}
				var one int
				err := tx.QueryRow(`SELECT 1 FROM `+ref.table+` WHERE id = ? AND org_id = ?`, ref.id, orgID).Scan(&one)
				if errors.Is(err, sql.ErrNoRows) {
					return ErrNotFound
				}
				if err != nil {
					return fmt.Errorf("add observations: %w", err)
				}
			}
		}
		return addObservationsTx(tx, orgID, obs)
	})
}

// addObservationsTx stores observations within a larger write, each with its
// event. Callers validate the patient and device they name.
func addObservationsTx(tx *txn, orgID int64, obs []Observation) error {
	return insertObservations(tx, orgID, obs, true)
}

// insertObservations inserts obs; created says whether each gets an
// observation:created event (a correction has its own event instead).
func insertObservations(tx *txn, orgID int64, obs []Observation, created bool) error {
	for i := range obs {
		o := &obs[i]
		o.OrgID = orgID
		if err := o.Validate(); err != nil {
			return err
		}
		o.UUID = newTimeUUID(tx.Now)
		o.CreatedAt = tx.Now
		if o.Version == 0 {
			o.Version = 1
		}
		res, err := tx.Exec(`INSERT INTO observations (uuid, org_id, patient_id, appointment_id, device_id, source,
			message_id, category, code_system, code, display, value_text, unit, reference_range, flags, status,
			measured_at_text, measured_at, is_qc, operator, instrument, specimen_id, patient_text, version, prev_id,
			created_at)
			VALUES (?, ?, NULLIF(?, 0), NULLIF(?, 0), NULLIF(?, 0), ?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			?, ?, ?, NULLIF(?, 0), ?)`,
			o.UUID, orgID, o.PatientID, o.AppointmentID, o.DeviceID, o.Source, o.MessageID, o.Category,
			o.CodeSystem, o.Code, o.Display, o.Value, o.Unit, o.ReferenceRange, o.Flags, o.Status,
			o.MeasuredAtText, unix(o.MeasuredAt), boolInt(o.QC), o.Operator, o.Instrument, o.SpecimenID, o.PatientText,
			o.Version, o.PrevID, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("add observation: %w", err)
		}
		o.ID, _ = res.LastInsertId()
		if !created {
			continue
		}
		payload := map[string]any{"observationId": o.ID, "patientId": o.PatientID, "deviceId": o.DeviceID, "qc": o.QC}
		if err := tx.Event(orgID, EventObservationCreated, "observation", o.ID, payload); err != nil {
			return err
		}
	}
	return nil
}

// ObservationFilter selects observations.
type ObservationFilter struct {
	PatientID int64
	DeviceID  int64
	Unmatched bool // only those with no patient
	QC        *bool
	Since     time.Time // created at or after
	AfterID   int64
	Limit     int
}

const observationCols = `id, uuid, org_id, COALESCE(patient_id, 0), COALESCE(appointment_id, 0), COALESCE(device_id, 0),
	source, COALESCE(message_id, 0), category, code_system, code, display, value_text, unit, reference_range, flags,
	status, measured_at_text, measured_at, is_qc, operator, instrument, specimen_id, patient_text, version,
	COALESCE(prev_id, 0), superseded_at, created_at,
	COALESCE(metric_key, ''), COALESCE(value_num, 0.0), external_device`

// observationColsO is observationCols of the table as "o", built once
// (it was built per query).
var observationColsO = prefixCols("o.", observationCols)

func scanObservation(row interface{ Scan(...any) error }) (*Observation, error) {
	var o Observation
	if err := newObservationDest(&o).scan(row); err != nil {
		return nil, err
	}
	return &o, nil
}

// observationDest is where rows of observationCols (and extra columns
// after them) are scanned: into one Observation, row after row, so that a
// listing allocates per row only the values' strings and the copy it
// keeps. A new Observation, its destinations and the extras appended to
// them per row were most of the Go side's cost of a patient's 50 results.
// Every column is read into a field of its own type (version as int64,
// value_num as a real): database/sql converts others through strings.
type observationDest struct {
	o               *Observation
	m, sup, c, vers int64
	dest            []any
}

func newObservationDest(o *Observation, extra ...any) *observationDest {
	d := &observationDest{o: o}
	d.dest = append([]any{&o.ID, &o.UUID, &o.OrgID, &o.PatientID, &o.AppointmentID, &o.DeviceID, &o.Source, &o.MessageID,
		&o.Category, &o.CodeSystem, &o.Code, &o.Display, &o.Value, &o.Unit, &o.ReferenceRange, &o.Flags, &o.Status,
		&o.MeasuredAtText, &d.m, &o.QC, &o.Operator, &o.Instrument, &o.SpecimenID, &o.PatientText, &d.vers,
		&o.PrevID, &d.sup, &d.c, &o.MetricKey, &o.ValueNum, &o.ExternalDevice}, extra...)
	return d
}

// scan reads one row into the Observation (and the extras).
func (d *observationDest) scan(row interface{ Scan(...any) error }) error {
	if err := row.Scan(d.dest...); err != nil {
		return err
	}
	d.o.Version = int(d.vers)
	d.o.MeasuredAt, d.o.SupersededAt, d.o.CreatedAt = fromUnix(d.m), fromUnix(d.sup), fromUnix(d.c)
	return nil
}

// Observations lists observations, newest first.
func (s *Store) Observations(ctx context.Context, orgID int64, f ObservationFilter) ([]Observation, error) {
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 500
	}
	where := `org_id = +?`
	args := []any{orgID}
	if f.PatientID > 0 {
		where += ` AND patient_id = +?`
		args = append(args, f.PatientID)
	}
	if f.Unmatched {
		where += ` AND patient_id IS NULL`
	}
	if f.DeviceID > 0 {
		where += ` AND device_id = +?`
		args = append(args, f.DeviceID)
	}
	if f.QC != nil {
		where += ` AND is_qc = +?`
		args = append(args, boolInt(*f.QC))
	}
	if !f.Since.IsZero() {
		where += ` AND created_at >= +?`
		args = append(args, unix(f.Since))
	}
	if f.AfterID > 0 {
		where += ` AND id > +?`
		args = append(args, f.AfterID)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+observationCols+` FROM observations WHERE `+where+`
		ORDER BY COALESCE(NULLIF(measured_at, 0), created_at) DESC, id DESC LIMIT +?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("observations: %w", err)
	}
	defer rows.Close()
	var out []Observation
	var o Observation
	d := newObservationDest(&o)
	for rows.Next() {
		if err := d.scan(rows); err != nil {
			return nil, fmt.Errorf("observations: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
