package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MetricDefinition says what a monitoring reading measures: its unit (UCUM)
// and its code (LOINC where one exists). Readings must come in that unit;
// the appliance never converts.
type MetricDefinition struct {
	Key        string // "bp_systolic"; unique within the catalogue and the organisation
	Name       string
	Unit       string   // UCUM code
	UnitNames  []string // other spellings of the same unit that clients send ("mmHg")
	CodeSystem string   // "LOINC" or "local"
	Code       string
	Min, Max   *float64 // plausible range; a reading outside it is refused
	Builtin    bool
	OrgID      int64 // 0 for the built-in catalogue
}

func ptr(f float64) *float64 { return &f }

// BuiltinMetrics is the catalogue every organisation starts with.
var BuiltinMetrics = []MetricDefinition{
	{Key: "bp_systolic", Name: "Systolic blood pressure", Unit: "mm[Hg]", UnitNames: []string{"mmHg"}, CodeSystem: "LOINC", Code: "8480-6", Min: ptr(20), Max: ptr(300)},
	{Key: "bp_diastolic", Name: "Diastolic blood pressure", Unit: "mm[Hg]", UnitNames: []string{"mmHg"}, CodeSystem: "LOINC", Code: "8462-4", Min: ptr(10), Max: ptr(250)},
	{Key: "heart_rate", Name: "Heart rate", Unit: "/min", UnitNames: []string{"bpm", "beats/min"}, CodeSystem: "LOINC", Code: "8867-4", Min: ptr(10), Max: ptr(300)},
	{Key: "spo2", Name: "Oxygen saturation (pulse oximetry)", Unit: "%", CodeSystem: "LOINC", Code: "59408-5", Min: ptr(30), Max: ptr(100)},
	{Key: "weight", Name: "Body weight", Unit: "kg", CodeSystem: "LOINC", Code: "29463-7", Min: ptr(0.5), Max: ptr(500)},
	{Key: "glucose", Name: "Blood glucose (mass/volume)", Unit: "mg/dL", UnitNames: []string{"mg/dl"}, CodeSystem: "LOINC", Code: "2339-0", Min: ptr(10), Max: ptr(1000)},
	{Key: "glucose_mmol", Name: "Blood glucose (moles/volume)", Unit: "mmol/L", UnitNames: []string{"mmol/l"}, CodeSystem: "LOINC", Code: "15074-8", Min: ptr(0.5), Max: ptr(55)},
	{Key: "temperature", Name: "Body temperature", Unit: "Cel", UnitNames: []string{"°C", "C"}, CodeSystem: "LOINC", Code: "8310-5", Min: ptr(25), Max: ptr(45)},
	{Key: "respiratory_rate", Name: "Respiratory rate", Unit: "/min", UnitNames: []string{"breaths/min"}, CodeSystem: "LOINC", Code: "9279-1", Min: ptr(1), Max: ptr(100)},
	{Key: "peak_flow", Name: "Peak expiratory flow", Unit: "L/min", UnitNames: []string{"l/min"}, CodeSystem: "LOINC", Code: "19935-6", Min: ptr(30), Max: ptr(1000)},
	{Key: "fev1", Name: "FEV1", Unit: "L", UnitNames: []string{"l"}, CodeSystem: "LOINC", Code: "20150-9", Min: ptr(0.1), Max: ptr(10)},
	{Key: "pain_score", Name: "Pain severity (0-10, reported)", Unit: "{score}", UnitNames: []string{"score"}, CodeSystem: "LOINC", Code: "72514-3", Min: ptr(0), Max: ptr(10)},
}

var builtinByKey = func() map[string]*MetricDefinition {
	m := map[string]*MetricDefinition{}
	for i := range BuiltinMetrics {
		BuiltinMetrics[i].Builtin = true
		m[BuiltinMetrics[i].Key] = &BuiltinMetrics[i]
	}
	return m
}()

// AcceptsUnit reports whether unit names the definition's unit.
func (m *MetricDefinition) AcceptsUnit(unit string) bool {
	if unit == m.Unit {
		return true
	}
	for _, u := range m.UnitNames {
		if unit == u {
			return true
		}
	}
	return false
}

// CheckValue validates a reading's value and unit against the definition.
func (m *MetricDefinition) CheckValue(value float64, unit string) error {
	var v Validator
	if !m.AcceptsUnit(unit) {
		want := m.Unit
		if len(m.UnitNames) > 0 {
			want += " (or " + strings.Join(m.UnitNames, ", ") + ")"
		}
		v.Add("unit", fmt.Sprintf("must be %s for %s", want, m.Key))
	}
	if m.Min != nil && value < *m.Min || m.Max != nil && value > *m.Max {
		v.Add("value", fmt.Sprintf("must be between %g and %g %s", deref(m.Min), deref(m.Max), m.Unit))
	}
	return v.Err()
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

var metricKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,62}$`)

// Validate checks an organisation's own definition.
func (m *MetricDefinition) Validate() error {
	var v Validator
	m.Name, m.Unit, m.Code = strings.TrimSpace(m.Name), strings.TrimSpace(m.Unit), strings.TrimSpace(m.Code)
	v.Check(metricKeyRE.MatchString(m.Key), "key", "must be 2-63 lower-case letters, digits or _, starting with a letter")
	if _, ok := builtinByKey[m.Key]; ok {
		v.Add("key", "is a built-in metric")
	}
	v.Check(m.Name != "", "name", "is required")
	v.Line("name", m.Name, MaxLabel)
	v.Check(m.Unit != "", "unit", "is required (a UCUM unit)")
	v.Line("unit", m.Unit, MaxCode)
	v.Check(len(m.UnitNames) <= 10, "unitNames", "must have at most 10 entries")
	for _, u := range m.UnitNames {
		v.Check(u != "" && !strings.Contains(u, ","), "unitNames", "entries must not be empty or hold commas")
		v.Line("unitNames", u, MaxCode)
	}
	v.Line("code", m.Code, MaxShortID)
	if m.CodeSystem == "" {
		m.CodeSystem = "local"
	}
	v.Check(m.CodeSystem == "LOINC" || m.CodeSystem == "local", "codeSystem", "must be LOINC or local")
	if m.Min != nil && m.Max != nil {
		v.Check(*m.Min <= *m.Max, "max", "must not be below min")
	}
	return v.Err()
}

// CreateMetricDefinition adds an organisation's own metric.
func (s *Store) CreateMetricDefinition(ctx context.Context, orgID int64, m *MetricDefinition) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m.OrgID, m.Builtin = orgID, false
	return s.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`INSERT INTO metric_definitions (org_id, key, name, unit, unit_names, code_system, code,
			min_value, max_value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			orgID, m.Key, m.Name, m.Unit, strings.Join(m.UnitNames, ","), m.CodeSystem, m.Code, m.Min, m.Max, unix(tx.Now))
		if isUnique(err) {
			return Conflict(fmt.Sprintf("metric %q already exists", m.Key))
		}
		if err != nil {
			return fmt.Errorf("create metric definition: %w", err)
		}
		return tx.Audit(orgID, "create", "metric-definition", m.Key, 0, m.Name)
	})
}

const metricCols = `key, name, unit, unit_names, code_system, code, min_value, max_value, org_id`

func scanMetric(row interface{ Scan(...any) error }) (*MetricDefinition, error) {
	var m MetricDefinition
	var names string
	var lo, hi sql.NullFloat64
	if err := row.Scan(&m.Key, &m.Name, &m.Unit, &names, &m.CodeSystem, &m.Code, &lo, &hi, &m.OrgID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if names != "" {
		m.UnitNames = strings.Split(names, ",")
	}
	if lo.Valid {
		m.Min = &lo.Float64
	}
	if hi.Valid {
		m.Max = &hi.Float64
	}
	return &m, nil
}

// MetricDefinitions lists the built-in catalogue followed by the
// organisation's own definitions.
func (s *Store) MetricDefinitions(ctx context.Context, orgID int64) ([]MetricDefinition, error) {
	out := append([]MetricDefinition(nil), BuiltinMetrics...)
	rows, err := s.r.QueryContext(ctx, `SELECT `+metricCols+` FROM metric_definitions WHERE org_id = ? ORDER BY key`, orgID)
	if err != nil {
		return nil, fmt.Errorf("metric definitions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMetric(rows)
		if err != nil {
			return nil, fmt.Errorf("metric definitions: %w", err)
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// MetricDefinition returns one metric by key: built-in or the organisation's.
func (s *Store) MetricDefinition(ctx context.Context, orgID int64, key string) (*MetricDefinition, error) {
	return metricDefinition(ctx, s.r, orgID, key)
}

func metricDefinition(ctx context.Context, q queryer, orgID int64, key string) (*MetricDefinition, error) {
	if m, ok := builtinByKey[key]; ok {
		return m, nil
	}
	m, err := scanMetric(q.QueryRowContext(ctx, `SELECT `+metricCols+` FROM metric_definitions WHERE org_id = ? AND key = ?`, orgID, key))
	if err != nil {
		return nil, fmt.Errorf("metric %q: %w", key, err)
	}
	return m, nil
}
