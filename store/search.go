package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// This file holds the search queries of the standards faces (FHIR, the
// reporting API): several filters combined with AND, each filter a list of
// alternatives combined with OR, results paged in a stable order. They read
// the aggregates defined in their own files; the rows carry the public ids
// (uuids) of what they point to, so that a face can write references
// without a query per row.

// TimeRange is From <= t < To; a zero bound is open. Not inverts it.
type TimeRange struct {
	From, To time.Time
	Not      bool
}

// sql renders the range over a unix-seconds column, with bind as the
// parameter ("?" or opaque).
func (r TimeRange) sql(col, bind string) (string, []any) {
	var parts []string
	var args []any
	if !r.From.IsZero() {
		parts = append(parts, col+` >= `+bind)
		args = append(args, r.From.Unix())
	}
	if !r.To.IsZero() {
		parts = append(parts, col+` < `+bind)
		args = append(args, r.To.Unix())
	}
	if len(parts) == 0 {
		if r.Not {
			return `0`, nil
		}
		return `1`, nil
	}
	c := strings.Join(parts, ` AND `)
	if r.Not {
		c = `NOT (` + c + `)`
	}
	return c, args
}

// CodeRef is a code in any of Systems (as stored: "LN", "NPU", ...); no
// systems matches the code in any system.
type CodeRef struct {
	Systems []string
	Code    string
}

// where collects the conditions of a query. Every value is bound
// opaquely (see opaque), so that the statement is compiled once, whatever
// the values: with "?", every search with an ORDER BY or a join and a
// "col = ?" was compiled anew on each run (TestReadsCompileOnce).
type where struct {
	conds []string
	args  []any
}

// bind is the parameter in and times write.
func (w *where) bind() string { return opaque }

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	b := w.bind()
	w.add(col+` IN (`+b+strings.Repeat(`, `+b, len(vals)-1)+`)`, args...)
}

func (w *where) times(col string, rs []TimeRange) {
	for _, r := range rs {
		c, a := r.sql(col, w.bind())
		w.add(c, a...)
	}
}

func (w *where) String() string { return strings.Join(w.conds, ` AND `) }

// Page is the window of a search: Limit rows after skipping Offset.
type Page struct {
	Limit  int
	Offset int
}

func (p Page) sql() (string, []any) {
	limit := p.Limit
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	return ` LIMIT ` + opaque + ` OFFSET ` + opaque, []any{limit, max(p.Offset, 0)}
}

// opaque is a parameter the query planner does not look into. The bundled
// SQLite plans with the bound value of a LIMIT, or of a "col = ?" that no
// index serves, and then re-prepares the statement each time it runs with
// a value bound anew (all of our statement cache's statements, every
// time): for a wide query that is most of its cost (a page of five
// observations by id: 156 µs of CPU with "?", 60 µs with "+?"). A unary
// plus hides the value from the planner; it is still compared with the
// column's affinity.
const opaque = `+?`

// ObservationSearch selects patient observations (never QC results).
type ObservationSearch struct {
	UUIDs     []string
	PatientID int64 // 0: any patient
	Codes     []CodeRef
	Statuses  []string    // as stored
	Effective []TimeRange // on the measured time; observations without one never match
	DeviceID  int64
	Category  []string
	Messages  []int64 // from these instrument messages
	SortDate  int     // 0: by id; 1: oldest first; -1: newest first
	Page
}

// ObservationRow is an observation with the public ids it points to.
type ObservationRow struct {
	Observation
	PatientUUID     string
	DeviceUUID      string
	DeviceName      string
	AppointmentUUID string
}

// SearchObservations lists the organisation's patient observations that
// match f.
func (s *Store) SearchObservations(ctx context.Context, orgID int64, f ObservationSearch) ([]ObservationRow, error) {
	q, args := observationSearchSQL(orgID, f)
	out, err := s.observationRows(ctx, q, args)
	if err != nil {
		return nil, fmt.Errorf("search observations: %w", err)
	}
	return out, nil
}

// observationSearchSQL is the conditions, order and page of an observation
// search, for observationRows.
func observationSearchSQL(orgID int64, f ObservationSearch) (string, []any) {
	// Every value is bound opaquely: the planner looked at the bound date
	// range and code system values and the driver then re-prepared the
	// statement (four tables, 35 columns) on every search; opaque, the
	// search's query costs about half the CPU. The indexes serve the same
	// terms either way (TestObservationSearchPlans).
	var w where
	w.add(`o.org_id = `+opaque, orgID)
	w.add(`o.is_qc = 0`)
	if len(f.UUIDs) == 0 {
		// A search finds the current version of each result; an earlier
		// version is still found by its id.
		w.add(`o.superseded_at = 0`)
	}
	w.in(`o.uuid`, f.UUIDs)
	if f.PatientID > 0 {
		w.add(`o.patient_id = `+opaque, f.PatientID)
	}
	if len(f.Codes) > 0 {
		var alts []string
		var args []any
		for _, c := range f.Codes {
			alt := `o.code = ` + opaque
			args = append(args, c.Code)
			if len(c.Systems) > 0 {
				alt += ` AND o.code_system IN (` + opaque + strings.Repeat(`, `+opaque, len(c.Systems)-1) + `)`
				for _, sys := range c.Systems {
					args = append(args, sys)
				}
			}
			alts = append(alts, `(`+alt+`)`)
		}
		w.add(`(`+strings.Join(alts, ` OR `)+`)`, args...)
	}
	w.in(`o.status`, f.Statuses)
	w.in(`o.category`, f.Category)
	if len(f.Effective) > 0 {
		// A filter, not a bound of the index: as a third bound on
		// measured_at it made the planner take observations_patient over
		// observations_patient_code when a code is given too, and read
		// every result of the patient in the range rather than the code's
		// (TestObservationSearchPlans).
		w.add(`+o.measured_at > 0`)
		w.times(`o.measured_at`, f.Effective)
	}
	if f.DeviceID > 0 {
		w.add(`o.device_id = `+opaque, f.DeviceID)
	}
	if len(f.Messages) > 0 {
		ids := make([]string, len(f.Messages))
		for i, id := range f.Messages {
			ids[i] = fmt.Sprint(id)
		}
		w.in(`CAST(o.message_id AS TEXT)`, ids)
	}
	order := ` ORDER BY o.id`
	switch {
	case f.SortDate > 0:
		order = ` ORDER BY o.measured_at, o.id`
	case f.SortDate < 0:
		order = ` ORDER BY o.measured_at DESC, o.id DESC`
	}
	lim, largs := f.Page.sql()
	return w.String() + order + lim, append(w.args, largs...)
}

// observationRows reads the observations rows that where (conditions on
// o, then the order and the page) selects, with the public ids they point
// to.
func (s *Store) observationRows(ctx context.Context, where string, args []any) ([]ObservationRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+observationColsO+`,
		COALESCE(p.uuid, ''), COALESCE(d.uuid, ''), COALESCE(d.name, ''), COALESCE(a.uuid, '')
		FROM observations o
		LEFT JOIN patients p ON p.id = o.patient_id
		LEFT JOIN devices d ON d.id = o.device_id
		LEFT JOIN appointments a ON a.id = o.appointment_id
		WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ObservationRow
	var r ObservationRow
	d := newObservationDest(&r.Observation, &r.PatientUUID, &r.DeviceUUID, &r.DeviceName, &r.AppointmentUUID)
	for rows.Next() {
		if err := d.scan(rows); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// IdentifierRef is an identifier search: Value in the identifier Key, or in
// any of a patient's identifiers when Key is empty.
type IdentifierRef struct {
	Key   PatientKey
	Value string
}

// PatientSearch selects patients.
type PatientSearch struct {
	UUIDs       []string
	IDs         []int64
	Identifiers []IdentifierRef // any of them
	Name        string          // every word starts one of the patient's names or identifiers
	BirthDate   []TimeRange     // on the birth date (dates as UTC midnights)
	Gender      []string
	Active      *bool
	Page
}

// SearchPatients lists the organisation's patients that match f, oldest
// first.
func (s *Store) SearchPatients(ctx context.Context, orgID int64, f PatientSearch) ([]Patient, error) {
	var w where
	w.add(`org_id = +?`, orgID)
	w.in(`uuid`, f.UUIDs)
	if len(f.IDs) > 0 {
		ids := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ids[i] = fmt.Sprint(id)
		}
		w.in(`CAST(id AS TEXT)`, ids)
	}
	if len(f.Identifiers) > 0 {
		var alts []string
		var args []any
		for _, id := range f.Identifiers {
			cols := []string{"mrn", "hsid", "national_id", "external_id", "account_number"}
			// mrn, hsid and national_id have partial indexes (WHERE col <>
			// ''), which serve an opaque value only when the query states
			// the index's condition (see patientBy).
			partial := map[string]string{"mrn": ` AND mrn <> ''`, "hsid": ` AND hsid <> ''`, "national_id": ` AND national_id <> ''`}
			switch id.Key {
			case "":
			case ByMRN, ByHSID, ByNationalID, ByExternalID:
				cols = []string{string(id.Key)}
			case "account_number":
				cols = []string{"account_number"}
			case ByID:
				cols = []string{"CAST(id AS TEXT)"}
			default:
				return nil, fmt.Errorf("search patients: unknown identifier key %q", id.Key)
			}
			for _, c := range cols {
				alts = append(alts, c+` = +?`+partial[c])
				args = append(args, id.Value)
			}
		}
		w.add(`(`+strings.Join(alts, ` OR `)+`)`, args...)
	}
	for _, word := range strings.Fields(strings.ToLower(f.Name)) {
		w.add(`id IN (SELECT patient_id FROM patient_terms WHERE org_id = +? AND term >= +? AND term < +?)`,
			orgID, word, word+"\U0010FFFF")
	}
	for _, r := range f.BirthDate {
		// birth_date is text YYYY-MM-DD, which sorts as the date does.
		var parts []string
		var args []any
		if !r.From.IsZero() {
			parts = append(parts, `birth_date >= +?`)
			args = append(args, r.From.UTC().Format(time.DateOnly))
		}
		if !r.To.IsZero() {
			parts = append(parts, `birth_date < +?`)
			args = append(args, r.To.UTC().Format(time.DateOnly))
		}
		c := `birth_date <> ''`
		if len(parts) > 0 {
			inner := strings.Join(parts, ` AND `)
			if r.Not {
				inner = `NOT (` + inner + `)`
			}
			c += ` AND ` + inner
		}
		w.add(c, args...)
	}
	w.in(`gender`, f.Gender)
	if f.Active != nil {
		w.add(`active = +?`, boolInt(*f.Active))
	}
	lim, largs := f.Page.sql()
	rows, err := s.r.QueryContext(ctx, `SELECT `+patientCols+` FROM patients WHERE `+w.String()+` ORDER BY id`+lim,
		append(w.args, largs...)...)
	if err != nil {
		return nil, fmt.Errorf("search patients: %w", err)
	}
	defer rows.Close()
	var out []Patient
	for rows.Next() {
		p, err := scanPatient(rows)
		if err != nil {
			return nil, fmt.Errorf("search patients: %w", err)
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// AppointmentSearch selects appointments.
type AppointmentSearch struct {
	UUIDs         []string
	PatientID     int64
	Statuses      []string // as stored
	Start         []TimeRange
	WaitingRoomID int64
	ProviderID    int64
	EpisodeID     int64
	ExternalIDs   []string
	SortDate      int // 0: by id; 1: earliest first; -1: latest first
	Page
}

// AppointmentRef is an appointment with the public ids it points to.
type AppointmentRef struct {
	Appointment
	PatientUUID     string
	PatientName     string
	WaitingRoomUUID string
	WaitingRoomName string
	ProviderUUID    string
	ProviderName    string
	EpisodeUUID     string
}

// SearchAppointments lists the organisation's appointments that match f.
func (s *Store) SearchAppointments(ctx context.Context, orgID int64, f AppointmentSearch) ([]AppointmentRef, error) {
	var w where
	w.add(`a.org_id = +?`, orgID)
	w.in(`a.uuid`, f.UUIDs)
	if f.PatientID > 0 {
		w.add(`a.patient_id = +?`, f.PatientID)
	}
	w.in(`a.status`, f.Statuses)
	w.times(`a.start_at`, f.Start)
	if f.WaitingRoomID > 0 {
		w.add(`a.waiting_room_id = +?`, f.WaitingRoomID)
	}
	if f.ProviderID > 0 {
		w.add(`a.provider_id = +?`, f.ProviderID)
	}
	if f.EpisodeID > 0 {
		w.add(`a.episode_id = +?`, f.EpisodeID)
	}
	w.in(`a.external_id`, f.ExternalIDs)
	order := ` ORDER BY a.id`
	switch {
	case f.SortDate > 0:
		order = ` ORDER BY a.start_at, a.id`
	case f.SortDate < 0:
		order = ` ORDER BY a.start_at DESC, a.id DESC`
	}
	lim, largs := f.Page.sql()
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixCols("a.", appointmentCols)+`,
		p.uuid, trim(p.first_name || ' ' || p.last_name), w.uuid, w.name, COALESCE(u.uuid, ''), COALESCE(u.name, ''),
		COALESCE(e.uuid, '')
		FROM appointments a
		JOIN patients p ON p.id = a.patient_id
		JOIN waiting_rooms w ON w.id = a.waiting_room_id
		LEFT JOIN users u ON u.id = a.provider_id
		LEFT JOIN episodes e ON e.id = a.episode_id
		WHERE `+w.String()+order+lim, append(w.args, largs...)...)
	if err != nil {
		return nil, fmt.Errorf("search appointments: %w", err)
	}
	defer rows.Close()
	var out []AppointmentRef
	for rows.Next() {
		var r AppointmentRef
		a, err := scanAppointment(rows, &r.PatientUUID, &r.PatientName, &r.WaitingRoomUUID, &r.WaitingRoomName,
			&r.ProviderUUID, &r.ProviderName, &r.EpisodeUUID)
		if err != nil {
			return nil, fmt.Errorf("search appointments: %w", err)
		}
		r.Appointment = *a
		out = append(out, r)
	}
	return out, rows.Err()
}

// EpisodeSearch selects episodes of care.
type EpisodeSearch struct {
	UUIDs     []string
	PatientID int64
	Statuses  []string
	Page
}

// EpisodeRef is an episode with its patient's public id.
type EpisodeRef struct {
	Episode
	PatientUUID string
}

// SearchEpisodes lists the organisation's episodes of care that match f.
func (s *Store) SearchEpisodes(ctx context.Context, orgID int64, f EpisodeSearch) ([]EpisodeRef, error) {
	var w where
	w.add(`e.org_id = +?`, orgID)
	w.in(`e.uuid`, f.UUIDs)
	if f.PatientID > 0 {
		w.add(`e.patient_id = +?`, f.PatientID)
	}
	w.in(`e.status`, f.Statuses)
	lim, largs := f.Page.sql()
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixCols("e.", episodeCols)+`, p.uuid
		FROM episodes e JOIN patients p ON p.id = e.patient_id
		WHERE `+w.String()+` ORDER BY e.id`+lim, append(w.args, largs...)...)
	if err != nil {
		return nil, fmt.Errorf("search episodes: %w", err)
	}
	defer rows.Close()
	var out []EpisodeRef
	for rows.Next() {
		var r EpisodeRef
		e, err := scanEpisode(scanExtra{rows, []any{&r.PatientUUID}})
		if err != nil {
			return nil, fmt.Errorf("search episodes: %w", err)
		}
		r.Episode = *e
		out = append(out, r)
	}
	return out, rows.Err()
}

// Questionnaire is one filled questionnaire as FHIR serves it
// (QuestionnaireResponse): a visit note (Note set) or a questionnaire the
// patient filled in and a client added to the record (Document set).
type Questionnaire struct {
	Note        *NoteRef
	Document    *PatientDocument
	PatientUUID string
}

// QuestionnaireSearch selects filled questionnaires. A questionnaire the
// patient filled in belongs to no visit: AppointmentID finds visit notes
// only.
type QuestionnaireSearch struct {
	UUIDs         []string
	PatientID     int64
	AppointmentID int64
	Page
}

// SearchQuestionnaires lists the organisation's visit notes (started ones)
// and patient questionnaires matching f: visit notes first, each kind
// oldest first, one page of both in one query so offsets stay stable.
func (s *Store) SearchQuestionnaires(ctx context.Context, orgID int64, f QuestionnaireSearch) ([]Questionnaire, error) {
	var wn, wd where
	wn.add(`n.org_id = +?`, orgID)
	wn.in(`n.uuid`, f.UUIDs)
	wd.add(`d.org_id = +?`, orgID)
	wd.in(`d.uuid`, f.UUIDs)
	if f.PatientID > 0 {
		wn.add(`a.patient_id = +?`, f.PatientID)
		wd.add(`d.patient_id = +?`, f.PatientID)
	}
	if f.AppointmentID > 0 {
		wn.add(`n.appointment_id = +?`, f.AppointmentID)
		wd.add(`0`)
	}
	lim, largs := f.Page.sql()
	args := append(append(wn.args, wd.args...), largs...)
	rows, err := s.r.QueryContext(ctx, `SELECT 0 AS kind, n.id, n.appointment_id, n.template_id, a.uuid, a.patient_id, p.uuid
		FROM visit_notes n JOIN appointments a ON a.id = n.appointment_id JOIN patients p ON p.id = a.patient_id
		WHERE `+wn.String()+`
		UNION ALL
		SELECT 1, d.id, 0, 0, '', d.patient_id, p.uuid
		FROM patient_documents d JOIN patients p ON p.id = d.patient_id
		WHERE `+wd.String()+`
		ORDER BY kind, 2`+lim, args...)
	if err != nil {
		return nil, fmt.Errorf("search questionnaires: %w", err)
	}
	type ref struct {
		kind                 int
		id, appt, tpl, pid   int64
		apptUUID, patientUID string
	}
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.kind, &r.id, &r.appt, &r.tpl, &r.apptUUID, &r.pid, &r.patientUID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("search questionnaires: %w", err)
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search questionnaires: %w", err)
	}
	out := make([]Questionnaire, 0, len(refs))
	for _, r := range refs {
		q := Questionnaire{PatientUUID: r.patientUID}
		if r.kind == 0 {
			n, err := loadNote(ctx, s.r, orgID, r.appt, r.tpl)
			if err != nil {
				return nil, fmt.Errorf("search questionnaires: %w", err)
			}
			q.Note = &NoteRef{Note: *n, AppointmentUUID: r.apptUUID, PatientID: r.pid, PatientUUID: r.patientUID}
		} else {
			d, err := s.patientDocument(ctx, orgID, r.id)
			if err != nil {
				return nil, fmt.Errorf("search questionnaires: %w", err)
			}
			q.Document = d
		}
		out = append(out, q)
	}
	return out, nil
}

// NoteRef is a visit note with the public ids of its visit and patient.
type NoteRef struct {
	Note
	AppointmentUUID string
	PatientID       int64
	PatientUUID     string
}

// VisitNoteSearch selects visit notes that were started (saved at least
// once).
type VisitNoteSearch struct {
	UUIDs         []string
	PatientID     int64
	AppointmentID int64
	Page
}

// SearchVisitNotes lists the organisation's started visit notes that match
// f, oldest first.
func (s *Store) SearchVisitNotes(ctx context.Context, orgID int64, f VisitNoteSearch) ([]NoteRef, error) {
	var w where
	w.add(`n.org_id = +?`, orgID)
	w.in(`n.uuid`, f.UUIDs)
	if f.PatientID > 0 {
		w.add(`a.patient_id = +?`, f.PatientID)
	}
	if f.AppointmentID > 0 {
		w.add(`n.appointment_id = +?`, f.AppointmentID)
	}
	lim, largs := f.Page.sql()
	rows, err := s.r.QueryContext(ctx, `SELECT n.appointment_id, n.template_id, a.uuid, a.patient_id, p.uuid
		FROM visit_notes n JOIN appointments a ON a.id = n.appointment_id JOIN patients p ON p.id = a.patient_id
		WHERE `+w.String()+` ORDER BY n.id`+lim, append(w.args, largs...)...)
	if err != nil {
		return nil, fmt.Errorf("search visit notes: %w", err)
	}
	var refs []NoteRef
	for rows.Next() {
		var r NoteRef
		if err := rows.Scan(&r.AppointmentID, &r.TemplateID, &r.AppointmentUUID, &r.PatientID, &r.PatientUUID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("search visit notes: %w", err)
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search visit notes: %w", err)
	}
	for i := range refs {
		n, err := loadNote(ctx, s.r, orgID, refs[i].AppointmentID, refs[i].TemplateID)
		if err != nil {
			return nil, fmt.Errorf("search visit notes: %w", err)
		}
		refs[i].Note = *n
	}
	return refs, nil
}

// DocumentRow is a file in a patient's record: a patient file (what an
// instrument sent, an upload) or an attachment of a visit.
type DocumentRow struct {
	Kind            string // file, attachment
	UUID            string
	PatientID       int64
	PatientUUID     string
	AppointmentUUID string
	Title           string
	ContentType     string
	Size            int64
	Deleted         bool
	CreatedAt       time.Time
}

// DocumentSearch selects documents.
type DocumentSearch struct {
	UUIDs     []string
	PatientID int64
	Page
}

// SearchDocuments lists the organisation's patient files and visit
// attachments that match f, oldest first.
func (s *Store) SearchDocuments(ctx context.Context, orgID int64, f DocumentSearch) ([]DocumentRow, error) {
	var w1, w2 where
	w1.add(`f.org_id = +?`, orgID)
	w2.add(`t.org_id = +?`, orgID)
	w1.in(`f.uuid`, f.UUIDs)
	w2.in(`t.uuid`, f.UUIDs)
	if f.PatientID > 0 {
		w1.add(`f.patient_id = +?`, f.PatientID)
		w2.add(`a.patient_id = +?`, f.PatientID)
	}
	lim, largs := f.Page.sql()
	q := `SELECT * FROM (
		SELECT 'file' AS kind, f.uuid, f.patient_id, p.uuid, COALESCE(a.uuid, ''), CASE WHEN f.title <> '' THEN f.title ELSE f.filename END,
			f.content_type, f.size, 0, f.created_at
		FROM patient_files f JOIN patients p ON p.id = f.patient_id LEFT JOIN appointments a ON a.id = f.appointment_id
		WHERE ` + w1.String() + `
		UNION ALL
		SELECT 'attachment', t.uuid, a.patient_id, p.uuid, a.uuid, t.title, t.mime_type, t.size, t.deleted, t.uploaded_at
		FROM attachments t JOIN appointments a ON a.id = t.appointment_id JOIN patients p ON p.id = a.patient_id
		WHERE ` + w2.String() + `) ORDER BY 10, 2` + lim
	rows, err := s.r.QueryContext(ctx, q, append(append(w1.args, w2.args...), largs...)...)
	if err != nil {
		return nil, fmt.Errorf("search documents: %w", err)
	}
	defer rows.Close()
	var out []DocumentRow
	for rows.Next() {
		var d DocumentRow
		var created int64
		if err := rows.Scan(&d.Kind, &d.UUID, &d.PatientID, &d.PatientUUID, &d.AppointmentUUID, &d.Title, &d.ContentType,
			&d.Size, &d.Deleted, &created); err != nil {
			return nil, fmt.Errorf("search documents: %w", err)
		}
		d.CreatedAt = fromUnix(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ResultReport is the patient results one instrument message carried: what
// FHIR calls a DiagnosticReport.
type ResultReport struct {
	MessageID   int64
	PatientID   int64
	PatientUUID string
	DeviceUUID  string
	DeviceName  string
	ReceivedAt  time.Time
}

// ResultReportSearch selects result reports.
type ResultReportSearch struct {
	MessageIDs []int64
	PatientID  int64
	Received   []TimeRange
	SortDate   int
	Page
}

// SearchResultReports lists the instrument messages that brought current
// patient results, matching f.
func (s *Store) SearchResultReports(ctx context.Context, orgID int64, f ResultReportSearch) ([]ResultReport, error) {
	var w where
	w.add(`m.org_id = +?`, orgID)
	if len(f.MessageIDs) > 0 {
		ids := make([]string, len(f.MessageIDs))
		for i, id := range f.MessageIDs {
			ids[i] = fmt.Sprint(id)
		}
		w.in(`CAST(m.id AS TEXT)`, ids)
	}
	w.times(`m.received_at`, f.Received)
	sub := `SELECT o.patient_id FROM observations o WHERE o.org_id = m.org_id AND o.message_id = m.id
		AND o.is_qc = 0 AND o.superseded_at = 0 AND o.patient_id IS NOT NULL`
	var subArgs []any
	if f.PatientID > 0 {
		// Bound, not written into the text: a statement per patient was
		// compiled for each and filled the statement cache.
		sub += ` AND o.patient_id = ` + opaque
		subArgs = append(subArgs, f.PatientID)
	}
	order := ` ORDER BY m.id`
	switch {
	case f.SortDate > 0:
		order = ` ORDER BY m.received_at, m.id`
	case f.SortDate < 0:
		order = ` ORDER BY m.received_at DESC, m.id DESC`
	}
	lim, largs := f.Page.sql()
	rows, err := s.r.QueryContext(ctx, `SELECT r.id, r.pid, p.uuid, d.uuid, d.name, r.received_at FROM (
		SELECT m.id, m.device_id, m.received_at, (`+sub+` LIMIT 1) AS pid FROM device_messages m WHERE `+w.String()+`) r
		JOIN patients p ON p.id = r.pid JOIN devices d ON d.id = r.device_id`+strings.ReplaceAll(order, "m.", "r.")+lim,
		append(append(subArgs, w.args...), largs...)...)
	if err != nil {
		return nil, fmt.Errorf("search result reports: %w", err)
	}
	defer rows.Close()
	var out []ResultReport
	for rows.Next() {
		var r ResultReport
		var received int64
		if err := rows.Scan(&r.MessageID, &r.PatientID, &r.PatientUUID, &r.DeviceUUID, &r.DeviceName, &received); err != nil {
			return nil, fmt.Errorf("search result reports: %w", err)
		}
		r.ReceivedAt = fromUnix(received)
		out = append(out, r)
	}
	return out, rows.Err()
}
