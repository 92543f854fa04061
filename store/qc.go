package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// QC: control-sample runs per device, analyte, lot and level, judged with
// the Westgard multirules against the target (mean, SD) an admin entered
// for that control lot. This is the quality of the measurement process,
// never an interpretation of a patient's result.

// EventQCFailed is a QC run that violated a rejection rule (payload:
// qcRunId, deviceId, rules).
const EventQCFailed = "qc:failed"

// QC run statuses.
const (
	QCAccepted     = "accepted"
	QCWarning      = "warning" // 1-2s only
	QCRejected     = "rejected"
	QCNotEvaluated = "not-evaluated" // no target, or a value that is not a number
)

// Westgard rule names as they are written in the literature.
const (
	Rule12s = "1-2s"
	Rule13s = "1-3s"
	Rule22s = "2-2s"
	RuleR4s = "R-4s"
	Rule41s = "4-1s"
	Rule10x = "10-x"
)

// Westgard judges the newest of a series of control values, given as
// z-scores ((value - mean) / SD) oldest first, and returns the rules it
// violates. The across-run reading of the rules is used, because a
// point-of-care device usually runs one control level at a time:
//
//   - 1-2s: the newest value is beyond ±2 SD (a warning);
//   - 1-3s: the newest value is beyond ±3 SD;
//   - 2-2s: the newest two are beyond 2 SD on the same side;
//   - R-4s: the newest two are beyond 2 SD on opposite sides (their range exceeds 4 SD);
//   - 4-1s: the newest four are beyond 1 SD on the same side;
//   - 10-x: the newest ten are on the same side of the mean.
func Westgard(z []float64) []string {
	n := len(z)
	if n == 0 {
		return nil
	}
	last := z[n-1]
	var out []string
	if math.Abs(last) > 2 {
		out = append(out, Rule12s)
	}
	if math.Abs(last) > 3 {
		out = append(out, Rule13s)
	}
	if n >= 2 {
		prev := z[n-2]
		if (last > 2 && prev > 2) || (last < -2 && prev < -2) {
			out = append(out, Rule22s)
		}
		if (last > 2 && prev < -2) || (last < -2 && prev > 2) {
			out = append(out, RuleR4s)
		}
	}
	if sameSide(z, 4, 1) {
		out = append(out, Rule41s)
	}
	if sameSide(z, 10, 0) {
		out = append(out, Rule10x)
	}
	return out
}

// sameSide reports whether the newest k values all lie beyond limit SD on
// the same side of the mean.
func sameSide(z []float64, k int, limit float64) bool {
	if len(z) < k {
		return false
	}
	above, below := true, true
	for _, v := range z[len(z)-k:] {
		above = above && v > limit
		below = below && v < -limit
	}
	return above || below
}

// QCStatus is the status of a run with these violated rules.
func QCStatus(rules []string) string {
	for _, r := range rules {
		if r != Rule12s {
			return QCRejected
		}
	}
	if len(rules) > 0 {
		return QCWarning
	}
	return QCAccepted
}

// QCTarget is the mean and SD of a control lot and level on a device.
type QCTarget struct {
	ID        int64
	OrgID     int64
	DeviceID  int64
	Code      string
	Lot       string
	Level     string
	Mean      float64
	SD        float64
	Unit      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a target.
func (t *QCTarget) Validate() error {
	var v Validator
	t.Code, t.Lot, t.Level = strings.TrimSpace(t.Code), strings.TrimSpace(t.Lot), strings.TrimSpace(t.Level)
	v.Check(t.DeviceID > 0, "device", "is required")
	v.Check(t.Code != "" && len(t.Code) <= 200, "code", "is required (at most 200 characters)")
	v.Check(t.Lot != "" && len(t.Lot) <= 100, "lot", "is required (at most 100 characters)")
	v.Check(len(t.Level) <= 50, "level", "must be at most 50 characters")
	v.Check(!math.IsNaN(t.Mean) && !math.IsInf(t.Mean, 0), "mean", "must be a number")
	v.Check(t.SD > 0 && !math.IsInf(t.SD, 0), "sd", "must be a positive number")
	return v.Err()
}

// SaveQCTarget creates or replaces the target of a device, code, lot and level.
func (s *Store) SaveQCTarget(ctx context.Context, orgID int64, t *QCTarget) error {
	t.OrgID = orgID
	if err := t.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		var one int
		if err := tx.QueryRow(`SELECT 1 FROM devices WHERE org_id = ? AND id = ?`, orgID, t.DeviceID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return Invalid("device", "does not exist")
		} else if err != nil {
			return fmt.Errorf("save qc target: %w", err)
		}
		err := tx.QueryRow(`INSERT INTO qc_targets (org_id, device_id, code, lot, level, mean, sd, unit, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, device_id, code, lot, level) DO UPDATE SET mean = excluded.mean, sd = excluded.sd,
			unit = excluded.unit, updated_at = excluded.updated_at RETURNING id`,
			orgID, t.DeviceID, t.Code, t.Lot, t.Level, t.Mean, t.SD, t.Unit, unix(tx.Now), unix(tx.Now)).Scan(&t.ID)
		if err != nil {
			return fmt.Errorf("save qc target: %w", err)
		}
		t.CreatedAt, t.UpdatedAt = tx.Now, tx.Now
		return tx.Audit(orgID, "update", "qc-target", fmt.Sprint(t.ID),
			0, fmt.Sprintf("%s lot %s level %s: mean %g sd %g", t.Code, t.Lot, t.Level, t.Mean, t.SD))
	})
}

const qcTargetCols = `id, org_id, device_id, code, lot, level, mean, sd, unit, created_at, updated_at`

func scanQCTarget(row interface{ Scan(...any) error }) (*QCTarget, error) {
	var t QCTarget
	var c, u int64
	err := row.Scan(&t.ID, &t.OrgID, &t.DeviceID, &t.Code, &t.Lot, &t.Level, &t.Mean, &t.SD, &t.Unit, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromUnix(c), fromUnix(u)
	return &t, nil
}

// QCTargets lists a device's targets (deviceID 0: every device's).
func (s *Store) QCTargets(ctx context.Context, orgID, deviceID int64) ([]QCTarget, error) {
	q := `SELECT ` + qcTargetCols + ` FROM qc_targets WHERE org_id = ?`
	args := []any{orgID}
	if deviceID > 0 {
		q += ` AND device_id = ?`
		args = append(args, deviceID)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY device_id, code, lot, level`, args...)
	if err != nil {
		return nil, fmt.Errorf("qc targets: %w", err)
	}
	defer rows.Close()
	var out []QCTarget
	for rows.Next() {
		t, err := scanQCTarget(rows)
		if err != nil {
			return nil, fmt.Errorf("qc targets: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// QCRunRecord is one control measurement and its judgement.
type QCRunRecord struct {
	ID            int64
	OrgID         int64
	DeviceID      int64
	ObservationID int64
	Code          string
	Lot           string
	Level         string
	Value         string // as the device sent it
	Unit          string
	Z             *float64 // nil: not evaluated
	Rules         []string
	Status        string
	MeasuredAt    time.Time
	CreatedAt     time.Time
}

// QCMeasurement is a control value to record.
type QCMeasurement struct {
	DeviceID      int64
	ObservationID int64 // the observation it came from, if any
	Code          string
	Lot           string
	Level         string
	Value         string
	Unit          string
	MeasuredAt    time.Time // zero: now
}

// Validate checks a measurement.
func (m *QCMeasurement) Validate() error {
	var v Validator
	m.Code, m.Lot, m.Level = strings.TrimSpace(m.Code), strings.TrimSpace(m.Lot), strings.TrimSpace(m.Level)
	v.Check(m.DeviceID > 0, "device", "is required")
	v.Check(m.Code != "" && len(m.Code) <= MaxLabel, "code", "is required (at most 200 characters)")
	v.Check(len(m.Lot) <= MaxShortID, "lot", "must be at most 100 characters")
	v.Check(len(m.Level) <= MaxCode, "level", "must be at most 50 characters")
	v.Check(m.Value != "" && len(m.Value) <= MaxLabel, "value", "is required (at most 200 characters)")
	v.Check(len(m.Unit) <= MaxCode, "unit", "must be at most 50 characters")
	// Typed in by a person or an edge agent (an instrument's own QC goes
	// through its stored message instead): no control characters.
	v.Line("code", m.Code, MaxLabel)
	v.Line("lot", m.Lot, MaxShortID)
	v.Line("level", m.Level, MaxCode)
	v.Line("value", m.Value, MaxLabel)
	v.Line("unit", m.Unit, MaxCode)
	return v.Err()
}

// RecordQCRun stores a control measurement that was not carried by an
// instrument message (an edge agent or a person entered it).
func (s *Store) RecordQCRun(ctx context.Context, orgID int64, m QCMeasurement) (*QCRunRecord, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var out *QCRunRecord
	err := s.write(ctx, func(tx *txn) error {
		var one int
		if err := tx.QueryRow(`SELECT 1 FROM devices WHERE org_id = ? AND id = ?`, orgID, m.DeviceID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return Invalid("device", "does not exist")
		} else if err != nil {
			return fmt.Errorf("record qc run: %w", err)
		}
		r, err := recordQCRun(tx, orgID, m)
		out = r
		return err
	})
	return out, err
}

// recordQCRun judges and stores one control value within a write, updates
// the device's QC state, and writes qc:failed when a rejection rule fires.
func recordQCRun(tx *txn, orgID int64, m QCMeasurement) (*QCRunRecord, error) {
	if m.MeasuredAt.IsZero() {
		m.MeasuredAt = tx.Now
	}
	r := &QCRunRecord{OrgID: orgID, DeviceID: m.DeviceID, ObservationID: m.ObservationID, Code: m.Code, Lot: m.Lot,
		Level: m.Level, Value: m.Value, Unit: m.Unit, MeasuredAt: m.MeasuredAt, CreatedAt: tx.Now, Status: QCNotEvaluated}
	t, err := scanQCTarget(tx.QueryRow(`SELECT `+qcTargetCols+` FROM qc_targets WHERE org_id = ? AND device_id = ?
		AND code = ? AND lot = ? AND level = ?`, orgID, m.DeviceID, m.Code, m.Lot, m.Level))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("record qc run: %w", err)
	}
	if x, ok := qcNumber(m.Value); t != nil && ok {
		z := (x - t.Mean) / t.SD
		r.Z = &z
		// The series: earlier evaluated runs of the same control, newest 9.
		rows, err := tx.Query(`SELECT z FROM qc_runs WHERE org_id = ? AND device_id = ? AND code = ? AND lot = ?
			AND level = ? AND z IS NOT NULL ORDER BY measured_at DESC, id DESC LIMIT 9`, orgID, m.DeviceID, m.Code, m.Lot, m.Level)
		if err != nil {
			return nil, fmt.Errorf("record qc run: %w", err)
		}
		var series []float64
		for rows.Next() {
			var v float64
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("record qc run: %w", err)
			}
			series = append([]float64{v}, series...)
		}
		rows.Close()
		r.Rules = Westgard(append(series, z))
		r.Status = QCStatus(r.Rules)
	}
	var z any
	if r.Z != nil {
		z = *r.Z
	}
	res, err := tx.Exec(`INSERT INTO qc_runs (org_id, device_id, observation_id, code, lot, level, value_text, unit, z,
		rules, status, measured_at, created_at) VALUES (?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (observation_id) DO NOTHING`,
		orgID, m.DeviceID, m.ObservationID, m.Code, m.Lot, m.Level, m.Value, m.Unit, z, strings.Join(r.Rules, " "),
		r.Status, unix(m.MeasuredAt), unix(tx.Now))
	if err != nil {
		return nil, fmt.Errorf("record qc run: %w", err)
	}
	r.ID, _ = res.LastInsertId()
	if r.Status == QCNotEvaluated {
		return r, nil
	}
	state := map[string]string{QCAccepted: "ok", QCWarning: "warning", QCRejected: "failed"}[r.Status]
	if err := setDeviceQCState(tx, orgID, m.DeviceID, state); err != nil {
		return nil, err
	}
	if r.Status == QCRejected {
		if err := tx.Event(orgID, EventQCFailed, "qc-run", r.ID, map[string]any{"qcRunId": r.ID, "deviceId": m.DeviceID,
			"rules": r.Rules}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// QCRunFilter selects QC runs.
type QCRunFilter struct {
	DeviceID int64
	Code     string
	Lot      string
	Level    string
	Status   string
	AfterID  int64
	Limit    int
}

const qcRunCols = `id, org_id, device_id, COALESCE(observation_id, 0), code, lot, level, value_text, unit, z, rules,
	status, measured_at, created_at`

func scanQCRun(row interface{ Scan(...any) error }) (*QCRunRecord, error) {
	var r QCRunRecord
	var z sql.NullFloat64
	var rules string
	var m, c int64
	err := row.Scan(&r.ID, &r.OrgID, &r.DeviceID, &r.ObservationID, &r.Code, &r.Lot, &r.Level, &r.Value, &r.Unit, &z,
		&rules, &r.Status, &m, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if z.Valid {
		r.Z = &z.Float64
	}
	r.Rules = strings.Fields(rules)
	r.MeasuredAt, r.CreatedAt = fromUnix(m), fromUnix(c)
	return &r, nil
}

// QCRunRecords lists QC runs oldest first (by id, a stable cursor).
func (s *Store) QCRunRecords(ctx context.Context, orgID int64, f QCRunFilter) ([]QCRunRecord, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	where := `org_id = ?`
	args := []any{orgID}
	for _, c := range []struct {
		col string
		v   any
		set bool
	}{{"device_id", f.DeviceID, f.DeviceID > 0}, {"code", f.Code, f.Code != ""}, {"lot", f.Lot, f.Lot != ""},
		{"level", f.Level, f.Level != ""}, {"status", f.Status, f.Status != ""}} {
		if c.set {
			where += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if f.AfterID > 0 {
		where += ` AND id > ?`
		args = append(args, f.AfterID)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+qcRunCols+` FROM qc_runs WHERE `+where+` ORDER BY id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("qc runs: %w", err)
	}
	defer rows.Close()
	out := []QCRunRecord{}
	for rows.Next() {
		r, err := scanQCRun(rows)
		if err != nil {
			return nil, fmt.Errorf("qc runs: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// QCRunRecord returns one run.
func (s *Store) QCRunRecord(ctx context.Context, orgID, id int64) (*QCRunRecord, error) {
	r, err := scanQCRun(s.r.QueryRowContext(ctx, `SELECT `+qcRunCols+` FROM qc_runs WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("qc run %d: %w", id, err)
	}
	return r, nil
}

// QCSeries is the newest limit runs of one control (device, code, lot,
// level), oldest first: what a Levey-Jennings chart draws.
func (s *Store) QCSeries(ctx context.Context, orgID, deviceID int64, code, lot, level string, limit int) ([]QCRunRecord, error) {
	if limit <= 0 || limit > 500 {
		limit = 60
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+qcRunCols+` FROM (SELECT * FROM qc_runs WHERE org_id = ? AND device_id = ?
		AND code = ? AND lot = ? AND level = ? ORDER BY measured_at DESC, id DESC LIMIT ?) ORDER BY measured_at, id`,
		orgID, deviceID, code, lot, level, limit)
	if err != nil {
		return nil, fmt.Errorf("qc series: %w", err)
	}
	defer rows.Close()
	var out []QCRunRecord
	for rows.Next() {
		r, err := scanQCRun(rows)
		if err != nil {
			return nil, fmt.Errorf("qc series: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// QCTarget returns the target of a control, ErrNotFound without one.
func (s *Store) QCTarget(ctx context.Context, orgID, deviceID int64, code, lot, level string) (*QCTarget, error) {
	t, err := scanQCTarget(s.r.QueryRowContext(ctx, `SELECT `+qcTargetCols+` FROM qc_targets WHERE org_id = ? AND device_id = ?
		AND code = ? AND lot = ? AND level = ?`, orgID, deviceID, code, lot, level))
	if err != nil {
		return nil, fmt.Errorf("qc target: %w", err)
	}
	return t, nil
}

// QCControl names one control series: a device, analyte, lot and level.
type QCControl struct {
	DeviceID         int64
	DeviceName       string
	Code, Lot, Level string
	Runs             int
	LastStatus       string
	HasTarget        bool
}

// QCControls lists the organisation's control series (those with runs or a
// target), by device and analyte.
func (s *Store) QCControls(ctx context.Context, orgID int64) ([]QCControl, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT k.device_id, d.name, k.code, k.lot, k.level,
		(SELECT COUNT(*) FROM qc_runs r WHERE r.org_id = k.org_id AND r.device_id = k.device_id AND r.code = k.code
			AND r.lot = k.lot AND r.level = k.level),
		COALESCE((SELECT r.status FROM qc_runs r WHERE r.org_id = k.org_id AND r.device_id = k.device_id AND r.code = k.code
			AND r.lot = k.lot AND r.level = k.level ORDER BY r.measured_at DESC, r.id DESC LIMIT 1), ''),
		EXISTS (SELECT 1 FROM qc_targets t WHERE t.org_id = k.org_id AND t.device_id = k.device_id AND t.code = k.code
			AND t.lot = k.lot AND t.level = k.level)
		FROM (SELECT DISTINCT org_id, device_id, code, lot, level FROM qc_runs WHERE org_id = ?
			UNION SELECT org_id, device_id, code, lot, level FROM qc_targets WHERE org_id = ?) k
		JOIN devices d ON d.id = k.device_id ORDER BY d.name, k.code, k.lot, k.level`, orgID, orgID)
	if err != nil {
		return nil, fmt.Errorf("qc controls: %w", err)
	}
	defer rows.Close()
	var out []QCControl
	for rows.Next() {
		var c QCControl
		if err := rows.Scan(&c.DeviceID, &c.DeviceName, &c.Code, &c.Lot, &c.Level, &c.Runs, &c.LastStatus, &c.HasTarget); err != nil {
			return nil, fmt.Errorf("qc controls: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// qcNumber reads a control value as a number for the statistics: a plain
// decimal, with a point or (as many analysers write it) a comma. Anything
// else ("<0.5", "3+") is kept as sent and not evaluated.
func qcNumber(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, ".") && strings.Count(v, ",") == 1 {
		v = strings.Replace(v, ",", ".", 1)
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) || strings.ContainsAny(v, "xXpPeEiInN_") {
		return 0, false
	}
	return x, true
}
