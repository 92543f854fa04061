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

// Appointment statuses, as the telehealth API lists them, in the order a
// visit goes through them.
const (
	StatusScheduled       = "scheduled"
	StatusArrived         = "arrived"
	StatusIntakeReady     = "in progress.intake.ready"
	StatusIntakeProgress  = "in progress.intake.progress"
	StatusExamReady       = "in progress.exam.ready"
	StatusExamProgress    = "in progress.exam.progress"
	StatusDischargeReady  = "discharge.ready"
	StatusDischargeActive = "discharge.progress"
	StatusCompleted       = "completed"
	StatusSignOff         = "sign off"
	StatusCancelled       = "cancelled"
	StatusNoShow          = "not showed up"
)

// AppointmentStatuses lists every status.
var AppointmentStatuses = []string{StatusScheduled, StatusArrived, StatusIntakeReady, StatusIntakeProgress,
	StatusExamReady, StatusExamProgress, StatusDischargeReady, StatusDischargeActive, StatusCompleted,
	StatusSignOff, StatusCancelled, StatusNoShow}

// VideoStatuses lists the video call statuses.
var VideoStatuses = []string{"LWBS", "incomplete", "complete", "finalizing", "on hold", "on call", "waiting"}

// Appointment is one visit (= encounter) of a patient in a waiting room.
type Appointment struct {
	ID            int64 // integer id; the telehealth API's SAID
	UUID          string
	OrgID         int64
	PatientID     int64
	WaitingRoomID int64
	ProviderID    int64 // 0 = not assigned
	Start         time.Time
	Duration      int // seconds
	Reasons       []string
	Status        string
	VideoCallID   string
	VideoStatus   string // "" = no call yet
	ExternalID    string
	AccountNumber string
	EpisodeID     int64
	PatientToken  string // bearer secret in the patient's visit link
	ProviderToken string // bearer secret in the provider's visit link
	ArrivedAt     time.Time
	StartedAt     time.Time
	CompletedAt   time.Time
	CancelledAt   time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// End is when the appointment is planned to finish.
func (a *Appointment) End() time.Time { return a.Start.Add(time.Duration(a.Duration) * time.Second) }

// Open reports whether the appointment is neither finished nor cancelled.
func (a *Appointment) Open() bool {
	switch a.Status {
	case StatusCompleted, StatusSignOff, StatusCancelled, StatusNoShow:
		return false
	}
	return true
}

// Validate checks an appointment's own fields.
func (a *Appointment) Validate() error { return a.validateAt(time.Time{}) }

// validateAt is Validate that also bounds the date to within 100 years of
// now (zero now: not checked); the store checks with the write's clock.
func (a *Appointment) validateAt(now time.Time) error {
	var v Validator
	v.Near("date", a.Start, now)
	v.Check(a.PatientID > 0, "patient", "is required")
	v.Check(a.WaitingRoomID > 0, "waitingRoom", "is required")
	v.Check(!a.Start.IsZero(), "date", "is required")
	v.Check(a.Duration >= 1 && a.Duration <= 86400, "duration", "must be in range [1, 86400]")
	v.Check(slices.Contains(AppointmentStatuses, a.Status), "status", "must be one of "+strings.Join(AppointmentStatuses, ", "))
	v.Check(a.VideoStatus == "" || slices.Contains(VideoStatuses, a.VideoStatus), "videoCall.status", "must be one of "+strings.Join(VideoStatuses, ", "))
	v.Check(len(a.Reasons) <= 20, "reasons", "must have at most 20 entries")
	for i, r := range a.Reasons {
		v.Check(len(r) <= 500, fmt.Sprintf("reasons[%d]", i), "must be at most 500 characters")
		v.Text(fmt.Sprintf("reasons[%d]", i), r, MaxShortText)
	}
	v.Check(len(a.ExternalID) <= 200, "externalId", "must be at most 200 characters")
	v.Line("externalId", a.ExternalID, MaxIDLength)
	return v.Err()
}

// CreateAppointment stores a new appointment. Duration 0 takes the waiting
// room's slot duration; Status "" is scheduled; Start zero is now.
func (s *Store) CreateAppointment(ctx context.Context, orgID int64, a *Appointment) error {
	return s.write(ctx, func(tx *txn) error { return createAppointmentTx(ctx, tx, orgID, a) })
}

// createAppointmentTx is CreateAppointment within a larger write.
func createAppointmentTx(ctx context.Context, tx *txn, orgID int64, a *Appointment) error {
	a.OrgID = orgID
	var v Validator
	// Only existence (and the room's slot duration) is needed here: no
	// need to read and decode the whole rows inside the writer.
	slotDuration := 0
	if a.WaitingRoomID == 0 {
		v.Add("waitingRoom", "is required")
	} else {
		err := tx.QueryRow(`SELECT slot_duration FROM waiting_rooms WHERE org_id = ? AND id = ?`, orgID, a.WaitingRoomID).Scan(&slotDuration)
		if errors.Is(err, sql.ErrNoRows) {
			v.Add("waitingRoom", "does not exist")
		} else if err != nil {
			return fmt.Errorf("create appointment: %w", err)
		}
	}
	if a.PatientID > 0 {
		var one int
		err := tx.QueryRow(`SELECT 1 FROM patients WHERE org_id = ? AND id = ?`, orgID, a.PatientID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			v.Add("patient", "does not exist")
		} else if err != nil {
			return fmt.Errorf("create appointment: %w", err)
		}
	}
	if a.ProviderID > 0 {
		var n int
		tx.QueryRow(`SELECT COUNT(*) FROM users WHERE org_id = ? AND id = ?`, orgID, a.ProviderID).Scan(&n)
		v.Check(n == 1, "provider", "does not exist")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if a.Duration == 0 {
		a.Duration = slotDuration
	}
	if a.Status == "" {
		a.Status = StatusScheduled
	}
	if a.Start.IsZero() {
		a.Start = tx.Now
	}
	a.Start = a.Start.UTC().Truncate(time.Second)
	if err := a.validateAt(tx.Now); err != nil {
		return err
	}
	a.UUID = NewUUID()
	a.VideoCallID = NewUUID()
	a.PatientToken, a.ProviderToken = NewToken(24), NewToken(24)
	a.CreatedAt, a.UpdatedAt = tx.Now, tx.Now
	reasons, _ := json.Marshal(nonNil(a.Reasons))
	res, err := tx.Exec(`INSERT INTO appointments (uuid, org_id, patient_id, waiting_room_id, provider_id, start_at,
		duration, reasons_json, status, video_call_id, video_status, external_id, account_number, episode_id,
		patient_token, provider_token, created_at, updated_at)
		VALUES (?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, NULLIF(?, 0), ?, ?, ?, ?)`,
		a.UUID, orgID, a.PatientID, a.WaitingRoomID, a.ProviderID, unix(a.Start), a.Duration, string(reasons),
		a.Status, a.VideoCallID, a.VideoStatus, a.ExternalID, a.AccountNumber, a.EpisodeID,
		a.PatientToken, a.ProviderToken, unix(tx.Now), unix(tx.Now))
	if err != nil {
		return fmt.Errorf("create appointment: %w", err)
	}
	a.ID, _ = res.LastInsertId()
	if err := recordStatusChange(tx, orgID, a.ID, "", a.Status, ""); err != nil {
		return err
	}
	if err := tx.Event(orgID, EventAppointmentScheduled, "appointment", a.ID, map[string]any{"appointmentId": a.ID}); err != nil {
		return err
	}
	return tx.Audit(orgID, "create", "appointment", fmt.Sprint(a.ID), a.PatientID, "")
}

const appointmentCols = `id, uuid, org_id, patient_id, waiting_room_id, COALESCE(provider_id, 0), start_at, duration,
	reasons_json, status, video_call_id, video_status, COALESCE(external_id, ''), account_number,
	COALESCE(episode_id, 0), patient_token, provider_token, arrived_at, started_at, completed_at, cancelled_at,
	created_at, updated_at`

func scanAppointment(row interface{ Scan(...any) error }, extra ...any) (*Appointment, error) {
	var a Appointment
	var reasons string
	var start, arr, st, comp, canc, c, u int64
	dest := []any{&a.ID, &a.UUID, &a.OrgID, &a.PatientID, &a.WaitingRoomID, &a.ProviderID, &start, &a.Duration,
		&reasons, &a.Status, &a.VideoCallID, &a.VideoStatus, &a.ExternalID, &a.AccountNumber, &a.EpisodeID,
		&a.PatientToken, &a.ProviderToken, &arr, &st, &comp, &canc, &c, &u}
	err := row.Scan(append(dest, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(reasons), &a.Reasons); err != nil {
		return nil, fmt.Errorf("appointment %d reasons: %w", a.ID, err)
	}
	a.Start, a.ArrivedAt, a.StartedAt = fromUnix(start), fromUnix(arr), fromUnix(st)
	a.CompletedAt, a.CancelledAt, a.CreatedAt, a.UpdatedAt = fromUnix(comp), fromUnix(canc), fromUnix(c), fromUnix(u)
	return &a, nil
}

// AppointmentKey names how an appointment is looked up.
type AppointmentKey string

// Ways to find an appointment.
const (
	ApptByID            AppointmentKey = "id"
	ApptByUUID          AppointmentKey = "uuid"
	ApptByExternalID    AppointmentKey = "external_id"
	ApptByPatientToken  AppointmentKey = "patient_token"
	ApptByProviderToken AppointmentKey = "provider_token"
)

func appointmentBy(q queryer, ctx context.Context, orgID int64, key AppointmentKey, value string) (*Appointment, error) {
	col := map[AppointmentKey]string{ApptByID: "id", ApptByUUID: "uuid", ApptByExternalID: "external_id",
		ApptByPatientToken: "patient_token", ApptByProviderToken: "provider_token"}[key]
	if col == "" {
		return nil, fmt.Errorf("appointment by %q: unknown key", key)
	}
	if value == "" {
		return nil, ErrNotFound
	}
	a, err := scanAppointment(q.QueryRowContext(ctx, `SELECT `+appointmentCols+` FROM appointments
		WHERE org_id = ? AND `+col+` = ? ORDER BY id LIMIT 1`, orgID, value))
	if err != nil {
		return nil, fmt.Errorf("appointment %s=%s: %w", key, value, err)
	}
	return a, nil
}

// AppointmentBy finds one appointment of the organisation.
func (s *Store) AppointmentBy(ctx context.Context, orgID int64, key AppointmentKey, value string) (*Appointment, error) {
	return appointmentBy(s.r, ctx, orgID, key, value)
}

// Appointment returns an appointment by integer id.
func (s *Store) Appointment(ctx context.Context, orgID, id int64) (*Appointment, error) {
	return s.AppointmentBy(ctx, orgID, ApptByID, fmt.Sprint(id))
}

// AppointmentByToken resolves a visit-link token to its appointment and the
// role it grants ("patient", "provider" or "guest", the third participant),
// in any organisation: the token is the credential.
func (s *Store) AppointmentByToken(ctx context.Context, token string) (*Appointment, string, error) {
	if token == "" {
		return nil, "", ErrNotFound
	}
	var role string
	a, err := scanAppointment(s.r.QueryRowContext(ctx, `SELECT `+appointmentCols+`,
		CASE WHEN patient_token = ? THEN 'patient' WHEN provider_token = ? THEN 'provider' ELSE 'guest' END
		FROM appointments WHERE patient_token = ? OR provider_token = ? OR guest_token = ?`,
		token, token, token, token, token), &role)
	if err != nil {
		return nil, "", fmt.Errorf("appointment by token: %w", err)
	}
	return a, role, nil
}

// UpdateAppointment loads an appointment, lets change modify it, validates
// and saves it with the event that describes the change.
func (s *Store) UpdateAppointment(ctx context.Context, orgID, id int64, change func(*Appointment) error) (*Appointment, error) {
	var out *Appointment
	err := s.write(ctx, func(tx *txn) error {
		a, err := updateAppointmentTx(ctx, tx, orgID, id, change)
		out = a
		return err
	})
	return out, err
}

// updateAppointmentTx is UpdateAppointment within a larger write.
func updateAppointmentTx(ctx context.Context, tx *txn, orgID, id int64, change func(*Appointment) error) (*Appointment, error) {
	return updateAppointment(ctx, tx, orgID, id, "", change)
}

// updateAppointment is updateAppointmentTx with the reason a status change
// is recorded with.
func updateAppointment(ctx context.Context, tx *txn, orgID, id int64, reason string, change func(*Appointment) error) (*Appointment, error) {
	old, err := appointmentBy(txQueryer{tx}, ctx, orgID, ApptByID, fmt.Sprint(id))
	if err != nil {
		return nil, err
	}
	a := *old
	a.Reasons = slices.Clone(old.Reasons)
	if err := change(&a); err != nil {
		return nil, err
	}
	a.ID, a.UUID, a.OrgID, a.PatientToken, a.ProviderToken = old.ID, old.UUID, old.OrgID, old.PatientToken, old.ProviderToken
	a.Start = a.Start.UTC().Truncate(time.Second)
	if err := a.validateAt(tx.Now); err != nil {
		return nil, err
	}
	if a.WaitingRoomID != old.WaitingRoomID {
		var n int
		tx.QueryRow(`SELECT COUNT(*) FROM waiting_rooms WHERE org_id = ? AND id = ?`, orgID, a.WaitingRoomID).Scan(&n)
		if n == 0 {
			return nil, Invalid("waitingRoom", "does not exist")
		}
	}
	if a.ProviderID != old.ProviderID && a.ProviderID != 0 {
		var n int
		tx.QueryRow(`SELECT COUNT(*) FROM users WHERE org_id = ? AND id = ?`, orgID, a.ProviderID).Scan(&n)
		if n == 0 {
			return nil, Invalid("provider", "does not exist")
		}
	}
	if a.Status != old.Status {
		switch a.Status {
		case StatusArrived:
			a.ArrivedAt = tx.Now
		case StatusIntakeProgress, StatusExamProgress:
			if a.StartedAt.IsZero() {
				a.StartedAt = tx.Now
			}
		case StatusCompleted, StatusSignOff:
			a.CompletedAt = tx.Now
		case StatusCancelled:
			a.CancelledAt = tx.Now
		}
	}
	a.UpdatedAt = tx.Now
	reasons, _ := json.Marshal(nonNil(a.Reasons))
	_, err = tx.Exec(`UPDATE appointments SET waiting_room_id = ?, provider_id = NULLIF(?, 0), start_at = ?, duration = ?,
		reasons_json = ?, status = ?, video_status = ?, external_id = NULLIF(?, ''), account_number = ?,
		episode_id = NULLIF(?, 0), arrived_at = ?, started_at = ?, completed_at = ?, cancelled_at = ?, updated_at = ?
		WHERE org_id = ? AND id = ?`,
		a.WaitingRoomID, a.ProviderID, unix(a.Start), a.Duration, string(reasons), a.Status, a.VideoStatus,
		a.ExternalID, a.AccountNumber, a.EpisodeID, unix(a.ArrivedAt), unix(a.StartedAt), unix(a.CompletedAt),
		unix(a.CancelledAt), unix(tx.Now), orgID, a.ID)
	if err != nil {
		return nil, fmt.Errorf("update appointment: %w", err)
	}
	if a.Status != old.Status {
		if err := recordStatusChange(tx, orgID, a.ID, old.Status, a.Status, reason); err != nil {
			return nil, err
		}
	}
	for _, typ := range appointmentEvents(old, &a) {
		payload := map[string]any{"appointmentId": a.ID, "status": a.Status, "waitingRoomId": a.WaitingRoomID}
		if err := tx.Event(orgID, typ, "appointment", a.ID, payload); err != nil {
			return nil, err
		}
	}
	detail := describeChange(old, &a)
	if reason != "" {
		detail += " (reason: " + reason + ")"
	}
	if err := tx.Audit(orgID, "update", "appointment", fmt.Sprint(a.ID), a.PatientID, detail); err != nil {
		return nil, err
	}
	return &a, nil
}

// appointmentEvents names what changed, with the documented webhook event
// names where one fits.
func appointmentEvents(old, a *Appointment) []string {
	var evs []string
	if !old.Start.Equal(a.Start) || old.Duration != a.Duration {
		evs = append(evs, EventAppointmentRescheduled)
	}
	if old.Status != a.Status {
		switch a.Status {
		case StatusCancelled:
			evs = append(evs, EventAppointmentCancelled)
		case StatusCompleted, StatusSignOff:
			if old.Status != StatusCompleted && old.Status != StatusSignOff {
				evs = append(evs, EventAppointmentCompleted)
			} else {
				evs = append(evs, EventAppointmentStatus)
			}
		case StatusNoShow:
			evs = append(evs, EventAppointmentNoShow)
		default:
			evs = append(evs, EventAppointmentStatus)
		}
	}
	if old.VideoStatus != a.VideoStatus {
		switch a.VideoStatus {
		case "LWBS":
			evs = append(evs, EventAppointmentLWBS)
		case "incomplete":
			evs = append(evs, EventAppointmentIncompleted)
		}
	}
	if len(evs) == 0 {
		evs = append(evs, EventAppointmentUpdated)
	}
	return evs
}

func describeChange(old, a *Appointment) string {
	var parts []string
	if old.Status != a.Status {
		parts = append(parts, fmt.Sprintf("status %s -> %s", old.Status, a.Status))
	}
	if !old.Start.Equal(a.Start) {
		parts = append(parts, "start "+a.Start.Format(time.RFC3339))
	}
	if old.Duration != a.Duration {
		parts = append(parts, fmt.Sprintf("duration %d", a.Duration))
	}
	if old.WaitingRoomID != a.WaitingRoomID {
		parts = append(parts, fmt.Sprintf("waiting room %d", a.WaitingRoomID))
	}
	return strings.Join(parts, ", ")
}

// AppointmentFilter selects appointments for a list.
type AppointmentFilter struct {
	WaitingRoomID int64
	PatientID     int64
	ProviderID    int64
	EpisodeID     int64
	From, To      time.Time // start in [From, To)
	Statuses      []string
	Limit         int
	Offset        int
}

// AppointmentRow is an appointment with the names a list shows next to it.
type AppointmentRow struct {
	Appointment
	PatientName     string
	PatientMRN      string
	PatientBirth    string
	WaitingRoomName string
	ProviderName    string
}

// Appointments lists appointments by start time, with the total that match.
func (s *Store) Appointments(ctx context.Context, orgID int64, f AppointmentFilter) ([]AppointmentRow, int, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	where := `a.org_id = ?`
	args := []any{orgID}
	if f.WaitingRoomID > 0 {
		where += ` AND a.waiting_room_id = ?`
		args = append(args, f.WaitingRoomID)
	}
	if f.PatientID > 0 {
		where += ` AND a.patient_id = ?`
		args = append(args, f.PatientID)
	}
	if f.ProviderID > 0 {
		where += ` AND a.provider_id = ?`
		args = append(args, f.ProviderID)
	}
	if f.EpisodeID > 0 {
		where += ` AND a.episode_id = ?`
		args = append(args, f.EpisodeID)
	}
	if !f.From.IsZero() {
		where += ` AND a.start_at >= ?`
		args = append(args, unix(f.From))
	}
	if !f.To.IsZero() {
		where += ` AND a.start_at < ?`
		args = append(args, unix(f.To))
	}
	if len(f.Statuses) > 0 {
		where += ` AND a.status IN (?` + strings.Repeat(", ?", len(f.Statuses)-1) + `)`
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM appointments a WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("appointments: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixCols("a.", appointmentCols)+`,
		trim(p.first_name || ' ' || p.last_name), p.mrn, p.birth_date, w.name, COALESCE(u.name, '')
		FROM appointments a
		JOIN patients p ON p.id = a.patient_id
		JOIN waiting_rooms w ON w.id = a.waiting_room_id
		LEFT JOIN users u ON u.id = a.provider_id
		WHERE `+where+` ORDER BY a.start_at, a.id LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("appointments: %w", err)
	}
	defer rows.Close()
	var out []AppointmentRow
	for rows.Next() {
		var r AppointmentRow
		a, err := scanAppointment(rows, &r.PatientName, &r.PatientMRN, &r.PatientBirth, &r.WaitingRoomName, &r.ProviderName)
		if err != nil {
			return nil, 0, fmt.Errorf("appointments: %w", err)
		}
		r.Appointment = *a
		if r.PatientName == "" {
			r.PatientName = "(no name)"
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// hasRecentAppointmentTx reports, within a write, whether the patient has an
// appointment that is not cancelled and was created at or after since.
// Inside the write the answer cannot change before the write commits.
func hasRecentAppointmentTx(tx *txn, orgID, patientID int64, since time.Time) (bool, error) {
	var n int
	err := tx.QueryRow(`SELECT COUNT(*) FROM (SELECT 1 FROM appointments WHERE org_id = ? AND patient_id = ?
		AND status <> ? AND created_at >= ? LIMIT 1)`, orgID, patientID, StatusCancelled, unix(since)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("recent appointment: %w", err)
	}
	return n > 0, nil
}
