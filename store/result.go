package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A result is an observation of a patient's sample (not QC) as the
// point-of-care feed shows it: the same row every face reads, with the
// public ids of what it refers to.

// EventObservationCorrected is a correction stored as a new version of a
// result (payload: observationId, previousId).
const EventObservationCorrected = "observation:corrected"

// PatientAsSent is what an analyser said about the patient, verbatim.
type PatientAsSent struct {
	ID        string // the first patient identifier the message carried
	Name      string // family^given^middle as sent
	BirthDate string
	Sex       string
}

// Text encodes p for Observation.PatientText: the four fields separated by
// tabs (which no analyser field carries; they are dropped if one does).
func (p PatientAsSent) Text() string {
	clean := func(s string) string { return strings.ReplaceAll(s, "\t", " ") }
	t := strings.Join([]string{clean(p.ID), clean(p.Name), clean(p.BirthDate), clean(p.Sex)}, "\t")
	if strings.Trim(t, "\t^ ") == "" {
		return ""
	}
	return t
}

// ParsePatientText decodes Observation.PatientText.
func ParsePatientText(s string) PatientAsSent {
	f := strings.SplitN(s, "\t", 4)
	for len(f) < 4 {
		f = append(f, "")
	}
	return PatientAsSent{ID: f[0], Name: f[1], BirthDate: f[2], Sex: f[3]}
}

// ResultRow is a result with the public ids of its patient, encounter and
// device, and of the version it corrects.
type ResultRow struct {
	Observation
	PatientUUID   string
	EncounterUUID string
	DeviceUUID    string
	DeviceName    string
	PrevUUID      string
}

// ResultFilter selects results. Results are listed oldest first by id, so
// AfterID is a stable cursor: a client that pages with it sees every
// result, including those stored while it pages.
type ResultFilter struct {
	PatientID   int64
	EncounterID int64
	DeviceID    int64
	Code        string
	From, To    time.Time // measured (or, when the device gave no time, stored) in [From, To)
	AllVersions bool      // include versions replaced by a correction
	IncludeQC   bool
	AfterID     int64
	Limit       int
}

const resultCols = `o.id, o.uuid, o.org_id, COALESCE(o.patient_id, 0), COALESCE(o.appointment_id, 0),
	COALESCE(o.device_id, 0), o.source, COALESCE(o.message_id, 0), o.category, o.code_system, o.code, o.display,
	o.value_text, o.unit, o.reference_range, o.flags, o.status, o.measured_at_text, o.measured_at, o.is_qc,
	o.operator, o.instrument, o.specimen_id, o.patient_text, o.version, COALESCE(o.prev_id, 0), o.superseded_at,
	o.created_at, COALESCE(p.uuid, ''), COALESCE(a.uuid, ''), COALESCE(d.uuid, ''), COALESCE(d.name, ''),
	COALESCE(v.uuid, '')`

const resultJoins = ` FROM observations o
	LEFT JOIN patients p ON p.id = o.patient_id
	LEFT JOIN appointments a ON a.id = o.appointment_id
	LEFT JOIN devices d ON d.id = o.device_id
	LEFT JOIN observations v ON v.id = o.prev_id`

func scanResult(row interface{ Scan(...any) error }) (*ResultRow, error) {
	var r ResultRow
	o := &r.Observation
	var m, sup, c int64
	err := row.Scan(&o.ID, &o.UUID, &o.OrgID, &o.PatientID, &o.AppointmentID, &o.DeviceID, &o.Source, &o.MessageID,
		&o.Category, &o.CodeSystem, &o.Code, &o.Display, &o.Value, &o.Unit, &o.ReferenceRange, &o.Flags, &o.Status,
		&o.MeasuredAtText, &m, &o.QC, &o.Operator, &o.Instrument, &o.SpecimenID, &o.PatientText, &o.Version,
		&o.PrevID, &sup, &c, &r.PatientUUID, &r.EncounterUUID, &r.DeviceUUID, &r.DeviceName, &r.PrevUUID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	o.MeasuredAt, o.SupersededAt, o.CreatedAt = fromUnix(m), fromUnix(sup), fromUnix(c)
	return &r, nil
}

// Results lists an organisation's results, oldest first.
func (s *Store) Results(ctx context.Context, orgID int64, f ResultFilter) ([]ResultRow, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	where := `o.org_id = ?`
	args := []any{orgID}
	if !f.IncludeQC {
		where += ` AND o.is_qc = 0`
	}
	if !f.AllVersions {
		where += ` AND o.superseded_at = 0`
	}
	if f.PatientID > 0 {
		where += ` AND o.patient_id = ?`
		args = append(args, f.PatientID)
	}
	if f.EncounterID > 0 {
		where += ` AND o.appointment_id = ?`
		args = append(args, f.EncounterID)
	}
	if f.DeviceID > 0 {
		where += ` AND o.device_id = ?`
		args = append(args, f.DeviceID)
	}
	if f.Code != "" {
		where += ` AND o.code = ?`
		args = append(args, f.Code)
	}
	if !f.From.IsZero() {
		where += ` AND COALESCE(NULLIF(o.measured_at, 0), o.created_at) >= ?`
		args = append(args, unix(f.From))
	}
	if !f.To.IsZero() {
		where += ` AND COALESCE(NULLIF(o.measured_at, 0), o.created_at) < ?`
		args = append(args, unix(f.To))
	}
	if f.AfterID > 0 {
		where += ` AND o.id > ?`
		args = append(args, f.AfterID)
	}
	return s.queryResults(ctx, `SELECT `+resultCols+resultJoins+` WHERE `+where+` ORDER BY o.id LIMIT ?`, append(args, f.Limit)...)
}

func (s *Store) queryResults(ctx context.Context, q string, args ...any) ([]ResultRow, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer rows.Close()
	out := []ResultRow{}
	for rows.Next() {
		r, err := scanResult(rows)
		if err != nil {
			return nil, fmt.Errorf("results: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// Result returns one result (any version, QC included) by its public id.
func (s *Store) Result(ctx context.Context, orgID int64, uuid string) (*ResultRow, error) {
	r, err := scanResult(s.r.QueryRowContext(ctx, `SELECT `+resultCols+resultJoins+` WHERE o.org_id = ? AND o.uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", uuid, err)
	}
	return r, nil
}

// ResultByID returns one result by its row id.
func (s *Store) ResultByID(ctx context.Context, orgID, id int64) (*ResultRow, error) {
	r, err := scanResult(s.r.QueryRowContext(ctx, `SELECT `+resultCols+resultJoins+` WHERE o.org_id = ? AND o.id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("result %d: %w", id, err)
	}
	return r, nil
}

// ResultVersions lists every version of the result uuid belongs to, the
// first first.
func (s *Store) ResultVersions(ctx context.Context, orgID int64, uuid string) ([]ResultRow, error) {
	r, err := s.Result(ctx, orgID, uuid)
	if err != nil {
		return nil, err
	}
	// Walk back to the first version, then forward through the corrections.
	first := r.ID
	for prev := r.PrevID; prev > 0; {
		first = prev
		if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(prev_id, 0) FROM observations WHERE org_id = ? AND id = ?`,
			orgID, prev).Scan(&prev); err != nil {
			return nil, fmt.Errorf("result versions: %w", err)
		}
	}
	var out []ResultRow
	for id := first; id > 0 && len(out) < 1000; {
		v, err := s.ResultByID(ctx, orgID, id)
		if err != nil {
			return nil, fmt.Errorf("result versions: %w", err)
		}
		out = append(out, *v)
		id = 0
		err = s.r.QueryRowContext(ctx, `SELECT id FROM observations WHERE org_id = ? AND prev_id = ?`, orgID, v.ID).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("result versions: %w", err)
		}
	}
	return out, nil
}

// Correction is a new version of a result: the fields given replace the
// earlier version's, everything else is carried over.
type Correction struct {
	Value          string
	Unit           *string
	ReferenceRange *string
	Flags          *string
	Status         string // default "C" (corrected, as HL7 OBX-11 says it); one of CorrectionStatuses
	Note           string // why, for the audit log
}

// CorrectionStatuses are the statuses a point-of-care correction may give
// its version: HL7 v2 table 0085 (OBX-11), which the LIS message carries
// on. The POCT face checks them; FHIR names its own (final, corrected, ...),
// and a device's status is stored as sent.
var CorrectionStatuses = []string{"C", "D", "F", "I", "N", "O", "P", "R", "S", "U", "W", "X"}

// CorrectResult stores a correction of the current version uuid as a new
// version and marks the old one superseded; nothing is overwritten.
func (s *Store) CorrectResult(ctx context.Context, orgID int64, uuid string, c Correction) (*ResultRow, error) {
	var v Validator
	v.Text("value", c.Value, MaxResultValue)
	// A unit, a reference range and flags are short coded words as an
	// instrument sends them (OBX-6, -7, -8).
	for field, p := range map[string]*string{"unit": c.Unit, "reference_range": c.ReferenceRange, "flags": c.Flags} {
		if p != nil {
			v.Line(field, *p, map[string]int{"unit": MaxCode, "reference_range": MaxShortID, "flags": MaxCode}[field])
		}
	}
	v.Text("note", c.Note, MaxParagraph)
	v.Line("status", c.Status, MaxCode)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.Status == "" {
		c.Status = "C"
	}
	var newID int64
	err := s.write(ctx, func(tx *txn) error {
		old, err := scanObservation(tx.QueryRow(`SELECT `+observationCols+` FROM observations WHERE org_id = ? AND uuid = ?`, orgID, uuid))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("result %s: %w", uuid, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("correct result: %w", err)
		}
		if old.QC {
			return fmt.Errorf("result %s: %w", uuid, ErrNotFound)
		}
		if !old.SupersededAt.IsZero() {
			return Conflict("this version was already corrected: correct the current version")
		}
		n := *old
		n.ID, n.MessageID, n.SupersededAt = 0, 0, time.Time{}
		n.Value, n.Status = c.Value, c.Status
		if c.Unit != nil {
			n.Unit = *c.Unit
		}
		if c.ReferenceRange != nil {
			n.ReferenceRange = *c.ReferenceRange
		}
		if c.Flags != nil {
			n.Flags = *c.Flags
		}
		n.Version, n.PrevID = old.Version+1, old.ID
		n.Source = "correction"
		if _, err := tx.Exec(`UPDATE observations SET superseded_at = ? WHERE id = ?`, unix(tx.Now), old.ID); err != nil {
			return fmt.Errorf("correct result: %w", err)
		}
		obs := []Observation{n}
		if err := insertObservations(tx, orgID, obs, false); err != nil {
			return err
		}
		newID = obs[0].ID
		if err := tx.Event(orgID, EventObservationCorrected, "observation", newID,
			map[string]any{"observationId": newID, "previousId": old.ID}); err != nil {
			return err
		}
		return tx.Audit(orgID, "correct", "observation", n.UUID, n.PatientID,
			fmt.Sprintf("version %d replaces %s: %s", n.Version, old.UUID, c.Note))
	})
	if err != nil {
		return nil, err
	}
	return s.ResultByID(ctx, orgID, newID)
}

// linkDeviceCorrections makes a result that a device sent as a correction
// (status C) of an earlier result (same device, specimen and code) a new
// version of it, within the ingestion's write.
func linkDeviceCorrections(tx *txn, orgID int64, obs []Observation) error {
	for i := range obs {
		o := &obs[i]
		if o.QC || o.SpecimenID == "" || !strings.EqualFold(strings.TrimSpace(o.Status), "C") {
			continue
		}
		var prevID int64
		var version int
		err := tx.QueryRow(`SELECT id, version FROM observations WHERE org_id = ? AND device_id = ? AND specimen_id = ?
			AND code = ? AND superseded_at = 0 AND id < ? AND is_qc = 0 ORDER BY id DESC LIMIT 1`,
			orgID, o.DeviceID, o.SpecimenID, o.Code, o.ID).Scan(&prevID, &version)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("link correction: %w", err)
		}
		if _, err := tx.Exec(`UPDATE observations SET superseded_at = ? WHERE id = ?`, unix(tx.Now), prevID); err != nil {
			return fmt.Errorf("link correction: %w", err)
		}
		o.PrevID, o.Version = prevID, version+1
		if _, err := tx.Exec(`UPDATE observations SET prev_id = ?, version = ? WHERE id = ?`, prevID, o.Version, o.ID); err != nil {
			return fmt.Errorf("link correction: %w", err)
		}
		if err := tx.Event(orgID, EventObservationCorrected, "observation", o.ID,
			map[string]any{"observationId": o.ID, "previousId": prevID}); err != nil {
			return err
		}
	}
	return nil
}

// beforeIngestion completes, within the ingestion's write, what a message
// did not say: the encounter of each patient result (the sample order's,
// else the patient's open encounter). A message carries many results of
// one patient and sample, so each answer is looked up once per message:
// nothing in this loop writes, so it cannot change.
func beforeIngestion(tx *txn, orgID int64, obs []Observation) error {
	type sample struct {
		id      string
		patient int64
	}
	ofSample := map[sample]int64{}
	ofPatient := map[int64]int64{}
	for i := range obs {
		o := &obs[i]
		if o.QC || o.PatientID == 0 || o.AppointmentID > 0 {
			continue
		}
		if o.SpecimenID != "" {
			key := sample{o.SpecimenID, o.PatientID}
			appt, seen := ofSample[key]
			if !seen {
				err := tx.QueryRow(`SELECT COALESCE(appointment_id, 0) FROM sample_orders WHERE org_id = ? AND sample_id = ?
					AND patient_id = ?`, orgID, o.SpecimenID, o.PatientID).Scan(&appt)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("result encounter: %w", err)
				}
				ofSample[key] = appt
			}
			if appt > 0 {
				o.AppointmentID = appt
				continue
			}
		}
		id, seen := ofPatient[o.PatientID]
		if !seen {
			var err error
			if id, err = openEncounterOf(tx, orgID, o.PatientID); err != nil {
				return err
			}
			ofPatient[o.PatientID] = id
		}
		o.AppointmentID = id
	}
	return nil
}

// afterIngestion does, within the ingestion's write, what follows from
// the new observations: device corrections become versions, orders follow
// their results, control values become judged QC runs, and the device's
// status notes the message.
func afterIngestion(tx *txn, orgID, deviceID int64, in *Ingestion) error {
	obs := in.Observations
	if err := linkDeviceCorrections(tx, orgID, obs); err != nil {
		return err
	}
	var samples []string
	for _, o := range obs {
		if !o.QC && o.SpecimenID != "" {
			samples = append(samples, o.SpecimenID)
		}
	}
	if err := updateOrderStates(tx, orgID, samples); err != nil {
		return err
	}
	for _, o := range obs {
		if !o.QC || o.DeviceID == 0 {
			continue
		}
		lot, level := qcLotLevel(o.SpecimenID)
		if _, err := recordQCRun(tx, orgID, QCMeasurement{DeviceID: o.DeviceID, ObservationID: o.ID, Code: o.Code,
			Lot: lot, Level: level, Value: o.Value, Unit: o.Unit, MeasuredAt: o.MeasuredAt}); err != nil {
			return err
		}
	}
	if deviceID > 0 {
		return noteDeviceMessage(tx, orgID, deviceID, in.Firmware, in.SerialNumber)
	}
	return nil
}

// qcLotLevel reads the control lot and level from the sample id a device
// gave a control run: "LOT^LEVEL" (components, as ASTM and HL7 analysers
// send them) or the whole id as the lot.
func qcLotLevel(specimen string) (lot, level string) {
	lot, level, _ = strings.Cut(specimen, "^")
	return strings.TrimSpace(lot), strings.TrimSpace(level)
}

// detachObservations, within a re-ingestion, removes what was derived from
// a message's observations before they are replaced: their QC runs (the
// new run records them again) and the links of later versions to them.
func detachObservations(tx *txn, orgID, messageID int64) error {
	const ids = `SELECT id FROM observations WHERE org_id = ? AND message_id = ?`
	if _, err := tx.Exec(`DELETE FROM qc_runs WHERE observation_id IN (`+ids+`)`, orgID, messageID); err != nil {
		return fmt.Errorf("detach observations: %w", err)
	}
	if _, err := tx.Exec(`UPDATE observations SET prev_id = NULL WHERE prev_id IN (`+ids+`)`, orgID, messageID); err != nil {
		return fmt.Errorf("detach observations: %w", err)
	}
	return nil
}
