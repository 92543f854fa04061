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

// The fleet: every device with its last known state, persisted so that
// the API, the webhooks and a distributor's view across clinics all read
// the same thing the port manager saw.

// EventDeviceStatus is a change of a device's connection or QC state
// (payload: deviceId, state, qcState).
const EventDeviceStatus = "device:status"

// Device connection states.
const (
	DeviceConnected    = "connected"
	DeviceDisconnected = "disconnected"
	DeviceError        = "error"
	DeviceUnknown      = "unknown"
)

// DeviceStatus is the last known state of a device.
type DeviceStatus struct {
	DeviceID      int64
	OrgID         int64
	State         string
	Port          string
	Since         time.Time
	LastMessageAt time.Time
	LastError     string
	LastErrorAt   time.Time
	Firmware      string
	SerialNumber  string
	QCState       string // none, ok, warning, failed
	QCAt          time.Time
	UpdatedAt     time.Time
}

// FleetDevice is a device with its status and message counts.
type FleetDevice struct {
	Device
	OrgSlug    string
	OrgName    string
	Status     DeviceStatus
	MessagesIn int
	Failed     int // messages that could not be ingested
}

// ensureDeviceStatus makes sure the device has a status row.
func ensureDeviceStatus(tx *txn, orgID, deviceID int64) error {
	_, err := tx.Exec(`INSERT INTO device_status (device_id, org_id, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (device_id) DO NOTHING`, deviceID, orgID, unix(tx.Now))
	if err != nil {
		return fmt.Errorf("device status: %w", err)
	}
	return nil
}

// SetDeviceState records a device's connection state (connected,
// disconnected, error) and, for an error, why. A change of state writes a
// device:status event; the same state again only refreshes the row.
func (s *Store) SetDeviceState(ctx context.Context, orgID, deviceID int64, state, port, lastError string) error {
	if !slices.Contains([]string{DeviceConnected, DeviceDisconnected, DeviceError}, state) {
		return Invalid("state", "must be connected, disconnected or error")
	}
	if len(lastError) > 500 {
		lastError = lastError[:500]
	}
	return s.write(ctx, func(tx *txn) error {
		var one int
		if err := tx.QueryRow(`SELECT 1 FROM devices WHERE org_id = ? AND id = ?`, orgID, deviceID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("device %d: %w", deviceID, ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("device state: %w", err)
		}
		if err := ensureDeviceStatus(tx, orgID, deviceID); err != nil {
			return err
		}
		var old, qc string
		if err := tx.QueryRow(`SELECT state, qc_state FROM device_status WHERE device_id = ?`, deviceID).Scan(&old, &qc); err != nil {
			return fmt.Errorf("device state: %w", err)
		}
		q := `UPDATE device_status SET state = ?, port = ?, updated_at = ?`
		args := []any{state, port, unix(tx.Now)}
		if old != state {
			q += `, since = ?`
			args = append(args, unix(tx.Now))
		}
		if lastError != "" {
			q += `, last_error = ?, last_error_at = ?`
			args = append(args, lastError, unix(tx.Now))
		}
		if _, err := tx.Exec(q+` WHERE device_id = ?`, append(args, deviceID)...); err != nil {
			return fmt.Errorf("device state: %w", err)
		}
		if old == state {
			return nil
		}
		return tx.Event(orgID, EventDeviceStatus, "device", deviceID, map[string]any{"deviceId": deviceID, "state": state, "qcState": qc})
	})
}

// setDeviceQCState records a device's QC state within a write.
func setDeviceQCState(tx *txn, orgID, deviceID int64, qc string) error {
	if err := ensureDeviceStatus(tx, orgID, deviceID); err != nil {
		return err
	}
	var old, state string
	if err := tx.QueryRow(`SELECT qc_state, state FROM device_status WHERE device_id = ?`, deviceID).Scan(&old, &state); err != nil {
		return fmt.Errorf("device qc state: %w", err)
	}
	if _, err := tx.Exec(`UPDATE device_status SET qc_state = ?, qc_at = ?, updated_at = ? WHERE device_id = ?`,
		qc, unix(tx.Now), unix(tx.Now), deviceID); err != nil {
		return fmt.Errorf("device qc state: %w", err)
	}
	if old == qc {
		return nil
	}
	return tx.Event(orgID, EventDeviceStatus, "device", deviceID, map[string]any{"deviceId": deviceID, "state": state, "qcState": qc})
}

// noteDeviceMessage records, within an ingestion, that a device sent a
// message and what it said about itself.
func noteDeviceMessage(tx *txn, orgID, deviceID int64, firmware, serial string) error {
	if err := ensureDeviceStatus(tx, orgID, deviceID); err != nil {
		return err
	}
	q := `UPDATE device_status SET last_message_at = ?, updated_at = ?`
	args := []any{unix(tx.Now), unix(tx.Now)}
	if firmware = strings.TrimSpace(firmware); firmware != "" && len(firmware) <= 100 {
		q += `, firmware = ?`
		args = append(args, firmware)
	}
	if serial = strings.TrimSpace(serial); serial != "" && len(serial) <= 100 {
		q += `, serial_number = ?`
		args = append(args, serial)
	}
	if _, err := tx.Exec(q+` WHERE device_id = ?`, append(args, deviceID)...); err != nil {
		return fmt.Errorf("device status: %w", err)
	}
	return nil
}

const fleetCols = `, o.slug, o.name, COALESCE(st.state, 'unknown'), COALESCE(st.port, ''), COALESCE(st.since, 0),
	COALESCE(st.last_message_at, 0), COALESCE(st.last_error, ''), COALESCE(st.last_error_at, 0),
	COALESCE(st.firmware, ''), COALESCE(st.serial_number, ''), COALESCE(st.qc_state, 'none'), COALESCE(st.qc_at, 0),
	COALESCE(st.updated_at, 0),
	(SELECT COUNT(*) FROM device_messages m WHERE m.org_id = d.org_id AND m.device_id = d.id AND m.direction = 'in'),
	(SELECT COUNT(*) FROM device_messages m WHERE m.org_id = d.org_id AND m.device_id = d.id AND m.status = 'failed')`

// Fleet lists the devices in service of the given organisations with
// their state, by organisation, station and name.
func (s *Store) Fleet(ctx context.Context, orgIDs ...int64) ([]FleetDevice, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(orgIDs))
	for i, id := range orgIDs {
		args[i] = id
	}
	cols := strings.ReplaceAll(deviceCols, "\n\t", " ")
	q := `SELECT ` + prefixCols("d.", cols) + fleetCols + ` FROM devices d JOIN orgs o ON o.id = d.org_id
		LEFT JOIN device_status st ON st.device_id = d.id
		WHERE d.org_id IN (?` + strings.Repeat(", ?", len(orgIDs)-1) + `) AND d.removed_at = 0
		ORDER BY o.name, d.station, d.name, d.id`
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	defer rows.Close()
	var out []FleetDevice
	for rows.Next() {
		f, err := scanFleet(rows)
		if err != nil {
			return nil, fmt.Errorf("fleet: %w", err)
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}

// FleetDevice returns one device of the organisation with its state.
func (s *Store) FleetDevice(ctx context.Context, orgID int64, uuid string) (*FleetDevice, error) {
	cols := strings.ReplaceAll(deviceCols, "\n\t", " ")
	f, err := scanFleet(s.r.QueryRowContext(ctx, `SELECT `+prefixCols("d.", cols)+fleetCols+` FROM devices d
		JOIN orgs o ON o.id = d.org_id LEFT JOIN device_status st ON st.device_id = d.id
		WHERE d.org_id = ? AND d.uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", uuid, err)
	}
	return f, nil
}

func scanFleet(row interface{ Scan(...any) error }) (*FleetDevice, error) {
	var f FleetDevice
	d := &f.Device
	st := &f.Status
	var removed, c, u, since, lm, le, qa, su int64
	err := row.Scan(&d.ID, &d.UUID, &d.OrgID, &d.Name, &d.Protocol, &d.PortPath, &d.USBSerial, &d.TCPAddr,
		&d.Baud, &d.DataBits, &d.Parity, &d.StopBits, &d.Station, &d.Options, &d.StrictFraming, &d.Active, &removed, &c, &u,
		&f.OrgSlug, &f.OrgName, &st.State, &st.Port, &since, &lm, &st.LastError, &le, &st.Firmware, &st.SerialNumber,
		&st.QCState, &qa, &su, &f.MessagesIn, &f.Failed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.RemovedAt, d.CreatedAt, d.UpdatedAt = fromUnix(removed), fromUnix(c), fromUnix(u)
	st.DeviceID, st.OrgID = d.ID, d.OrgID
	st.Since, st.LastMessageAt, st.LastErrorAt, st.QCAt, st.UpdatedAt = fromUnix(since), fromUnix(lm), fromUnix(le), fromUnix(qa), fromUnix(su)
	return &f, nil
}

// FleetOrgs lists the organisations whose fleet a user may see: their own
// and those granted to them (a distributor's clinics), by name.
func (s *Store) FleetOrgs(ctx context.Context, userID, ownOrgID int64) ([]Org, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM orgs WHERE id = ?
		UNION SELECT org_id FROM fleet_grants WHERE user_id = ?`, ownOrgID, userID)
	if err != nil {
		return nil, fmt.Errorf("fleet orgs: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("fleet orgs: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []Org
	for _, id := range ids {
		o, err := s.Org(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b Org) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// GrantFleet lets a user (an admin) see another organisation's fleet.
func (s *Store) GrantFleet(ctx context.Context, userID, orgID int64) error {
	return s.write(ctx, func(tx *txn) error {
		var userOrg int64
		var role string
		err := tx.QueryRow(`SELECT org_id, role FROM users WHERE id = ?`, userID).Scan(&userOrg, &role)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("grant fleet: %w", err)
		}
		if role != RoleAdmin {
			return Invalid("user", "only an admin can be given other organisations' fleets")
		}
		if _, err := tx.Exec(`INSERT INTO fleet_grants (user_id, org_id, created_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, userID, orgID, unix(tx.Now)); err != nil {
			return fmt.Errorf("grant fleet: %w", err)
		}
		return tx.Audit(orgID, "grant", "fleet", fmt.Sprint(userID), 0, "fleet view for a user of organisation "+fmt.Sprint(userOrg))
	})
}

// GrantFleetByEmail is GrantFleet for the admin with this email address.
// An unknown address and a user who is not an admin get the same answer, so
// the form cannot be used to find out who has an account; the
// organisation's own admins need no grant.
func (s *Store) GrantFleetByEmail(ctx context.Context, email string, orgID int64) error {
	var id, userOrg int64
	var role string
	err := s.r.QueryRowContext(ctx, `SELECT id, org_id, role FROM users WHERE email = ?`, strings.TrimSpace(email)).Scan(&id, &userOrg, &role)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && role != RoleAdmin) {
		return Invalid("email", "no administrator has this email address")
	}
	if err != nil {
		return fmt.Errorf("grant fleet: %w", err)
	}
	if userOrg == orgID {
		return Invalid("email", "is an administrator of this organisation, who sees its devices already")
	}
	return s.GrantFleet(ctx, id, orgID)
}

// FleetGrant is an admin of another organisation (a distributor) who may
// see this organisation's devices on their fleet page.
type FleetGrant struct {
	UserID    int64
	Email     string
	Name      string
	OrgName   string // the organisation the user belongs to
	CreatedAt time.Time
}

// FleetGrants lists who outside the organisation may see its fleet, by
// e-mail address.
func (s *Store) FleetGrants(ctx context.Context, orgID int64) ([]FleetGrant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT u.id, u.email, u.name, o.name, g.created_at
		FROM fleet_grants g JOIN users u ON u.id = g.user_id JOIN orgs o ON o.id = u.org_id
		WHERE g.org_id = ? ORDER BY u.email`, orgID)
	if err != nil {
		return nil, fmt.Errorf("fleet grants: %w", err)
	}
	defer rows.Close()
	var out []FleetGrant
	for rows.Next() {
		var g FleetGrant
		var c int64
		if err := rows.Scan(&g.UserID, &g.Email, &g.Name, &g.OrgName, &c); err != nil {
			return nil, fmt.Errorf("fleet grants: %w", err)
		}
		g.CreatedAt = fromUnix(c)
		out = append(out, g)
	}
	return out, rows.Err()
}

// RevokeFleet takes back a user's view of the organisation's fleet; the
// user's own organisation is not affected. ErrNotFound when the user had no
// such grant.
func (s *Store) RevokeFleet(ctx context.Context, orgID, userID int64) error {
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`DELETE FROM fleet_grants WHERE org_id = ? AND user_id = ?`, orgID, userID)
		if err != nil {
			return fmt.Errorf("revoke fleet: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("fleet grant of user %d: %w", userID, ErrNotFound)
		}
		return tx.Audit(orgID, "revoke", "fleet", fmt.Sprint(userID), 0, "fleet view taken back")
	})
}
