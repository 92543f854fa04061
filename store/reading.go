package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sources of monitoring readings (observations.source). They all start
// with "monitoring:", which is how pages tell home readings from the
// clinic's instruments.
const (
	SourceMonitoringDevice   = "monitoring:device"
	SourceMonitoringManual   = "monitoring:manual"
	SourceMonitoringReported = "monitoring:patient-reported"
)

// IsHomeReading reports whether an observation came in through the
// monitoring API (a home device, a manual entry or the patient's report)
// rather than from one of the clinic's instruments.
func IsHomeReading(source string) bool { return strings.HasPrefix(source, "monitoring:") }

// Reading is a monitoring observation with the public ids a face shows.
type Reading struct {
	Observation
	PatientUUID string
}

// RecordResult is what recording a reading did.
type RecordResult struct {
	Reading   Reading
	Duplicate bool    // the same reading was already stored; nothing changed
	Alerts    []Alert // alerts raised or joined by this reading
}

// RecordReading stores a monitoring reading as an observation and checks
// the alert rules of the patient's active enrollments against it, in one
// transaction: the reading, its event, any alert it raises and that
// alert's event commit together. A reading already stored (same patient,
// metric, device and time, same value) is answered again as a duplicate.
// The patient is o.PatientID, of the organisation.
func (s *Store) RecordReading(ctx context.Context, orgID int64, o *Observation) (*RecordResult, error) {
	return s.recordReading(ctx, orgID, "", o)
}

// RecordReadingFor is RecordReading for the patient with the public id
// patientUUID (o.PatientID is set from it). The API names patients by that
// id: resolving it inside the write costs one indexed lookup in the
// transaction instead of a reader query and a whole patient row before it.
func (s *Store) RecordReadingFor(ctx context.Context, orgID int64, patientUUID string, o *Observation) (*RecordResult, error) {
	if patientUUID == "" {
		return nil, Invalid("patientId", "no such patient")
	}
	return s.recordReading(ctx, orgID, patientUUID, o)
}

func (s *Store) recordReading(ctx context.Context, orgID int64, patientUUID string, o *Observation) (*RecordResult, error) {
	if o.MeasuredAt.IsZero() {
		return nil, Invalid("recordedAt", "is required")
	}
	var v Validator
	v.Check(o.Source == SourceMonitoringDevice || o.Source == SourceMonitoringManual || o.Source == SourceMonitoringReported,
		"source", "must be DEVICE, MANUAL or PATIENT_REPORTED")
	v.Check(len(o.ExternalDevice) <= 200 && !hasControl(o.ExternalDevice), "deviceId", "must be at most 200 characters of text")
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *RecordResult
	err := s.write(ctx, func(tx *txn) error {
		res, err := recordReading(tx, orgID, patientUUID, o)
		out = res
		return err
	})
	return out, err
}

// recordReading is RecordReading's write; the patient is patientUUID when
// it is given, else o.PatientID.
func recordReading(tx *txn, orgID int64, patientUUID string, o *Observation) (*RecordResult, error) {
	var err error
	if patientUUID != "" {
		err = tx.QueryRow(`SELECT id FROM patients WHERE org_id = ? AND uuid = ?`, orgID, patientUUID).Scan(&o.PatientID)
	} else {
		err = tx.QueryRow(`SELECT uuid FROM patients WHERE org_id = ? AND id = ?`, orgID, o.PatientID).Scan(&patientUUID)
	}
	if err != nil {
		return nil, Invalid("patientId", "no such patient")
	}
	m, err := metricDefinition(tx.Context(), txQueryer{tx}, orgID, o.MetricKey)
	if errors.Is(err, ErrNotFound) {
		return nil, Invalid("metricDefinitionId", "no such metric definition")
	} else if err != nil {
		return nil, err
	}
	if err := m.CheckValue(o.ValueNum, o.Unit); err != nil {
		return nil, err
	}
	o.OrgID = orgID
	o.UUID = newTimeUUID(tx.Now)
	o.CreatedAt = tx.Now
	o.Category = "vital-signs"
	o.CodeSystem, o.Code, o.Display = m.CodeSystem, m.Code, m.Name
	if o.Code == "" {
		o.CodeSystem, o.Code = "local", m.Key
	}
	o.Value = formatNum(o.ValueNum)
	if o.MeasuredAtText == "" {
		o.MeasuredAtText = o.MeasuredAt.UTC().Format(time.RFC3339)
	}
	o.Status = "final"
	r, err := tx.Exec(`INSERT INTO observations (uuid, org_id, patient_id, source, category, code_system, code, display,
		value_text, unit, status, measured_at_text, measured_at, created_at, metric_key, value_num, external_device)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, patient_id, metric_key, external_device, measured_at) WHERE metric_key IS NOT NULL DO NOTHING`,
		o.UUID, orgID, o.PatientID, o.Source, o.Category, o.CodeSystem, o.Code, o.Display, o.Value, o.Unit, o.Status,
		o.MeasuredAtText, unix(o.MeasuredAt), unix(tx.Now), o.MetricKey, o.ValueNum, o.ExternalDevice)
	if err != nil {
		return nil, fmt.Errorf("record reading: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		prev, err := scanObservation(tx.QueryRow(storedReadingQuery, orgID, o.PatientID, o.MetricKey, o.ExternalDevice, unix(o.MeasuredAt)))
		if err != nil {
			return nil, fmt.Errorf("record reading: %w", err)
		}
		if prev.ValueNum != o.ValueNum || prev.Unit != o.Unit || prev.Source != o.Source {
			return nil, Conflict("a different reading of this metric from this device at this time is already stored")
		}
		return &RecordResult{Reading: Reading{Observation: *prev, PatientUUID: patientUUID}, Duplicate: true}, nil
	}
	o.ID, _ = r.LastInsertId()
	payload := map[string]any{"observationId": o.ID, "patientId": o.PatientID, "metric": o.MetricKey}
	if err := tx.Event(orgID, EventObservationCreated, "observation", o.ID, payload); err != nil {
		return nil, err
	}
	alerts, err := evaluateThresholds(tx, orgID, o)
	if err != nil {
		return nil, err
	}
	return &RecordResult{Reading: Reading{Observation: *o, PatientUUID: patientUUID}, Alerts: alerts}, nil
}

// storedReadingQuery finds the reading a duplicate submission names.
const storedReadingQuery = `SELECT ` + observationCols + ` FROM observations
	WHERE org_id = ? AND patient_id = ? AND metric_key = ? AND external_device = ? AND measured_at = ?`

func formatNum(f float64) string { return strings.TrimSuffix(fmt.Sprintf("%g", f), ".0") }

// ReadingFilter selects monitoring readings.
type ReadingFilter struct {
	PatientID int64
	MetricKey string
	Source    string
	From, To  time.Time // recorded at, inclusive From, exclusive To
	HomeOnly  bool      // only readings that came in through the monitoring API
	Before    *ReadingCursor
	Limit     int
}

// ReadingCursor is where a page of readings ended (newest first).
type ReadingCursor struct {
	MeasuredAt int64
	ID         int64
}

// Readings lists observations, newest first. With HomeOnly the list is
// the monitoring readings; without it instruments' results of the same
// patient come too (the patient page shows both).
func (s *Store) Readings(ctx context.Context, orgID int64, f ReadingFilter) ([]Reading, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q, args := readingsQuery(orgID, f)
	rows, err := s.r.QueryContext(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("readings: %w", err)
	}
	defer rows.Close()
	var out []Reading
	var rd Reading
	d := newObservationDest(&rd.Observation, &rd.PatientUUID)
	for rows.Next() {
		if err := d.scan(rows); err != nil {
			return nil, fmt.Errorf("readings: %w", err)
		}
		out = append(out, rd)
	}
	return out, rows.Err()
}

// readingsQuery is the query of Readings and its arguments but the last
// (the limit).
func readingsQuery(orgID int64, f ReadingFilter) (string, []any) {
	from := `observations o`
	if f.PatientID > 0 && f.MetricKey != "" {
		// One metric of one patient: its range of observations_reading, which
		// SQLite passes over for observations_patient (the ORDER BY's order)
		// when left to choose without statistics.
		from = `observations o INDEXED BY observations_reading`
	}
	q := `SELECT ` + observationColsO + `, p.uuid FROM ` + from + ` JOIN patients p ON p.id = o.patient_id
		WHERE o.org_id = +?`
	args := []any{orgID}
	if f.HomeOnly {
		q += ` AND o.metric_key IS NOT NULL`
	}
	if f.PatientID > 0 {
		q += ` AND o.patient_id = +?`
		args = append(args, f.PatientID)
	}
	if f.MetricKey != "" {
		q += ` AND o.metric_key = +?`
		args = append(args, f.MetricKey)
	}
	if f.Source != "" {
		q += ` AND o.source = +?`
		args = append(args, f.Source)
	}
	if !f.From.IsZero() {
		q += ` AND o.measured_at >= +?`
		args = append(args, unix(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND o.measured_at < +?`
		args = append(args, unix(f.To))
	}
	if f.Before != nil {
		q += ` AND (o.measured_at < +? OR (o.measured_at = +? AND o.id < +?))`
		args = append(args, f.Before.MeasuredAt, f.Before.MeasuredAt, f.Before.ID)
	}
	q += ` ORDER BY o.measured_at DESC, o.id DESC LIMIT +?`
	return q, args
}
