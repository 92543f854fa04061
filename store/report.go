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

// ReportColumns are the columns a visit report can hold, in their order in
// the CSV data dump. Package reports fills them from a ReportRow.
var ReportColumns = []string{
	"appointmentId", "appointmentUuid", "externalId", "date", "duration", "status", "videoStatus",
	"waitingRoom", "provider", "reasons", "accountNumber", "episodeId",
	"patientId", "patientExternalId", "mrn", "firstName", "middleName", "lastName", "birthDate", "gender",
	"createdAt", "arrivedAt", "startedAt", "completedAt", "cancelledAt",
}

// ReportRow is one appointment with its patient, for reports.
type ReportRow struct {
	Appointment Appointment
	Patient     Patient
	WaitingRoom string
	Provider    string
}

// ReportRows calls fn for every appointment of the organisation that starts
// in [from, to), by start time, with its patient. The rows stream from the
// database: a large report is never held in memory.
func (s *Store) ReportRows(ctx context.Context, orgID int64, from, to time.Time, fn func(*ReportRow) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixCols("a.", appointmentCols)+`, `+prefixCols("p.", patientCols)+`,
		w.name, COALESCE(u.name, '')
		FROM appointments a
		JOIN patients p ON p.id = a.patient_id
		JOIN waiting_rooms w ON w.id = a.waiting_room_id
		LEFT JOIN users u ON u.id = a.provider_id
		WHERE a.org_id = ? AND a.start_at >= ? AND a.start_at < ?
		ORDER BY a.start_at, a.id`, orgID, unix(from), unix(to))
	if err != nil {
		return fmt.Errorf("report rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ReportRow
		var p patientScan
		a, err := scanAppointment(rows, append(p.dest(), &r.WaitingRoom, &r.Provider)...)
		if err != nil {
			return fmt.Errorf("report rows: %w", err)
		}
		pat, err := p.patient()
		if err != nil {
			return fmt.Errorf("report rows: %w", err)
		}
		r.Appointment, r.Patient = *a, *pat
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// patientScan receives the patientCols of a joined row.
type patientScan struct {
	p                               Patient
	names, telecom, contacts, addrs string
	c, u                            int64
}

func (s *patientScan) dest() []any {
	p := &s.p
	return []any{&p.ID, &p.UUID, &p.OrgID, &p.ExternalID, &p.MRN, &p.HSID, &p.NationalID, &p.AccountNumber,
		&s.names, &p.BirthDate, &p.Gender, &p.MaritalStatus, &s.telecom, &s.contacts, &s.addrs,
		&p.PreferredLanguage, &p.Race, &p.Ethnicity, &p.Active, &p.Deceased, &p.DeceasedAt, &p.FamilyMember,
		&p.LinkedByEmail, &p.EmailGroupType, &p.EmailGroupName, &s.c, &s.u}
}

func (s *patientScan) patient() (*Patient, error) {
	if err := (patientLists{s.names, s.telecom, s.contacts, s.addrs}).decode(&s.p); err != nil {
		return nil, err
	}
	s.p.CreatedAt, s.p.UpdatedAt = fromUnix(s.c), fromUnix(s.u)
	return &s.p, nil
}

// ReportPreset names the columns of an encounter report (the API's presetId).
type ReportPreset struct {
	ID        int64
	UUID      string
	OrgID     int64
	Name      string
	Columns   []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the preset's name and columns.
func (p *ReportPreset) Validate() error {
	var v Validator
	p.Name = strings.TrimSpace(p.Name)
	v.Check(p.Name != "", "name", "is required")
	v.Check(len(p.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(len(p.Columns) > 0, "columns", "choose at least one column")
	for _, c := range p.Columns {
		if !slices.Contains(ReportColumns, c) {
			v.Add("columns", fmt.Sprintf("%q is not a report column", c))
		}
	}
	return v.Err()
}

// CreateReportPreset stores a new preset.
func (s *Store) CreateReportPreset(ctx context.Context, orgID int64, p *ReportPreset) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		p.OrgID, p.UUID, p.CreatedAt, p.UpdatedAt = orgID, NewUUID(), tx.Now, tx.Now
		cols, _ := json.Marshal(p.Columns)
		res, err := tx.Exec(`INSERT INTO report_presets (uuid, org_id, name, columns_json, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, p.UUID, orgID, p.Name, string(cols), unix(tx.Now), unix(tx.Now))
		if isUnique(err) {
			return Invalid("name", "a preset with this name already exists")
		}
		if err != nil {
			return fmt.Errorf("create report preset: %w", err)
		}
		p.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "report-preset", p.UUID, 0, p.Name)
	})
}

const presetCols = `id, uuid, org_id, name, columns_json, created_at, updated_at`

func scanPreset(row interface{ Scan(...any) error }) (*ReportPreset, error) {
	var p ReportPreset
	var cols string
	var c, u int64
	err := row.Scan(&p.ID, &p.UUID, &p.OrgID, &p.Name, &cols, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cols), &p.Columns); err != nil {
		return nil, fmt.Errorf("report preset %d: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = fromUnix(c), fromUnix(u)
	return &p, nil
}

// ReportPreset returns a preset by its public id.
func (s *Store) ReportPreset(ctx context.Context, orgID int64, uuid string) (*ReportPreset, error) {
	p, err := scanPreset(s.r.QueryRowContext(ctx, `SELECT `+presetCols+` FROM report_presets WHERE org_id = ? AND uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("report preset %s: %w", uuid, err)
	}
	return p, nil
}

// ReportPresetByID returns a preset by integer id.
func (s *Store) ReportPresetByID(ctx context.Context, orgID, id int64) (*ReportPreset, error) {
	p, err := scanPreset(s.r.QueryRowContext(ctx, `SELECT `+presetCols+` FROM report_presets WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("report preset %d: %w", id, err)
	}
	return p, nil
}

// ReportPresets lists an organisation's presets by name.
func (s *Store) ReportPresets(ctx context.Context, orgID int64) ([]ReportPreset, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+presetCols+` FROM report_presets WHERE org_id = ? ORDER BY name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("report presets: %w", err)
	}
	defer rows.Close()
	var out []ReportPreset
	for rows.Next() {
		p, err := scanPreset(rows)
		if err != nil {
			return nil, fmt.Errorf("report presets: %w", err)
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// Encounter report statuses, as the API names them.
const (
	ReportPending   = "pending"
	ReportCompleted = "completed"
	ReportFailed    = "failed"
)

// EncounterReport is a visit report ordered through the API. Its content is
// only ever stored as a password-encrypted zip.
type EncounterReport struct {
	ID          int64
	UUID        string // the API's reportId
	OrgID       int64
	PresetID    int64
	From, To    time.Time
	Status      string
	Error       string
	Rows        int
	CreatedAt   time.Time
	CompletedAt time.Time
}

// CreateEncounterReport stores a pending report order.
func (s *Store) CreateEncounterReport(ctx context.Context, orgID int64, r *EncounterReport) error {
	var v Validator
	v.Check(!r.From.IsZero(), "from", "This value should not be blank.")
	v.Check(!r.To.IsZero(), "to", "This value should not be blank.")
	if !r.From.IsZero() && !r.To.IsZero() {
		v.Check(r.From.Before(r.To), "to", "must be after from")
	}
	v.Check(r.PresetID > 0, "presetId", "This value should not be blank.")
	if err := v.Err(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		var n int
		tx.QueryRow(`SELECT COUNT(*) FROM report_presets WHERE org_id = ? AND id = ?`, orgID, r.PresetID).Scan(&n)
		if n == 0 {
			return Invalid("presetId", "Preset not found.")
		}
		r.OrgID, r.UUID, r.Status, r.CreatedAt = orgID, NewUUID(), ReportPending, tx.Now
		res, err := tx.Exec(`INSERT INTO encounter_reports (uuid, org_id, preset_id, from_at, to_at, status, created_at)
			VALUES (?, ?, ?, ?, ?, 'pending', ?)`, r.UUID, orgID, r.PresetID, unix(r.From), unix(r.To), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create encounter report: %w", err)
		}
		r.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "encounter-report", r.UUID, 0,
			r.From.Format(time.RFC3339)+" - "+r.To.Format(time.RFC3339))
	})
}

const reportCols = `id, uuid, org_id, preset_id, from_at, to_at, status, error, row_count, created_at, completed_at`

func scanReport(row interface{ Scan(...any) error }) (*EncounterReport, error) {
	var r EncounterReport
	var from, to, c, done int64
	err := row.Scan(&r.ID, &r.UUID, &r.OrgID, &r.PresetID, &from, &to, &r.Status, &r.Error, &r.Rows, &c, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.From, r.To, r.CreatedAt, r.CompletedAt = fromUnix(from), fromUnix(to), fromUnix(c), fromUnix(done)
	return &r, nil
}

// EncounterReport returns a report order by its public id.
func (s *Store) EncounterReport(ctx context.Context, orgID int64, uuid string) (*EncounterReport, error) {
	r, err := scanReport(s.r.QueryRowContext(ctx, `SELECT `+reportCols+` FROM encounter_reports WHERE org_id = ? AND uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("encounter report %s: %w", uuid, err)
	}
	return r, nil
}

// EncounterReports lists an organisation's report orders, newest first.
func (s *Store) EncounterReports(ctx context.Context, orgID int64, limit int) ([]EncounterReport, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+reportCols+` FROM encounter_reports WHERE org_id = ? ORDER BY id DESC LIMIT ?`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("encounter reports: %w", err)
	}
	defer rows.Close()
	var out []EncounterReport
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("encounter reports: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// EncounterReportZip returns the encrypted zip of a completed report.
func (s *Store) EncounterReportZip(ctx context.Context, orgID int64, uuid string) ([]byte, error) {
	var zip []byte
	var status string
	err := s.r.QueryRowContext(ctx, `SELECT status, zip FROM encounter_reports WHERE org_id = ? AND uuid = ?`, orgID, uuid).Scan(&status, &zip)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("encounter report %s: %w", uuid, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("encounter report %s: %w", uuid, err)
	}
	if status != ReportCompleted {
		return nil, Conflict(fmt.Sprintf("report is %s", status))
	}
	return zip, nil
}

// CompleteEncounterReport stores the encrypted zip of a pending report.
func (s *Store) CompleteEncounterReport(ctx context.Context, id int64, zip []byte, rows int) error {
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`UPDATE encounter_reports SET status = 'completed', zip = ?, row_count = ?, completed_at = ?
			WHERE id = ? AND status = 'pending'`, zip, rows, unix(tx.Now), id)
		if err != nil {
			return fmt.Errorf("complete encounter report %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("complete encounter report %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// FailEncounterReport marks a pending report failed with a reason the
// client may read.
func (s *Store) FailEncounterReport(ctx context.Context, id int64, reason string) error {
	return s.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`UPDATE encounter_reports SET status = 'failed', error = ?, completed_at = ?
			WHERE id = ? AND status = 'pending'`, reason, unix(tx.Now), id)
		if err != nil {
			return fmt.Errorf("fail encounter report %d: %w", id, err)
		}
		return nil
	})
}

// FailPendingEncounterReports marks every pending report failed. The report
// worker calls it on start: the password of a pending report lived only in
// the memory of the process that stopped, so the report cannot be finished.
func (s *Store) FailPendingEncounterReports(ctx context.Context, reason string, except []int64) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *txn) error {
		q := `UPDATE encounter_reports SET status = 'failed', error = ?, completed_at = ? WHERE status = 'pending'`
		args := []any{reason, unix(tx.Now)}
		if len(except) > 0 {
			q += ` AND id NOT IN (?` + strings.Repeat(", ?", len(except)-1) + `)`
			for _, id := range except {
				args = append(args, id)
			}
		}
		res, err := tx.Exec(q, args...)
		if err != nil {
			return fmt.Errorf("fail pending encounter reports: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}
