package store

import (
	"context"
	"fmt"
	"time"
)

// This file holds the reporting API's queries: facts about appointments,
// results and QC runs in a period, for statistics and management reports,
// and everything kept about one patient for an access request.

// AppointmentFact is what the statistics need of one appointment.
type AppointmentFact struct {
	ID            int64
	Start         time.Time
	Status        string
	VideoStatus   string
	ArrivedAt     time.Time
	StartedAt     time.Time
	CompletedAt   time.Time
	WaitingRoomID int64
	WaitingRoom   string
	ProviderID    int64
	Provider      string
}

// AppointmentFacts lists the organisation's appointments starting in
// [from, to), in start order.
func (s *Store) AppointmentFacts(ctx context.Context, orgID int64, from, to time.Time) ([]AppointmentFact, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT a.id, a.start_at, a.status, a.video_status, a.arrived_at, a.started_at,
		a.completed_at, a.waiting_room_id, w.name, COALESCE(a.provider_id, 0), COALESCE(u.name, '')
		FROM appointments a JOIN waiting_rooms w ON w.id = a.waiting_room_id LEFT JOIN users u ON u.id = a.provider_id
		WHERE a.org_id = ? AND a.start_at >= ? AND a.start_at < ? ORDER BY a.start_at, a.id`, orgID, unix(from), unix(to))
	if err != nil {
		return nil, fmt.Errorf("appointment facts: %w", err)
	}
	defer rows.Close()
	var out []AppointmentFact
	for rows.Next() {
		var f AppointmentFact
		var start, arr, st, comp int64
		if err := rows.Scan(&f.ID, &start, &f.Status, &f.VideoStatus, &arr, &st, &comp, &f.WaitingRoomID, &f.WaitingRoom,
			&f.ProviderID, &f.Provider); err != nil {
			return nil, fmt.Errorf("appointment facts: %w", err)
		}
		f.Start, f.ArrivedAt, f.StartedAt, f.CompletedAt = fromUnix(start), fromUnix(arr), fromUnix(st), fromUnix(comp)
		out = append(out, f)
	}
	return out, rows.Err()
}

// ResultCount is how many current patient results a device produced for one
// code in a period, and how many of them the device flagged.
type ResultCount struct {
	DeviceID   int64
	DeviceName string // "" for results that came without a device
	CodeSystem string
	Code       string
	Display    string
	Results    int
	Flagged    int // with a flag other than N (normal)
	First      time.Time
	Last       time.Time
}

// ResultCounts counts the organisation's current patient results received
// in [from, to), per device and code.
func (s *Store) ResultCounts(ctx context.Context, orgID int64, from, to time.Time) ([]ResultCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT COALESCE(o.device_id, 0), COALESCE(d.name, ''), o.code_system, o.code,
		MAX(o.display), COUNT(*), SUM(CASE WHEN o.flags NOT IN ('', 'N') THEN 1 ELSE 0 END), MIN(o.created_at), MAX(o.created_at)
		FROM observations o LEFT JOIN devices d ON d.id = o.device_id
		WHERE o.org_id = ? AND o.is_qc = 0 AND o.superseded_at = 0 AND o.created_at >= ? AND o.created_at < ?
		GROUP BY 1, 2, 3, 4 ORDER BY 2, 4, 3`, orgID, unix(from), unix(to))
	if err != nil {
		return nil, fmt.Errorf("result counts: %w", err)
	}
	defer rows.Close()
	var out []ResultCount
	for rows.Next() {
		var c ResultCount
		var first, last int64
		if err := rows.Scan(&c.DeviceID, &c.DeviceName, &c.CodeSystem, &c.Code, &c.Display, &c.Results, &c.Flagged, &first, &last); err != nil {
			return nil, fmt.Errorf("result counts: %w", err)
		}
		c.First, c.Last = fromUnix(first), fromUnix(last)
		out = append(out, c)
	}
	return out, rows.Err()
}

// QCCount is how a device's QC runs of one code went in a period.
type QCCount struct {
	DeviceID     int64
	DeviceName   string
	Code         string
	Runs         int
	Rejected     int
	Warnings     int
	NotEvaluated int
}

// QCCounts counts the organisation's QC runs measured in [from, to), per
// device and code.
func (s *Store) QCCounts(ctx context.Context, orgID int64, from, to time.Time) ([]QCCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT q.device_id, d.name, q.code, COUNT(*),
		SUM(CASE WHEN q.status = ? THEN 1 ELSE 0 END), SUM(CASE WHEN q.status = ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN q.status = ? THEN 1 ELSE 0 END)
		FROM qc_runs q JOIN devices d ON d.id = q.device_id
		WHERE q.org_id = ? AND q.measured_at >= ? AND q.measured_at < ?
		GROUP BY 1, 2, 3 ORDER BY 2, 3`, QCRejected, QCWarning, QCNotEvaluated, orgID, unix(from), unix(to))
	if err != nil {
		return nil, fmt.Errorf("qc counts: %w", err)
	}
	defer rows.Close()
	var out []QCCount
	for rows.Next() {
		var c QCCount
		if err := rows.Scan(&c.DeviceID, &c.DeviceName, &c.Code, &c.Runs, &c.Rejected, &c.Warnings, &c.NotEvaluated); err != nil {
			return nil, fmt.Errorf("qc counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PatientRecord is everything the appliance keeps about one patient, for
// the patient's access request: the records and every access to them.
type PatientRecord struct {
	Patient      Patient
	Appointments []AppointmentRef
	Observations []ObservationRow // every version
	Episodes     []EpisodeRef
	Documents    []DocumentRow
	Notes        []NoteRef
	Access       []AuditEntry // oldest first
}

// PatientRecord gathers a patient's record. Reading it is audited.
func (s *Store) PatientRecord(ctx context.Context, orgID, patientID int64) (*PatientRecord, error) {
	p, err := s.Patient(ctx, orgID, patientID)
	if err != nil {
		return nil, err
	}
	rec := &PatientRecord{Patient: *p}
	all := Page{Limit: 1000}
	for off := 0; ; off += all.Limit {
		rows, err := s.SearchAppointments(ctx, orgID, AppointmentSearch{PatientID: p.ID, SortDate: 1, Page: Page{Limit: all.Limit, Offset: off}})
		if err != nil {
			return nil, err
		}
		rec.Appointments = append(rec.Appointments, rows...)
		if len(rows) < all.Limit {
			break
		}
	}
	// Every version of every result, not only the current ones: a
	// correction does not erase what was reported before it.
	rows, err := s.r.QueryContext(ctx, `SELECT `+observationColsO+`,
		COALESCE(p.uuid, ''), COALESCE(d.uuid, ''), COALESCE(d.name, ''), COALESCE(a.uuid, '')
		FROM observations o LEFT JOIN patients p ON p.id = o.patient_id LEFT JOIN devices d ON d.id = o.device_id
		LEFT JOIN appointments a ON a.id = o.appointment_id
		WHERE o.org_id = ? AND o.patient_id = ? ORDER BY o.id`, orgID, p.ID)
	if err != nil {
		return nil, fmt.Errorf("patient record: %w", err)
	}
	var r ObservationRow
	d := newObservationDest(&r.Observation, &r.PatientUUID, &r.DeviceUUID, &r.DeviceName, &r.AppointmentUUID)
	for rows.Next() {
		if err := d.scan(rows); err != nil {
			rows.Close()
			return nil, fmt.Errorf("patient record: %w", err)
		}
		rec.Observations = append(rec.Observations, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("patient record: %w", err)
	}
	if rec.Episodes, err = s.SearchEpisodes(ctx, orgID, EpisodeSearch{PatientID: p.ID, Page: all}); err != nil {
		return nil, err
	}
	if rec.Documents, err = s.SearchDocuments(ctx, orgID, DocumentSearch{PatientID: p.ID, Page: all}); err != nil {
		return nil, err
	}
	if rec.Notes, err = s.SearchVisitNotes(ctx, orgID, VisitNoteSearch{PatientID: p.ID, Page: all}); err != nil {
		return nil, err
	}
	var before int64
	for {
		es, err := s.AuditLog(ctx, orgID, AuditFilter{PatientID: p.ID, BeforeID: before, Limit: 500})
		if err != nil {
			return nil, err
		}
		rec.Access = append(rec.Access, es...)
		if len(es) < 500 {
			break
		}
		before = es[len(es)-1].ID
	}
	for i, j := 0, len(rec.Access)-1; i < j; i, j = i+1, j-1 {
		rec.Access[i], rec.Access[j] = rec.Access[j], rec.Access[i]
	}
	s.AuditRead(ctx, orgID, "patient-record", p.UUID, p.ID)
	return rec, nil
}
