package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Alert statuses.
const (
	AlertOpen     = "OPEN"
	AlertResolved = "RESOLVED"
)

// Alert is a rule that fired for an enrollment. It keeps the readings that
// raised it (and those that came while it stayed open).
type Alert struct {
	ID             int64
	UUID           string
	OrgID          int64
	EnrollmentID   int64
	EnrollmentUUID string
	PatientID      int64
	PatientUUID    string
	PatientName    string
	RuleID         int64
	Severity       string
	Status         string
	Message        string
	RaisedAt       time.Time
	ResolvedAt     time.Time
	ResolvedBy     int64
	ResolvedByUUID string
	ResolutionNote string
	Observations   []string // public ids (uuids) of the readings, oldest first
}

// severityRank orders severities for the triage queue (CRITICAL first).
const severityRank = `CASE a.severity WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 ELSE 3 END`

// evaluateThresholds checks a new reading against the threshold rules of
// the patient's active enrollments for its metric.
func evaluateThresholds(tx *txn, orgID int64, o *Observation) ([]Alert, error) {
	rules, err := tx.thresholdRules(orgID, o.PatientID, o.MetricKey)
	if err != nil {
		return nil, err
	}
	var out []Alert
	for _, r := range rules {
		if !r.Matches(o.ValueNum) {
			continue
		}
		ids, err := queryIDs(tx, readingsBeyondQuery(r.Operator),
			orgID, o.PatientID, o.MetricKey, unix(o.MeasuredAt.Add(-r.Window)), unix(o.MeasuredAt), r.Threshold)
		if err != nil {
			return nil, err
		}
		if len(ids) < r.Count {
			continue
		}
		a, err := raiseOrJoin(tx, orgID, r.enrollmentID, o.PatientID, &r.AlertRule, ids)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}

// readingsBeyondQuery selects a patient's readings of one metric in a time
// window whose value is beyond a threshold (op comes from the rule's
// CHECK-constrained operator column). It names its index: without
// statistics SQLite would rather walk observations_patient (which has the
// order of the ORDER BY) through every metric of the patient's window.
func readingsBeyondQuery(op string) string {
	return `SELECT id FROM observations INDEXED BY observations_reading WHERE org_id = ? AND patient_id = ? AND metric_key = ?
			AND measured_at > ? AND measured_at <= ? AND value_num ` + op + ` ? ORDER BY measured_at, id`
}

func queryIDs(tx *txn, q string, args ...any) ([]int64, error) {
	rows, err := tx.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("alert readings: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// raiseOrJoin adds the readings to the rule's open alert, or raises a new
// alert when none is open: one open alert per rule, so a run of high
// readings is one item of work, not many.
func raiseOrJoin(tx *txn, orgID, enrollmentID, patientID int64, r *AlertRule, obsIDs []int64) (*Alert, error) {
	a := &Alert{OrgID: orgID, EnrollmentID: enrollmentID, PatientID: patientID, RuleID: r.ID, Severity: r.Severity, Status: AlertOpen}
	var raised int64
	err := tx.QueryRow(`SELECT id, uuid, message, raised_at FROM alerts WHERE rule_id = ? AND status = 'OPEN'`, r.ID).
		Scan(&a.ID, &a.UUID, &a.Message, &raised)
	event := EventAlertUpdated
	switch {
	case errors.Is(err, sql.ErrNoRows):
		event = EventAlertRaised
		a.UUID = NewUUID()
		a.Message = ruleMessage(r)
		a.RaisedAt = tx.Now
		res, err := tx.Exec(`INSERT INTO alerts (uuid, org_id, enrollment_id, patient_id, rule_id, severity, status, message, raised_at)
			VALUES (?, ?, ?, ?, ?, ?, 'OPEN', ?, ?)`, a.UUID, orgID, enrollmentID, patientID, r.ID, r.Severity, a.Message, unix(tx.Now))
		if err != nil {
			return nil, fmt.Errorf("raise alert: %w", err)
		}
		a.ID, _ = res.LastInsertId()
	case err != nil:
		return nil, fmt.Errorf("open alert: %w", err)
	default:
		a.RaisedAt = fromUnix(raised)
	}
	for _, id := range obsIDs {
		if _, err := tx.Exec(`INSERT OR IGNORE INTO alert_observations (alert_id, observation_id) VALUES (?, ?)`, a.ID, id); err != nil {
			return nil, fmt.Errorf("alert readings: %w", err)
		}
	}
	payload := map[string]any{"alertId": a.ID, "patientId": patientID, "enrollmentId": enrollmentID, "severity": a.Severity}
	if err := tx.Event(orgID, event, "alert", a.ID, payload); err != nil {
		return nil, err
	}
	return a, nil
}

func ruleMessage(r *AlertRule) string {
	if r.Kind == RuleNoReading {
		return "No reading for " + humanDuration(r.Window)
	}
	return "Reading rule met: " + r.Describe()
}

// SweepNoReadings raises the no-reading alerts that are due, in every
// organisation: an active enrollment whose newest reading (or, without
// any, whose start) is older than the rule's window. It answers how many
// alerts it raised. Run it every few minutes.
func (s *Store) SweepNoReadings(ctx context.Context) (int, error) {
	raised := 0
	err := s.write(ctx, func(tx *txn) error {
		raised = 0
		rows, err := tx.Query(`SELECT r.id, r.kind, r.window_seconds, r.severity, r.org_id, e.id, e.patient_id, e.start_date,
				COALESCE((SELECT MAX(o.measured_at) FROM observations o WHERE o.org_id = e.org_id AND o.patient_id = e.patient_id
					AND o.metric_key IS NOT NULL), 0)
			FROM alert_rules r JOIN enrollments e ON e.id = r.enrollment_id
			WHERE r.kind = 'no-reading' AND r.active = 1 AND e.status = 'ACTIVE'
				AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.rule_id = r.id AND a.status = 'OPEN')`)
		if err != nil {
			return fmt.Errorf("sweep no readings: %w", err)
		}
		type due struct {
			rule                   AlertRule
			orgID, enrollID, patID int64
		}
		var dues []due
		for rows.Next() {
			var d due
			var win, last int64
			var start string
			if err := rows.Scan(&d.rule.ID, &d.rule.Kind, &win, &d.rule.Severity, &d.orgID, &d.enrollID, &d.patID, &start, &last); err != nil {
				rows.Close()
				return fmt.Errorf("sweep no readings: %w", err)
			}
			d.rule.Window = time.Duration(win) * time.Second
			since := fromUnix(last)
			if st, err := time.Parse(time.DateOnly, start); err == nil && st.After(since) {
				since = st
			}
			if tx.Now.Sub(since) >= d.rule.Window {
				dues = append(dues, d)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range dues {
			if _, err := raiseOrJoin(tx, d.orgID, d.enrollID, d.patID, &d.rule, nil); err != nil {
				return err
			}
			raised++
		}
		return nil
	})
	return raised, err
}

// AlertFilter selects alerts.
type AlertFilter struct {
	Status       string
	Severity     string
	PatientID    int64
	EnrollmentID int64
	AfterID      int64 // cursor for the plain list (by id)
	Limit        int
}

const alertCols = `a.id, a.uuid, a.org_id, a.enrollment_id, e.uuid, a.patient_id, p.uuid, p.first_name, p.last_name, a.rule_id,
	a.severity, a.status, a.message, a.raised_at, a.resolved_at, COALESCE(a.resolved_by, 0), COALESCE(ru.uuid, ''), a.resolution_note`

const alertFrom = ` FROM alerts a JOIN enrollments e ON e.id = a.enrollment_id JOIN patients p ON p.id = a.patient_id
	LEFT JOIN users ru ON ru.id = a.resolved_by `

func scanAlert(row interface{ Scan(...any) error }) (*Alert, error) {
	var a Alert
	var first, last string
	var raised, resolved int64
	if err := row.Scan(&a.ID, &a.UUID, &a.OrgID, &a.EnrollmentID, &a.EnrollmentUUID, &a.PatientID, &a.PatientUUID, &first, &last,
		&a.RuleID, &a.Severity, &a.Status, &a.Message, &raised, &resolved, &a.ResolvedBy, &a.ResolvedByUUID, &a.ResolutionNote); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	a.PatientName = strings.TrimSpace(first + " " + last)
	a.RaisedAt, a.ResolvedAt = fromUnix(raised), fromUnix(resolved)
	return &a, nil
}

// Alerts lists alerts by id (oldest first).
func (s *Store) Alerts(ctx context.Context, orgID int64, f AlertFilter) ([]Alert, error) {
	return s.alerts(ctx, orgID, f, `a.id`)
}

// Triage is the work queue: open alerts, most severe first, then oldest
// first.
func (s *Store) Triage(ctx context.Context, orgID int64, limit int) ([]Alert, error) {
	return s.alerts(ctx, orgID, AlertFilter{Status: AlertOpen, Limit: limit}, severityRank+`, a.raised_at, a.id`)
}

func (s *Store) alerts(ctx context.Context, orgID int64, f AlertFilter, order string) ([]Alert, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT ` + alertCols + alertFrom + `WHERE a.org_id = ? AND a.id > ?`
	args := []any{orgID, f.AfterID}
	if f.Status != "" {
		q += ` AND a.status = ?`
		args = append(args, f.Status)
	}
	if f.Severity != "" {
		q += ` AND a.severity = ?`
		args = append(args, f.Severity)
	}
	if f.PatientID > 0 {
		q += ` AND a.patient_id = ?`
		args = append(args, f.PatientID)
	}
	if f.EnrollmentID > 0 {
		q += ` AND a.enrollment_id = ?`
		args = append(args, f.EnrollmentID)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY `+order+` LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	var out []Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("alerts: %w", err)
		}
		out = append(out, *a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	for i := range out {
		if out[i].Observations, err = s.alertObservations(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) alertObservations(ctx context.Context, alertID int64) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT o.uuid FROM alert_observations ao JOIN observations o ON o.id = ao.observation_id
		WHERE ao.alert_id = ? ORDER BY o.measured_at, o.id`, alertID)
	if err != nil {
		return nil, fmt.Errorf("alert readings: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Alert returns one alert by its public id.
func (s *Store) Alert(ctx context.Context, orgID int64, uuid string) (*Alert, error) {
	a, err := scanAlert(s.r.QueryRowContext(ctx, `SELECT `+alertCols+alertFrom+`WHERE a.org_id = ? AND a.uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("alert %s: %w", uuid, err)
	}
	if a.Observations, err = s.alertObservations(ctx, a.ID); err != nil {
		return nil, err
	}
	return a, nil
}

// ResolveAlerts resolves alerts (by public id) with a note, all or none:
// an unknown id, or one already resolved, fails the whole call.
func (s *Store) ResolveAlerts(ctx context.Context, orgID, userID int64, uuids []string, note string) error {
	note = strings.TrimSpace(note)
	var v Validator
	v.Check(note != "", "note", "is required")
	v.Text("note", note, MaxNote)
	v.Check(len(uuids) > 0 && len(uuids) <= 500, "alertIds", "must name 1 to 500 alerts")
	if err := v.Err(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		for _, u := range uuids {
			var id, patientID int64
			var status string
			err := tx.QueryRow(`SELECT id, patient_id, status FROM alerts WHERE org_id = ? AND uuid = ?`, orgID, u).Scan(&id, &patientID, &status)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("alert %s: %w", u, ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("resolve alert: %w", err)
			}
			if status != AlertOpen {
				return Conflict("alert alert_" + u + " is already resolved")
			}
			if _, err := tx.Exec(`UPDATE alerts SET status = 'RESOLVED', resolved_at = ?, resolved_by = NULLIF(?, 0), resolution_note = ?
				WHERE id = ?`, unix(tx.Now), userID, note, id); err != nil {
				return fmt.Errorf("resolve alert: %w", err)
			}
			if err := tx.Event(orgID, EventAlertResolved, "alert", id, map[string]any{"alertId": id, "patientId": patientID}); err != nil {
				return err
			}
			if err := tx.Audit(orgID, "resolve", "alert", u, patientID, ""); err != nil {
				return err
			}
		}
		return nil
	})
}
