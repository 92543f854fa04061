package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Monitoring programmes.
const (
	ProgramRPM = "RPM" // remote physiologic monitoring
	ProgramRTM = "RTM" // remote therapeutic monitoring
	ProgramCCM = "CCM" // chronic care management
)

// Enrollment statuses.
const (
	EnrollmentActive = "ACTIVE"
	EnrollmentPaused = "PAUSED"
	EnrollmentEnded  = "ENDED"
)

// Programs and EnrollmentStatuses are the values an enrollment accepts.
var (
	Programs           = []string{ProgramRPM, ProgramRTM, ProgramCCM}
	EnrollmentStatuses = []string{EnrollmentActive, EnrollmentPaused, EnrollmentEnded}
)

// Event types of the monitoring model.
const (
	EventEnrollmentCreated = "enrollment:created"
	EventEnrollmentUpdated = "enrollment:updated"
	EventAlertRaised       = "alert:raised"
	EventAlertUpdated      = "alert:updated" // a reading joined an open alert
	EventAlertResolved     = "alert:resolved"
	EventTimeLogged        = "time:logged"
)

// Enrollment is one patient's episode in a monitoring programme: the unit
// that alert rules, time tracking and billing hang off.
type Enrollment struct {
	ID          int64
	UUID        string
	OrgID       int64
	PatientID   int64
	PatientUUID string
	Program     string
	Status      string
	Conditions  []string // ICD-10 codes or text
	Devices     []string // the home devices' identifiers
	CareTeam    []int64  // user ids
	StartDate   string   // YYYY-MM-DD
	EndDate     string   // YYYY-MM-DD or empty
	Rules       []AlertRule
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Alert rule kinds.
const (
	RuleThreshold = "threshold"
	RuleNoReading = "no-reading"
)

// Severities, most urgent first.
var Severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW"}

// AlertRule is one check of an enrollment's readings. A threshold rule
// fires when Count readings of MetricKey compare Operator Threshold within
// Window ("systolic > 180 twice within 24 h"); a no-reading rule fires when
// the enrollment has no reading at all for Window.
type AlertRule struct {
	ID        int64
	Kind      string
	MetricKey string
	Operator  string // >, >=, <, <=
	Threshold float64
	Count     int
	Window    time.Duration
	Severity  string
}

// Matches reports whether a value passes the rule's comparison.
func (r *AlertRule) Matches(v float64) bool {
	switch r.Operator {
	case ">":
		return v > r.Threshold
	case ">=":
		return v >= r.Threshold
	case "<":
		return v < r.Threshold
	case "<=":
		return v <= r.Threshold
	}
	return false
}

// Describe is the rule in words, as alert messages and pages show it.
func (r *AlertRule) Describe() string {
	if r.Kind == RuleNoReading {
		return fmt.Sprintf("no reading for %s", humanDuration(r.Window))
	}
	times := "once"
	switch r.Count {
	case 1:
	case 2:
		times = "twice"
	default:
		times = fmt.Sprintf("%d times", r.Count)
	}
	return fmt.Sprintf("%s %s %g %s within %s", r.MetricKey, r.Operator, r.Threshold, times, humanDuration(r.Window))
}

func humanDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d min", int(d/time.Minute))
}

// DefaultAlertRules are given to an enrollment created without rules.
func DefaultAlertRules() []AlertRule {
	return []AlertRule{
		{Kind: RuleThreshold, MetricKey: "bp_systolic", Operator: ">", Threshold: 180, Count: 2, Window: 24 * time.Hour, Severity: "HIGH"},
		{Kind: RuleThreshold, MetricKey: "spo2", Operator: "<", Threshold: 88, Count: 1, Window: time.Hour, Severity: "CRITICAL"},
		{Kind: RuleNoReading, Window: 72 * time.Hour, Severity: "MEDIUM"},
	}
}

// Validate checks an enrollment's own fields (not that its patient, care
// team and metrics exist: the write does that).
func (e *Enrollment) Validate() error {
	var v Validator
	v.Check(slices.Contains(Programs, e.Program), "program", "must be RPM, RTM or CCM")
	v.Check(slices.Contains(EnrollmentStatuses, e.Status), "status", "must be ACTIVE, PAUSED or ENDED")
	start, err := time.Parse(time.DateOnly, e.StartDate)
	if err != nil {
		v.Add("startDate", "must be a date as YYYY-MM-DD")
	} else if start.Year() < 2000 || start.Year() > 2200 {
		v.Add("startDate", "must be between 2000 and 2200")
	}
	if e.EndDate != "" {
		end, err := time.Parse(time.DateOnly, e.EndDate)
		switch {
		case err != nil:
			v.Add("endDate", "must be a date as YYYY-MM-DD")
		case end.Before(start):
			v.Add("endDate", "must not be before startDate")
		}
	}
	checkList := func(field string, list []string) {
		v.Check(len(list) <= 50, field, "must have at most 50 entries")
		for _, c := range list {
			v.Check(strings.TrimSpace(c) != "", field, "entries must not be blank")
			v.Line(field, c, MaxLabel)
		}
	}
	checkList("conditions", e.Conditions)
	checkList("devices", e.Devices)
	v.Check(len(e.CareTeam) <= 50, "careTeam", "must have at most 50 members")
	v.Check(len(e.Rules) <= 50, "alertRules", "must have at most 50 rules")
	for i := range e.Rules {
		if err := e.Rules[i].validate(fmt.Sprintf("alertRules[%d]", i), &v); err != nil {
			return err
		}
	}
	return v.Err()
}

func (r *AlertRule) validate(field string, v *Validator) error {
	v.Check(slices.Contains(Severities, r.Severity), field+".severity", "must be CRITICAL, HIGH, MEDIUM or LOW")
	v.Check(r.Window >= time.Minute && r.Window <= 90*24*time.Hour, field+".window", "must be between 1 minute and 90 days")
	switch r.Kind {
	case RuleThreshold:
		v.Check(r.MetricKey != "", field+".metricDefinitionId", "is required for a threshold rule")
		v.Check(r.Operator == ">" || r.Operator == ">=" || r.Operator == "<" || r.Operator == "<=", field+".operator", "must be >, >=, < or <=")
		v.Check(r.Count >= 1 && r.Count <= 100, field+".count", "must be between 1 and 100")
	case RuleNoReading:
		r.MetricKey, r.Operator, r.Threshold, r.Count = "", "", 0, 1
	default:
		v.Add(field+".type", "must be THRESHOLD or NO_READING")
	}
	return nil
}

// hasControl reports control characters other than tab and newline.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			return true
		}
	}
	return false
}

// checkEnrollmentRefs makes sure what an enrollment names belongs to the
// organisation: the patient, the care team, the metrics of its rules.
func checkEnrollmentRefs(tx *txn, orgID int64, e *Enrollment) error {
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM patients WHERE org_id = ? AND id = ?`, orgID, e.PatientID).Scan(&n); err != nil {
		return fmt.Errorf("enrollment patient: %w", err)
	}
	if n == 0 {
		return Invalid("patientId", "no such patient")
	}
	for _, uid := range e.CareTeam {
		if err := tx.QueryRow(`SELECT COUNT(*) FROM users WHERE org_id = ? AND id = ?`, orgID, uid).Scan(&n); err != nil {
			return fmt.Errorf("enrollment care team: %w", err)
		}
		if n == 0 {
			return Invalid("careTeam", "names a user who is not a member of the organisation")
		}
	}
	for i, r := range e.Rules {
		if r.Kind != RuleThreshold {
			continue
		}
		if _, err := metricDefinition(tx.Context(), txQueryer{tx}, orgID, r.MetricKey); errors.Is(err, ErrNotFound) {
			return Invalid(fmt.Sprintf("alertRules[%d].metricDefinitionId", i), "no such metric definition")
		} else if err != nil {
			return err
		}
	}
	return nil
}

func jsonList[T any](list []T) string {
	if list == nil {
		return "[]"
	}
	b, _ := json.Marshal(list)
	return string(b)
}

// CreateEnrollment enrolls a patient in a programme, with its alert rules.
func (s *Store) CreateEnrollment(ctx context.Context, orgID int64, e *Enrollment) error {
	e.OrgID = orgID
	if e.Status == "" {
		e.Status = EnrollmentActive
	}
	if err := e.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		if err := checkEnrollmentRefs(tx, orgID, e); err != nil {
			return err
		}
		tx.rulesChanged()
		e.UUID = NewUUID()
		e.CreatedAt, e.UpdatedAt = tx.Now, tx.Now
		res, err := tx.Exec(`INSERT INTO enrollments (uuid, org_id, patient_id, program, status, conditions, devices,
			care_team, start_date, end_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.UUID, orgID, e.PatientID, e.Program, e.Status, jsonList(e.Conditions), jsonList(e.Devices),
			jsonList(e.CareTeam), e.StartDate, e.EndDate, unix(tx.Now), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create enrollment: %w", err)
		}
		e.ID, _ = res.LastInsertId()
		if err := insertRules(tx, orgID, e.ID, e.Rules); err != nil {
			return err
		}
		if err := tx.Event(orgID, EventEnrollmentCreated, "enrollment", e.ID, map[string]any{"enrollmentId": e.ID, "patientId": e.PatientID}); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "enrollment", e.UUID, e.PatientID, e.Program)
	})
}

func insertRules(tx *txn, orgID, enrollmentID int64, rules []AlertRule) error {
	for i := range rules {
		r := &rules[i]
		res, err := tx.Exec(`INSERT INTO alert_rules (org_id, enrollment_id, kind, metric_key, operator, threshold, count,
			window_seconds, severity, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			orgID, enrollmentID, r.Kind, r.MetricKey, r.Operator, r.Threshold, r.Count, int64(r.Window/time.Second), r.Severity, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("add alert rule: %w", err)
		}
		r.ID, _ = res.LastInsertId()
	}
	return nil
}

// enrollmentFrom joins the patient for its public id.
const enrollmentFrom = ` FROM enrollments e JOIN patients p ON p.id = e.patient_id `

const enrollmentCols = `e.id, e.uuid, e.org_id, e.patient_id, p.uuid, e.program, e.status, e.conditions, e.devices, e.care_team,
	e.start_date, e.end_date, e.created_at, e.updated_at`

func scanEnrollment(row interface{ Scan(...any) error }) (*Enrollment, error) {
	var e Enrollment
	var cond, dev, team string
	var c, u int64
	if err := row.Scan(&e.ID, &e.UUID, &e.OrgID, &e.PatientID, &e.PatientUUID, &e.Program, &e.Status, &cond, &dev, &team,
		&e.StartDate, &e.EndDate, &c, &u); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if err := errors.Join(json.Unmarshal([]byte(cond), &e.Conditions), json.Unmarshal([]byte(dev), &e.Devices),
		json.Unmarshal([]byte(team), &e.CareTeam)); err != nil {
		return nil, err
	}
	e.CreatedAt, e.UpdatedAt = fromUnix(c), fromUnix(u)
	return &e, nil
}

const ruleCols = `id, kind, metric_key, operator, threshold, count, window_seconds, severity`

func scanRule(row interface{ Scan(...any) error }) (AlertRule, error) {
	var r AlertRule
	var win int64
	err := row.Scan(&r.ID, &r.Kind, &r.MetricKey, &r.Operator, &r.Threshold, &r.Count, &win, &r.Severity)
	r.Window = time.Duration(win) * time.Second
	return r, err
}

func (s *Store) loadRules(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, orgID int64, es []Enrollment) error {
	for i := range es {
		rows, err := q.QueryContext(ctx, `SELECT `+ruleCols+` FROM alert_rules WHERE org_id = ? AND enrollment_id = ? AND active = 1 ORDER BY id`, orgID, es[i].ID)
		if err != nil {
			return fmt.Errorf("alert rules: %w", err)
		}
		es[i].Rules = es[i].Rules[:0]
		for rows.Next() {
			r, err := scanRule(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("alert rules: %w", err)
			}
			es[i].Rules = append(es[i].Rules, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Enrollment returns one enrollment by its public id, with its rules.
func (s *Store) Enrollment(ctx context.Context, orgID int64, uuid string) (*Enrollment, error) {
	e, err := scanEnrollment(s.r.QueryRowContext(ctx, `SELECT `+enrollmentCols+enrollmentFrom+`WHERE e.org_id = ? AND e.uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("enrollment %s: %w", uuid, err)
	}
	es := []Enrollment{*e}
	if err := s.loadRules(ctx, s.r, orgID, es); err != nil {
		return nil, err
	}
	return &es[0], nil
}

// EnrollmentFilter selects enrollments.
type EnrollmentFilter struct {
	PatientID int64
	Program   string
	Status    string
	AfterID   int64 // cursor: enrollments with a larger id
	Limit     int
}

// Enrollments lists enrollments, oldest first, with their rules.
func (s *Store) Enrollments(ctx context.Context, orgID int64, f EnrollmentFilter) ([]Enrollment, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT ` + enrollmentCols + enrollmentFrom + `WHERE e.org_id = ? AND e.id > ?`
	args := []any{orgID, f.AfterID}
	if f.PatientID > 0 {
		q += ` AND e.patient_id = ?`
		args = append(args, f.PatientID)
	}
	if f.Program != "" {
		q += ` AND e.program = ?`
		args = append(args, f.Program)
	}
	if f.Status != "" {
		q += ` AND e.status = ?`
		args = append(args, f.Status)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY e.id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("enrollments: %w", err)
	}
	var out []Enrollment
	for rows.Next() {
		e, err := scanEnrollment(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("enrollments: %w", err)
		}
		out = append(out, *e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("enrollments: %w", err)
	}
	return out, s.loadRules(ctx, s.r, orgID, out)
}

// UpdateEnrollment loads an enrollment, lets change modify it, validates
// and saves it in one transaction. When change replaces Rules, rules that
// are gone are retired (their alerts stay) and new ones (ID 0) are added.
func (s *Store) UpdateEnrollment(ctx context.Context, orgID int64, uuid string, change func(*Enrollment) error) (*Enrollment, error) {
	var out *Enrollment
	err := s.write(ctx, func(tx *txn) error {
		e, err := scanEnrollment(tx.QueryRow(`SELECT `+enrollmentCols+enrollmentFrom+`WHERE e.org_id = ? AND e.uuid = ?`, orgID, uuid))
		if err != nil {
			return fmt.Errorf("enrollment %s: %w", uuid, err)
		}
		es := []Enrollment{*e}
		if err := s.loadRules(tx.Context(), txRows{tx}, orgID, es); err != nil {
			return err
		}
		e = &es[0]
		tx.rulesChanged()
		oldRules := append([]AlertRule(nil), e.Rules...)
		if err := change(e); err != nil {
			return err
		}
		if err := e.Validate(); err != nil {
			return err
		}
		if err := checkEnrollmentRefs(tx, orgID, e); err != nil {
			return err
		}
		e.UpdatedAt = tx.Now
		_, err = tx.Exec(`UPDATE enrollments SET program = ?, status = ?, conditions = ?, devices = ?, care_team = ?,
			start_date = ?, end_date = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			e.Program, e.Status, jsonList(e.Conditions), jsonList(e.Devices), jsonList(e.CareTeam),
			e.StartDate, e.EndDate, unix(tx.Now), orgID, e.ID)
		if err != nil {
			return fmt.Errorf("update enrollment: %w", err)
		}
		keep := map[int64]bool{}
		var added []AlertRule
		for _, r := range e.Rules {
			if r.ID != 0 {
				keep[r.ID] = true
			} else {
				added = append(added, r)
			}
		}
		for _, r := range oldRules {
			if !keep[r.ID] {
				if _, err := tx.Exec(`UPDATE alert_rules SET active = 0 WHERE org_id = ? AND id = ?`, orgID, r.ID); err != nil {
					return fmt.Errorf("retire alert rule: %w", err)
				}
			}
		}
		if err := insertRules(tx, orgID, e.ID, added); err != nil {
			return err
		}
		if err := tx.Event(orgID, EventEnrollmentUpdated, "enrollment", e.ID, map[string]any{"enrollmentId": e.ID, "patientId": e.PatientID}); err != nil {
			return err
		}
		if err := tx.Audit(orgID, "update", "enrollment", e.UUID, e.PatientID, e.Status); err != nil {
			return err
		}
		fresh := []Enrollment{*e}
		if err := s.loadRules(tx.Context(), txRows{tx}, orgID, fresh); err != nil {
			return err
		}
		out = &fresh[0]
		return nil
	})
	return out, err
}
