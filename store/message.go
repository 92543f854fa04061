package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// EventDeviceMessage is emitted when a device message has been ingested
// (or failed to be), so the admin pages show it live.
const EventDeviceMessage = "device-message:ingested"

// Statuses of a device message.
const (
	MessageReceived = "received" // stored, not ingested yet
	MessageIngested = "ingested"
	MessageFailed   = "failed"  // Error says why; an admin can re-run ingestion
	MessageIgnored  = "ignored" // nothing to ingest (an aborted transfer, a query)
	MessageSent     = "sent"    // a message we sent (host-query answer)
)

// DeviceMessage is one message exactly as it crossed the wire, kept with
// the observations made from it.
type DeviceMessage struct {
	ID           int64
	OrgID        int64
	DeviceID     int64
	Direction    string // in, out
	Protocol     string
	Kind         string // results, qc, query, query-reply, ack, aborted, ...
	Raw          []byte
	ReceivedAt   time.Time
	Status       string
	Error        string
	Warnings     []string // deviations from the framing standard the receiver accepted
	PatientRef   string   // the identifiers the message named
	PatientID    int64    // the patient it was matched to, if any
	Observations int      // how many observations the last ingestion made
	IngestRuns   int
	IngestedAt   time.Time
	ReplyTo      int64
	DeviceName   string // filled by the list methods
}

// SaveDeviceMessage stores a message's raw bytes. It returns once they are
// on disk, so a driver can acknowledge the message after it. Incoming
// messages start as received; outgoing ones are sent.
func (s *Store) SaveDeviceMessage(ctx context.Context, orgID int64, m *DeviceMessage) error {
	m.OrgID = orgID
	if m.Direction == "" {
		m.Direction = "in"
	}
	var v Validator
	v.Check(m.DeviceID > 0, "device", "is required")
	v.Check(m.Direction == "in" || m.Direction == "out", "direction", "must be in or out")
	v.Check(m.Protocol != "", "protocol", "is required")
	if err := v.Err(); err != nil {
		return err
	}
	if m.Status == "" {
		m.Status = MessageReceived
		if m.Direction == "out" {
			m.Status = MessageSent
		}
	}
	if m.Raw == nil {
		m.Raw = []byte{}
	}
	return s.write(ctx, func(tx *txn) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM devices WHERE org_id = ? AND id = ?`, orgID, m.DeviceID).Scan(&n); err != nil {
			return fmt.Errorf("save device message: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("device %d: %w", m.DeviceID, ErrNotFound)
		}
		m.ReceivedAt = tx.Now
		res, err := tx.Exec(`INSERT INTO device_messages (org_id, device_id, direction, protocol, kind, raw,
			received_at, status, error, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0))`,
			orgID, m.DeviceID, m.Direction, m.Protocol, m.Kind, m.Raw, unix(tx.Now), m.Status, m.Error, m.ReplyTo)
		if err != nil {
			return fmt.Errorf("save device message: %w", err)
		}
		m.ID, _ = res.LastInsertId()
		return nil
	})
}

// UpdateDeviceMessageRaw replaces the raw bytes of a message that is not
// ingested yet: a driver stores what it has before acknowledging the last
// frame, then the whole transcript once the transfer has ended.
func (s *Store) UpdateDeviceMessageRaw(ctx context.Context, orgID, id int64, raw []byte) error {
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`UPDATE device_messages SET raw = ? WHERE org_id = ? AND id = ? AND status = 'received'`, raw, orgID, id)
		if err != nil {
			return fmt.Errorf("update device message: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("device message %d waiting for ingestion: %w", id, ErrNotFound)
		}
		return nil
	})
}

// Ingestion is what ingesting one stored message produced.
type Ingestion struct {
	Kind         string   // results, qc, query, ...
	Status       string   // ingested, failed or ignored
	Error        string   // why it failed
	Warnings     []string // deviations from the framing standard that were accepted
	PatientRef   string   // identifiers the message named, for people to read
	PatientID    int64    // the patient it was matched to (0: none)
	Observations []Observation
	// Firmware and SerialNumber are what the message said about the
	// device itself ("" = not reported), for the fleet view.
	Firmware     string
	SerialNumber string
	// Raw, when set, replaces the stored bytes in the same transaction: a
	// driver that stored a message before acknowledging its last frame
	// adds what followed (the EOT) without another write.
	Raw []byte
}

// RecordIngestion stores the observations made from a message and the
// message's new status in one transaction. Run again on the same message
// (re-ingestion), it replaces the observations of the earlier run; a
// patient that a clinician assigned to an earlier observation by hand is
// kept for the same code when the new run matches nobody.
func (s *Store) RecordIngestion(ctx context.Context, orgID, messageID int64, in *Ingestion) error {
	if !slices.Contains([]string{MessageIngested, MessageFailed, MessageIgnored}, in.Status) {
		return Invalid("status", "must be ingested, failed or ignored")
	}
	return s.write(ctx, func(tx *txn) error { return recordIngestion(tx, orgID, messageID, in) })
}

// recordIngestion is RecordIngestion within a write, in its steps.
func recordIngestion(tx *txn, orgID, messageID int64, in *Ingestion) error {
	deviceID, runs, err := ingestedMessage(tx, orgID, messageID)
	if err != nil {
		return err
	}
	removed := 0
	if runs > 0 {
		if removed, err = replaceEarlierRun(tx, orgID, messageID, in.Observations); err != nil {
			return err
		}
	}
	if err := storeIngestedObservations(tx, orgID, messageID, deviceID, in); err != nil {
		return err
	}
	if err := markIngested(tx, orgID, messageID, deviceID, removed, in); err != nil {
		return err
	}
	return auditIngestion(tx, orgID, messageID, deviceID, runs, removed, in.Observations)
}

// ingestedMessage is the device of an incoming message and how many times
// it was ingested before.
func ingestedMessage(tx *txn, orgID, messageID int64) (deviceID int64, runs int, err error) {
	err = tx.QueryRow(`SELECT device_id, ingest_runs FROM device_messages WHERE org_id = ? AND id = ? AND direction = 'in'`,
		orgID, messageID).Scan(&deviceID, &runs)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("device message %d: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("record ingestion: %w", err)
	}
	return deviceID, runs, nil
}

// replaceEarlierRun removes the observations an earlier ingestion of the
// message made and answers how many. A patient a clinician assigned by
// hand to one of them carries over to the new observation of the same
// code that matches nobody (QC results never get a patient).
func replaceEarlierRun(tx *txn, orgID, messageID int64, obs []Observation) (removed int, err error) {
	assigned := map[string]int64{}
	rows, err := tx.Query(`SELECT code, COALESCE(patient_id, 0) FROM observations WHERE org_id = ? AND message_id = ?`, orgID, messageID)
	if err != nil {
		return 0, fmt.Errorf("record ingestion: %w", err)
	}
	for rows.Next() {
		var code string
		var pid int64
		if err := rows.Scan(&code, &pid); err != nil {
			rows.Close()
			return 0, fmt.Errorf("record ingestion: %w", err)
		}
		if pid > 0 {
			assigned[code] = pid
		}
	}
	rows.Close()
	for i := range obs {
		o := &obs[i]
		if o.PatientID == 0 && !o.QC {
			o.PatientID = assigned[o.Code]
		}
	}
	if err := detachObservations(tx, orgID, messageID); err != nil {
		return 0, err
	}
	res, err := tx.Exec(`DELETE FROM observations WHERE org_id = ? AND message_id = ?`, orgID, messageID)
	if err != nil {
		return 0, fmt.Errorf("record ingestion: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// storeIngestedObservations adds the message's observations, with what
// must happen around them (beforeIngestion, afterIngestion).
func storeIngestedObservations(tx *txn, orgID, messageID, deviceID int64, in *Ingestion) error {
	for i := range in.Observations {
		o := &in.Observations[i]
		o.MessageID = messageID
		if o.DeviceID == 0 {
			o.DeviceID = deviceID
		}
	}
	if err := beforeIngestion(tx, orgID, in.Observations); err != nil {
		return err
	}
	if err := addObservationsTx(tx, orgID, in.Observations); err != nil {
		return err
	}
	return afterIngestion(tx, orgID, deviceID, in)
}

// markIngested records the outcome on the message (and its final bytes,
// when the driver sent them along) and tells the outbox.
func markIngested(tx *txn, orgID, messageID, deviceID int64, removed int, in *Ingestion) error {
	if in.Raw != nil {
		if _, err := tx.Exec(`UPDATE device_messages SET raw = ? WHERE org_id = ? AND id = ?`, in.Raw, orgID, messageID); err != nil {
			return fmt.Errorf("record ingestion: %w", err)
		}
	}
	_, err := tx.Exec(`UPDATE device_messages SET kind = ?, status = ?, error = ?, warnings = ?, patient_ref = ?,
		patient_id = NULLIF(?, 0), observations = ?, ingest_runs = ingest_runs + 1, ingested_at = ?
		WHERE org_id = ? AND id = ?`, in.Kind, in.Status, in.Error, strings.Join(in.Warnings, "\n"), in.PatientRef, in.PatientID,
		len(in.Observations), unix(tx.Now), orgID, messageID)
	if err != nil {
		return fmt.Errorf("record ingestion: %w", err)
	}
	return tx.Event(orgID, EventDeviceMessage, "device-message", messageID, map[string]any{
		"messageId": messageID, "deviceId": deviceID, "status": in.Status, "observations": len(in.Observations),
		"replaced": removed,
	})
}

// auditIngestion writes one audit row per patient whose record the
// message touched; a re-ingestion that touched nobody's is audited on the
// message itself.
func auditIngestion(tx *txn, orgID, messageID, deviceID int64, runs, removed int, obs []Observation) error {
	patients := map[int64]int{}
	for _, o := range obs {
		if o.PatientID > 0 {
			patients[o.PatientID]++
		}
	}
	action := "create"
	if runs > 0 {
		action = "reingest"
	}
	for pid, n := range patients {
		if err := tx.Audit(orgID, action, "observation", fmt.Sprintf("message:%d", messageID), pid,
			fmt.Sprintf("%d observations from device %d", n, deviceID)); err != nil {
			return err
		}
	}
	if runs > 0 && len(patients) == 0 {
		return tx.Audit(orgID, action, "device-message", fmt.Sprint(messageID), 0, fmt.Sprintf("replaced %d observations", removed))
	}
	return nil
}

// DeviceMessageFilter selects device messages.
type DeviceMessageFilter struct {
	DeviceID  int64
	Status    string
	Direction string
	BeforeID  int64 // page backwards (0 = newest)
	AfterID   int64 // only newer than this id
	Oldest    bool  // oldest first instead of newest first
	WithRaw   bool
	Limit     int
}

const deviceMessageCols = `m.id, m.org_id, m.device_id, m.direction, m.protocol, m.kind, m.received_at, m.status,
	m.error, m.warnings, m.patient_ref, COALESCE(m.patient_id, 0), m.observations, m.ingest_runs, m.ingested_at,
	COALESCE(m.reply_to, 0), d.name`

func scanDeviceMessage(row interface{ Scan(...any) error }, withRaw bool) (*DeviceMessage, error) {
	var m DeviceMessage
	var rec, ing int64
	var warnings string
	dst := []any{&m.ID, &m.OrgID, &m.DeviceID, &m.Direction, &m.Protocol, &m.Kind, &rec, &m.Status,
		&m.Error, &warnings, &m.PatientRef, &m.PatientID, &m.Observations, &m.IngestRuns, &ing, &m.ReplyTo, &m.DeviceName}
	if withRaw {
		dst = append(dst, &m.Raw)
	}
	if err := row.Scan(dst...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	m.ReceivedAt, m.IngestedAt = fromUnix(rec), fromUnix(ing)
	if warnings != "" {
		m.Warnings = strings.Split(warnings, "\n")
	}
	return &m, nil
}

// DeviceMessage returns one message of the organisation with its raw bytes.
func (s *Store) DeviceMessage(ctx context.Context, orgID, id int64) (*DeviceMessage, error) {
	m, err := scanDeviceMessage(s.r.QueryRowContext(ctx, `SELECT `+deviceMessageCols+`, m.raw
		FROM device_messages m JOIN devices d ON d.id = m.device_id WHERE m.org_id = ? AND m.id = ?`, orgID, id), true)
	if err != nil {
		return nil, fmt.Errorf("device message %d: %w", id, err)
	}
	return m, nil
}

// DeviceMessages lists an organisation's device messages, newest first
// unless Oldest is set.
func (s *Store) DeviceMessages(ctx context.Context, orgID int64, f DeviceMessageFilter) ([]DeviceMessage, error) {
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 200
	}
	where := `m.org_id = ?`
	args := []any{orgID}
	if f.DeviceID > 0 {
		where += ` AND m.device_id = ?`
		args = append(args, f.DeviceID)
	}
	if f.Status != "" {
		where += ` AND m.status = ?`
		args = append(args, f.Status)
	}
	if f.Direction != "" {
		where += ` AND m.direction = ?`
		args = append(args, f.Direction)
	}
	if f.BeforeID > 0 {
		where += ` AND m.id < ?`
		args = append(args, f.BeforeID)
	}
	if f.AfterID > 0 {
		where += ` AND m.id > ?`
		args = append(args, f.AfterID)
	}
	cols := deviceMessageCols
	if f.WithRaw {
		cols += `, m.raw`
	}
	order := `DESC`
	if f.Oldest {
		order = `ASC`
	}
	return s.queryDeviceMessages(ctx, f.WithRaw, `SELECT `+cols+` FROM device_messages m JOIN devices d ON d.id = m.device_id
		WHERE `+where+` ORDER BY m.id `+order+` LIMIT ?`, append(args, f.Limit)...)
}

// UningestedMessages lists, across organisations and oldest first, incoming
// messages stored but not ingested (the server stopped in between), with
// their raw bytes, so they are ingested on the next start.
func (s *Store) UningestedMessages(ctx context.Context, limit int) ([]DeviceMessage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.queryDeviceMessages(ctx, true, `SELECT `+deviceMessageCols+`, m.raw FROM device_messages m
		JOIN devices d ON d.id = m.device_id WHERE m.direction = 'in' AND m.status = 'received' ORDER BY m.id LIMIT ?`, limit)
}

func (s *Store) queryDeviceMessages(ctx context.Context, withRaw bool, q string, args ...any) ([]DeviceMessage, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("device messages: %w", err)
	}
	defer rows.Close()
	var out []DeviceMessage
	for rows.Next() {
		m, err := scanDeviceMessage(rows, withRaw)
		if err != nil {
			return nil, fmt.Errorf("device messages: %w", err)
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// QCRun is one control-sample run of a device: the QC observations that
// one message carried. QC results are observations with QC set; they never
// count as patient results.
type QCRun struct {
	DeviceID   int64
	MessageID  int64
	MeasuredAt time.Time
	Results    []Observation
}

// QCRuns lists a device's QC runs, newest first.
func (s *Store) QCRuns(ctx context.Context, orgID, deviceID int64, limit int) ([]QCRun, error) {
	qc := true
	obs, err := s.Observations(ctx, orgID, ObservationFilter{DeviceID: deviceID, QC: &qc, Limit: 5000})
	if err != nil {
		return nil, fmt.Errorf("qc runs: %w", err)
	}
	if limit <= 0 {
		limit = 50
	}
	var out []QCRun
	index := map[int64]int{}
	for _, o := range obs {
		i, ok := index[o.MessageID]
		if !ok {
			if len(out) == limit {
				continue
			}
			i = len(out)
			index[o.MessageID] = i
			out = append(out, QCRun{DeviceID: deviceID, MessageID: o.MessageID, MeasuredAt: o.MeasuredAt})
		}
		out[i].Results = append(out[i].Results, o)
	}
	for i := range out {
		slices.Reverse(out[i].Results) // in the order the device sent them
	}
	return out, nil
}
