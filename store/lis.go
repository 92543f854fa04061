package store

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// LIS delivery: results sent as HL7 v2 ORU^R01 over MLLP to a laboratory
// information system. A destination says where and what; every message
// built for it is kept, byte for byte, with its delivery state.

// LIS send modes.
const (
	LISSendResult    = "result"    // each final result as it arrives
	LISSendEncounter = "encounter" // all results of an encounter once it is completed
)

// LISDestination is a LIS that receives results.
type LISDestination struct {
	ID                int64
	OrgID             int64
	Name              string
	Host              string
	Port              int
	TLS               bool
	TLSCA             string // PEM certificates of the CA that signs the LIS's certificate ("" the system's roots)
	TLSPin            string // SHA-256 of the LIS's certificate, lower-case hex ("" no pin)
	HL7Version        string
	Send              string // result or encounter
	MatchedOnly       bool   // leave out results not matched to a patient
	ReceivingApp      string
	ReceivingFacility string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// NormalizeCertPin reads a SHA-256 certificate fingerprint written as hex,
// with or without colons (AB:CD:...), in either case; ok is false if it is
// not 32 bytes of hex.
func NormalizeCertPin(s string) (pin string, ok bool) {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if len(s) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}

// Trust says how the destination's TLS certificate is checked, for lists.
func (d *LISDestination) Trust() string {
	switch {
	case !d.TLS:
		return ""
	case d.TLSPin != "" && d.TLSCA != "":
		return "CA + pin"
	case d.TLSPin != "":
		return "pin"
	case d.TLSCA != "":
		return "CA"
	}
	return "system roots"
}

// Addr is host:port.
func (d *LISDestination) Addr() string { return net.JoinHostPort(d.Host, fmt.Sprint(d.Port)) }

// Validate fills defaults and checks the fields.
func (d *LISDestination) Validate() error {
	var v Validator
	d.Name, d.Host = strings.TrimSpace(d.Name), strings.TrimSpace(d.Host)
	if d.HL7Version == "" {
		d.HL7Version = "2.5.1"
	}
	if d.Send == "" {
		d.Send = LISSendResult
	}
	v.Check(d.Name != "" && len(d.Name) <= 100 && !strings.ContainsAny(d.Name, " \t\r\n"), "name", "is required: up to 100 characters without spaces")
	v.Check(d.Host != "" && len(d.Host) <= 255 && !strings.ContainsAny(d.Host, " /:"), "host", "must be a host name or IPv4 address")
	v.Check(d.Port >= 1 && d.Port <= 65535, "port", "must be between 1 and 65535")
	v.Check(slices.Contains([]string{"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8"}, d.HL7Version), "hl7Version", "must be 2.3 to 2.8, e.g. 2.5.1")
	v.Check(d.Send == LISSendResult || d.Send == LISSendEncounter, "send", "must be result or encounter")
	v.Check(len(d.ReceivingApp) <= 100 && len(d.ReceivingFacility) <= 100, "receiving", "must be at most 100 characters")
	if d.TLSCA = strings.TrimSpace(d.TLSCA); d.TLSCA != "" {
		v.Check(d.TLS, "ca", "needs TLS")
		v.Check(len(d.TLSCA) <= 64<<10 && x509.NewCertPool().AppendCertsFromPEM([]byte(d.TLSCA)), "ca",
			"must be PEM certificates (-----BEGIN CERTIFICATE-----), at most 64 KiB")
	}
	if d.TLSPin != "" {
		pin, ok := NormalizeCertPin(d.TLSPin)
		v.Check(d.TLS, "pin", "needs TLS")
		v.Check(ok, "pin", "must be a SHA-256 fingerprint: 64 hex digits, colons allowed")
		d.TLSPin = pin
	}
	return v.Err()
}

// AddLISDestination stores a destination; a running server starts sending
// to it within seconds (from results stored from then on).
func (s *Store) AddLISDestination(ctx context.Context, orgID int64, d *LISDestination) error {
	d.OrgID = orgID
	if err := d.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		d.CreatedAt, d.UpdatedAt = tx.Now, tx.Now
		res, err := tx.Exec(`INSERT INTO lis_destinations (org_id, name, host, port, tls, hl7_version, send, matched_only,
			receiving_app, receiving_facility, created_at, updated_at, tls_ca, tls_pin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			orgID, d.Name, d.Host, d.Port, boolInt(d.TLS), d.HL7Version, d.Send, boolInt(d.MatchedOnly), d.ReceivingApp,
			d.ReceivingFacility, unix(tx.Now), unix(tx.Now), d.TLSCA, d.TLSPin)
		if isUnique(err) {
			return Conflict(fmt.Sprintf("a LIS destination named %q already exists", d.Name))
		}
		if err != nil {
			return fmt.Errorf("add lis destination: %w", err)
		}
		d.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "lis-destination", d.Name, 0, d.Addr())
	})
}

// RemoveLISDestination stops sending to a destination; its message log
// stays, and its pending messages are given up.
func (s *Store) RemoveLISDestination(ctx context.Context, orgID int64, name string) error {
	return s.write(ctx, func(tx *txn) error {
		var id int64
		err := tx.QueryRow(`SELECT id FROM lis_destinations WHERE org_id = ? AND name = ? AND removed_at = 0`, orgID, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("lis destination %q: %w", name, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("remove lis destination: %w", err)
		}
		if _, err := tx.Exec(`UPDATE lis_destinations SET removed_at = ?, updated_at = ? WHERE id = ?`, unix(tx.Now), unix(tx.Now), id); err != nil {
			return fmt.Errorf("remove lis destination: %w", err)
		}
		if _, err := tx.Exec(`UPDATE lis_messages SET status = 'failed', last_error = 'destination removed'
			WHERE destination_id = ? AND status = 'pending'`, id); err != nil {
			return fmt.Errorf("remove lis destination: %w", err)
		}
		return tx.Audit(orgID, "delete", "lis-destination", name, 0, "")
	})
}

const lisDestCols = `id, org_id, name, host, port, tls, hl7_version, send, matched_only, receiving_app, receiving_facility,
	created_at, updated_at, tls_ca, tls_pin`

func scanLISDest(row interface{ Scan(...any) error }) (*LISDestination, error) {
	var d LISDestination
	var c, u int64
	err := row.Scan(&d.ID, &d.OrgID, &d.Name, &d.Host, &d.Port, &d.TLS, &d.HL7Version, &d.Send, &d.MatchedOnly,
		&d.ReceivingApp, &d.ReceivingFacility, &c, &u, &d.TLSCA, &d.TLSPin)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = fromUnix(c), fromUnix(u)
	return &d, nil
}

// LISDestinations lists the destinations in service of an organisation
// (orgID 0: of every organisation, for the delivery worker).
func (s *Store) LISDestinations(ctx context.Context, orgID int64) ([]LISDestination, error) {
	q := `SELECT ` + lisDestCols + ` FROM lis_destinations WHERE removed_at = 0`
	var args []any
	if orgID > 0 {
		q += ` AND org_id = ?`
		args = append(args, orgID)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY org_id, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("lis destinations: %w", err)
	}
	defer rows.Close()
	var out []LISDestination
	for rows.Next() {
		d, err := scanLISDest(rows)
		if err != nil {
			return nil, fmt.Errorf("lis destinations: %w", err)
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// LIS message statuses.
const (
	LISPending = "pending"
	LISAcked   = "acked"
	LISFailed  = "failed"
)

// LISMessage is one ORU^R01 for one destination and its delivery state.
type LISMessage struct {
	ID             int64
	OrgID          int64
	DestinationID  int64
	Destination    string
	DedupKey       string // what it is about; unique per destination
	Kind           string // result, correction, encounter
	ControlID      string
	Message        []byte
	Observations   int
	CodeMapVersion int
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	LastAttemptAt  time.Time
	AckCode        string
	Ack            []byte
	LastError      string
	CreatedAt      time.Time
	AckedAt        time.Time
}

// QueueLISMessages adds messages (ControlID, Message, DedupKey, Kind and
// DestinationID set) in one write that also moves consumer's cursor. A
// message whose destination already has one with the same key is left
// out: re-reading the outbox never sends anything twice.
func (s *Store) QueueLISMessages(ctx context.Context, consumer string, lastEventID int64, msgs []LISMessage) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *txn) error {
		n = 0
		for _, m := range msgs {
			res, err := tx.Exec(`INSERT INTO lis_messages (org_id, destination_id, dedup_key, kind, control_id, message,
				observations, code_map_version, next_attempt_at, created_at)
				SELECT org_id, id, ?, ?, ?, ?, ?, ?, ?, ? FROM lis_destinations WHERE id = ? AND org_id = ? AND removed_at = 0
				ON CONFLICT DO NOTHING`,
				m.DedupKey, m.Kind, m.ControlID, m.Message, m.Observations, m.CodeMapVersion, unix(tx.Now), unix(tx.Now),
				m.DestinationID, m.OrgID)
			if err != nil {
				return fmt.Errorf("queue lis message: %w", err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return tx.setCursor(consumer, lastEventID)
	})
	return n, err
}

// LISMessageSent reports whether a message with this key was queued for
// the destination (to tell a first send from a correction).
func (s *Store) LISMessageSent(ctx context.Context, destinationID int64, key string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM lis_messages WHERE destination_id = ? AND dedup_key = ?`,
		destinationID, key).Scan(&n); err != nil {
		return false, fmt.Errorf("lis message sent: %w", err)
	}
	return n > 0, nil
}

const lisMsgCols = `m.id, m.org_id, m.destination_id, d.name, m.dedup_key, m.kind, m.control_id, m.message, m.observations,
	m.code_map_version, m.status, m.attempts, m.next_attempt_at, m.last_attempt_at, m.ack_code, COALESCE(m.ack, x''),
	m.last_error, m.created_at, m.acked_at`

func scanLISMsg(row interface{ Scan(...any) error }) (*LISMessage, error) {
	var m LISMessage
	var n, l, c, a int64
	err := row.Scan(&m.ID, &m.OrgID, &m.DestinationID, &m.Destination, &m.DedupKey, &m.Kind, &m.ControlID, &m.Message,
		&m.Observations, &m.CodeMapVersion, &m.Status, &m.Attempts, &n, &l, &m.AckCode, &m.Ack, &m.LastError, &c, &a)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	m.NextAttemptAt, m.LastAttemptAt, m.CreatedAt, m.AckedAt = fromUnix(n), fromUnix(l), fromUnix(c), fromUnix(a)
	return &m, nil
}

// NextLISMessages returns, for one destination, its pending messages in
// the order they were queued, up to limit, if the oldest is due: a LIS
// receives a correction only after what it corrects.
func (s *Store) NextLISMessages(ctx context.Context, destinationID int64, limit int) ([]LISMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+lisMsgCols+` FROM lis_messages m JOIN lis_destinations d ON d.id = m.destination_id
		WHERE m.destination_id = ? AND m.status = 'pending' ORDER BY m.id LIMIT ?`, destinationID, limit)
	if err != nil {
		return nil, fmt.Errorf("next lis messages: %w", err)
	}
	defer rows.Close()
	var out []LISMessage
	for rows.Next() {
		m, err := scanLISMsg(rows)
		if err != nil {
			return nil, fmt.Errorf("next lis messages: %w", err)
		}
		out = append(out, *m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) > 0 && out[0].NextAttemptAt.After(s.Now()) {
		return nil, nil
	}
	return out, nil
}

// NextLISAttemptAt is when the earliest pending message is due (zero: none).
func (s *Store) NextLISAttemptAt(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM lis_messages WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next lis attempt: %w", err)
	}
	return fromUnix(next.Int64), nil
}

// LISAttempt is the outcome of sending one message.
type LISAttempt struct {
	At      time.Time
	Acked   bool   // AA received: never sent again
	AckCode string // AA, AE, AR, or "" without an answer
	Ack     []byte
	Err     string
	NextAt  time.Time // when not acked
}

// RecordLISAttempt stores an attempt's outcome.
func (s *Store) RecordLISAttempt(ctx context.Context, id int64, a LISAttempt) error {
	if len(a.Err) > 500 {
		a.Err = a.Err[:500]
	}
	return s.write(ctx, func(tx *txn) error {
		status, acked := LISPending, int64(0)
		if a.Acked {
			status, acked = LISAcked, unix(a.At)
		}
		_, err := tx.Exec(`UPDATE lis_messages SET status = CASE WHEN status = 'pending' THEN ? ELSE status END,
			attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ?, ack_code = ?, ack = ?, last_error = ?,
			acked_at = CASE WHEN ? > 0 THEN ? ELSE acked_at END WHERE id = ?`,
			status, unix(a.At), unix(a.NextAt), a.AckCode, a.Ack, a.Err, acked, acked, id)
		if err != nil {
			return fmt.Errorf("record lis attempt %d: %w", id, err)
		}
		return nil
	})
}

// LISMessages lists an organisation's messages, newest first (the log).
func (s *Store) LISMessages(ctx context.Context, orgID int64, limit int) ([]LISMessage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+lisMsgCols+` FROM lis_messages m JOIN lis_destinations d ON d.id = m.destination_id
		WHERE m.org_id = ? ORDER BY m.id DESC LIMIT ?`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("lis messages: %w", err)
	}
	defer rows.Close()
	var out []LISMessage
	for rows.Next() {
		m, err := scanLISMsg(rows)
		if err != nil {
			return nil, fmt.Errorf("lis messages: %w", err)
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// EventLISDue wakes the LIS worker (a destination added, a retry asked for).
const EventLISDue = "lis:due"

// RetryLISMessage makes a pending message of the organisation due now.
func (s *Store) RetryLISMessage(ctx context.Context, orgID, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`UPDATE lis_messages SET next_attempt_at = ? WHERE org_id = ? AND id = ? AND status = 'pending'`,
			unix(tx.Now), orgID, id)
		if err != nil {
			return fmt.Errorf("retry lis message: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("lis message %d: %w", id, ErrNotFound)
		}
		return tx.Event(orgID, EventLISDue, "lis-message", id, nil)
	})
}

// CodeMapEntry maps a device's own code to a terminology code.
type CodeMapEntry struct {
	DeviceCode string
	System     string // NPU or LOINC
	Code       string
	Display    string
}

// CodeMap is one published version of the code-mapping table.
type CodeMap struct {
	Version   int
	Note      string
	CreatedBy string
	CreatedAt time.Time
	Size      int // number of entries
	Entries   []CodeMapEntry
}

// Lookup returns the codes mapped from a device code, LOINC first.
func (m *CodeMap) Lookup(deviceCode string) []CodeMapEntry {
	var out []CodeMapEntry
	for _, e := range m.Entries {
		if e.DeviceCode == deviceCode {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b CodeMapEntry) int { return strings.Compare(a.System, b.System) })
	return out
}

// PublishCodeMap stores entries as the next version of the organisation's
// mapping table; earlier versions stay as they were.
func (s *Store) PublishCodeMap(ctx context.Context, orgID int64, entries []CodeMapEntry, note string) (*CodeMap, error) {
	var v Validator
	seen := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		e.DeviceCode, e.Code, e.System = strings.TrimSpace(e.DeviceCode), strings.TrimSpace(e.Code), strings.ToUpper(strings.TrimSpace(e.System))
		f := fmt.Sprintf("entries[%d]", i)
		v.Check(e.DeviceCode != "" && len(e.DeviceCode) <= 200, f, "needs the device's code")
		v.Check(e.System == "NPU" || e.System == "LOINC", f, "system must be NPU or LOINC")
		v.Check(e.Code != "" && len(e.Code) <= 50 && !strings.ContainsAny(e.Code, "|^~\\&"), f, "needs a code without HL7 separators")
		k := e.DeviceCode + "\x00" + e.System
		v.Check(!seen[k], f, "maps "+e.DeviceCode+" to "+e.System+" twice")
		seen[k] = true
	}
	v.Check(len(entries) <= 5000, "entries", "at most 5000")
	v.Check(len(note) <= 500, "note", "must be at most 500 characters")
	if err := v.Err(); err != nil {
		return nil, err
	}
	m := &CodeMap{Note: note, CreatedBy: ActorFrom(ctx).Name, Entries: entries, Size: len(entries)}
	err := s.write(ctx, func(tx *txn) error {
		if err := tx.QueryRow(`SELECT COALESCE(MAX(version), 0) + 1 FROM code_map_versions WHERE org_id = ?`, orgID).Scan(&m.Version); err != nil {
			return fmt.Errorf("publish code map: %w", err)
		}
		m.CreatedAt = tx.Now
		res, err := tx.Exec(`INSERT INTO code_map_versions (org_id, version, note, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
			orgID, m.Version, note, m.CreatedBy, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("publish code map: %w", err)
		}
		vid, _ := res.LastInsertId()
		for _, e := range entries {
			if _, err := tx.Exec(`INSERT INTO code_map_entries (version_id, device_code, system, code, display) VALUES (?, ?, ?, ?, ?)`,
				vid, e.DeviceCode, e.System, e.Code, e.Display); err != nil {
				return fmt.Errorf("publish code map: %w", err)
			}
		}
		return tx.Audit(orgID, "publish", "code-map", fmt.Sprint(m.Version), 0, fmt.Sprintf("%d entries: %s", len(entries), note))
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// CodeMapVersion returns a version of the table (0: the newest; an empty
// table, version 0, when none was published).
func (s *Store) CodeMapVersion(ctx context.Context, orgID int64, version int) (*CodeMap, error) {
	m := &CodeMap{}
	var vid, c int64
	q := `SELECT id, version, note, created_by, created_at FROM code_map_versions WHERE org_id = ?`
	args := []any{orgID}
	if version > 0 {
		q += ` AND version = ?`
		args = append(args, version)
	}
	err := s.r.QueryRowContext(ctx, q+` ORDER BY version DESC LIMIT 1`, args...).Scan(&vid, &m.Version, &m.Note, &m.CreatedBy, &c)
	if errors.Is(err, sql.ErrNoRows) {
		if version > 0 {
			return nil, fmt.Errorf("code map version %d: %w", version, ErrNotFound)
		}
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("code map: %w", err)
	}
	m.CreatedAt = fromUnix(c)
	rows, err := s.r.QueryContext(ctx, `SELECT device_code, system, code, display FROM code_map_entries WHERE version_id = ?
		ORDER BY device_code, system`, vid)
	if err != nil {
		return nil, fmt.Errorf("code map: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e CodeMapEntry
		if err := rows.Scan(&e.DeviceCode, &e.System, &e.Code, &e.Display); err != nil {
			return nil, fmt.Errorf("code map: %w", err)
		}
		m.Entries = append(m.Entries, e)
	}
	m.Size = len(m.Entries)
	return m, rows.Err()
}

// CodeMapVersions lists the published versions, newest first (without entries).
func (s *Store) CodeMapVersions(ctx context.Context, orgID int64) ([]CodeMap, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT v.version, v.note, v.created_by, v.created_at,
		(SELECT COUNT(*) FROM code_map_entries e WHERE e.version_id = v.id)
		FROM code_map_versions v WHERE v.org_id = ? ORDER BY v.version DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("code map versions: %w", err)
	}
	defer rows.Close()
	var out []CodeMap
	for rows.Next() {
		var m CodeMap
		var c int64
		if err := rows.Scan(&m.Version, &m.Note, &m.CreatedBy, &c, &m.Size); err != nil {
			return nil, fmt.Errorf("code map versions: %w", err)
		}
		m.CreatedAt = fromUnix(c)
		out = append(out, m)
	}
	return out, rows.Err()
}
