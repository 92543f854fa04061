package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Device events.
const (
	EventDeviceCreated = "device:created"
	EventDeviceUpdated = "device:updated"
	EventDeviceRemoved = "device:removed"
)

// Device protocols.
const (
	ProtocolASTM = "astm"
	ProtocolHL7  = "hl7"
	ProtocolLine = "line"
)

// DeviceProtocols lists the protocol drivers a device can use.
var DeviceProtocols = []string{ProtocolASTM, ProtocolHL7, ProtocolLine}

// Parities and stop bits a serial device can be configured with.
var (
	Parities = []string{"none", "odd", "even", "mark", "space"}
	StopBits = []string{"1", "1.5", "2"}
)

// Device is an instrument: where it is plugged in (a port path, the USB
// serial number of its adapter, or a TCP address it connects to), how the
// line is framed, which protocol it speaks and the station it belongs to.
type Device struct {
	ID        int64
	UUID      string
	OrgID     int64
	Name      string
	Protocol  string // astm, hl7, line
	PortPath  string // /dev/ttyUSB0, COM3, /dev/serial/by-id/...
	USBSerial string // the adapter's USB serial number: survives moving to another socket
	TCPAddr   string // HOST:PORT to listen on for HL7 over MLLP
	Baud      int
	DataBits  int
	Parity    string // none, odd, even, mark, space
	StopBits  string // 1, 1.5, 2
	Station   string // device group whose clinicians see its readings
	Options   string // driver options, key=value;key=value
	// StrictFraming applies the framing standard's rules (ASTM E1381 frame
	// numbers, HL7 segments ending in CR); off, the receiver accepts what
	// real instruments send and notes each deviation in the log.
	StrictFraming bool
	Active        bool
	RemovedAt     time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Where describes where the device is found, for lists and logs.
func (d *Device) Where() string {
	switch {
	case d.TCPAddr != "":
		return "tcp " + d.TCPAddr
	case d.USBSerial != "":
		return "usb serial " + d.USBSerial
	}
	return d.PortPath
}

// Framing is the serial line settings as "9600 8N1".
func (d *Device) Framing() string {
	if d.TCPAddr != "" {
		return ""
	}
	p := "N"
	if d.Parity != "" {
		p = strings.ToUpper(d.Parity[:1])
	}
	return fmt.Sprintf("%d %d%s%s", d.Baud, d.DataBits, p, d.StopBits)
}

// OptionMap parses Options ("key=value;key=value").
func (d *Device) OptionMap() map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(d.Options, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); k != "" {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// Validate fills defaults (9600 8N1, active) and checks the fields.
func (d *Device) Validate() error {
	var v Validator
	for _, f := range []*string{&d.Name, &d.Protocol, &d.PortPath, &d.USBSerial, &d.TCPAddr, &d.Parity, &d.StopBits, &d.Station, &d.Options} {
		*f = strings.TrimSpace(*f)
	}
	d.Protocol = strings.ToLower(d.Protocol)
	d.Parity = strings.ToLower(d.Parity)
	if d.Baud == 0 {
		d.Baud = 9600
	}
	if d.DataBits == 0 {
		d.DataBits = 8
	}
	if d.Parity == "" {
		d.Parity = "none"
	}
	if d.StopBits == "" {
		d.StopBits = "1"
	}
	v.Check(d.Name != "", "name", "is required")
	v.Check(len(d.Name) <= 100, "name", "must be at most 100 characters")
	for field, val := range map[string]string{"name": d.Name, "port": d.PortPath + d.USBSerial, "tcpAddr": d.TCPAddr, "station": d.Station, "options": d.Options} {
		v.Line(field, val, 2000)
	}
	v.Check(slices.Contains(DeviceProtocols, d.Protocol), "protocol", "must be one of "+strings.Join(DeviceProtocols, ", "))
	set := 0
	for _, s := range []string{d.PortPath, d.USBSerial, d.TCPAddr} {
		if s != "" {
			set++
		}
	}
	v.Check(set == 1, "port", "give exactly one of a port path, a USB serial number or a TCP address")
	if d.TCPAddr != "" {
		_, port, err := net.SplitHostPort(d.TCPAddr)
		n, perr := strconv.Atoi(port)
		v.Check(err == nil && perr == nil && n > 0 && n < 65536, "tcpAddr", "must be HOST:PORT, e.g. 0.0.0.0:2575")
		v.Check(d.Protocol == ProtocolHL7, "tcpAddr", "only HL7 (MLLP) devices connect over TCP")
	}
	v.Check(len(d.PortPath) <= 500 && len(d.USBSerial) <= 200, "port", "is too long")
	v.Check(d.Baud > 0 && d.Baud <= 4000000, "baud", "must be between 1 and 4000000")
	v.Check(d.DataBits >= 5 && d.DataBits <= 8, "dataBits", "must be 5, 6, 7 or 8")
	v.Check(slices.Contains(Parities, d.Parity), "parity", "must be one of "+strings.Join(Parities, ", "))
	v.Check(slices.Contains(StopBits, d.StopBits), "stopBits", "must be 1, 1.5 or 2")
	v.Check(len(d.Station) <= 100, "station", "must be at most 100 characters")
	v.Check(len(d.Options) <= 2000, "options", "must be at most 2000 characters")
	return v.Err()
}

// CreateDevice stores a new, active device. A running server picks it up
// within seconds.
func (s *Store) CreateDevice(ctx context.Context, orgID int64, d *Device) error {
	d.OrgID = orgID
	d.Active = true
	if err := d.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		d.UUID = NewUUID()
		d.CreatedAt, d.UpdatedAt = tx.Now, tx.Now
		res, err := tx.Exec(`INSERT INTO devices (uuid, org_id, name, protocol, port_path, usb_serial, tcp_addr,
			baud, data_bits, parity, stop_bits, station, options, strict_framing, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.UUID, orgID, d.Name, d.Protocol, d.PortPath, d.USBSerial, d.TCPAddr, d.Baud, d.DataBits,
			d.Parity, d.StopBits, d.Station, d.Options, boolInt(d.StrictFraming), boolInt(d.Active), unix(tx.Now), unix(tx.Now))
		if isUnique(err) {
			return Conflict(fmt.Sprintf("a device named %q already exists", d.Name))
		}
		if err != nil {
			return fmt.Errorf("create device: %w", err)
		}
		d.ID, _ = res.LastInsertId()
		if err := tx.Event(orgID, EventDeviceCreated, "device", d.ID, map[string]any{"deviceId": d.ID}); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "device", fmt.Sprint(d.ID), 0, d.Name+" "+d.Where())
	})
}

// UpdateDevice loads a device, lets change modify it, validates and saves it.
func (s *Store) UpdateDevice(ctx context.Context, orgID, id int64, change func(*Device) error) (*Device, error) {
	var out *Device
	err := s.write(ctx, func(tx *txn) error {
		d, err := scanDevice(tx.QueryRow(`SELECT `+deviceCols+` FROM devices WHERE org_id = ? AND id = ? AND removed_at = 0`, orgID, id))
		if err != nil {
			return fmt.Errorf("device %d: %w", id, err)
		}
		if err := change(d); err != nil {
			return err
		}
		if err := d.Validate(); err != nil {
			return err
		}
		d.UpdatedAt = tx.Now
		_, err = tx.Exec(`UPDATE devices SET name = ?, protocol = ?, port_path = ?, usb_serial = ?, tcp_addr = ?,
			baud = ?, data_bits = ?, parity = ?, stop_bits = ?, station = ?, options = ?, strict_framing = ?, active = ?,
			updated_at = ? WHERE org_id = ? AND id = ?`,
			d.Name, d.Protocol, d.PortPath, d.USBSerial, d.TCPAddr, d.Baud, d.DataBits, d.Parity, d.StopBits,
			d.Station, d.Options, boolInt(d.StrictFraming), boolInt(d.Active), unix(tx.Now), orgID, id)
		if isUnique(err) {
			return Conflict(fmt.Sprintf("a device named %q already exists", d.Name))
		}
		if err != nil {
			return fmt.Errorf("update device: %w", err)
		}
		if err := tx.Event(orgID, EventDeviceUpdated, "device", d.ID, map[string]any{"deviceId": d.ID}); err != nil {
			return err
		}
		out = d
		return tx.Audit(orgID, "update", "device", fmt.Sprint(d.ID), 0, d.Name+" "+d.Where())
	})
	return out, err
}

// RemoveDevice takes a device out of service. Its messages and observations
// stay; its name may be reused.
func (s *Store) RemoveDevice(ctx context.Context, orgID, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		var name string
		err := tx.QueryRow(`SELECT name FROM devices WHERE org_id = ? AND id = ? AND removed_at = 0`, orgID, id).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("device %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("remove device: %w", err)
		}
		if _, err := tx.Exec(`UPDATE devices SET removed_at = ?, active = 0, updated_at = ? WHERE org_id = ? AND id = ?`,
			unix(tx.Now), unix(tx.Now), orgID, id); err != nil {
			return fmt.Errorf("remove device: %w", err)
		}
		if err := tx.Event(orgID, EventDeviceRemoved, "device", id, map[string]any{"deviceId": id}); err != nil {
			return err
		}
		return tx.Audit(orgID, "delete", "device", fmt.Sprint(id), 0, name)
	})
}

const deviceCols = `id, uuid, org_id, name, protocol, port_path, usb_serial, tcp_addr, baud, data_bits, parity,
	stop_bits, station, options, strict_framing, active, removed_at, created_at, updated_at`

func scanDevice(row interface{ Scan(...any) error }) (*Device, error) {
	var d Device
	var removed, c, u int64
	err := row.Scan(&d.ID, &d.UUID, &d.OrgID, &d.Name, &d.Protocol, &d.PortPath, &d.USBSerial, &d.TCPAddr,
		&d.Baud, &d.DataBits, &d.Parity, &d.StopBits, &d.Station, &d.Options, &d.StrictFraming, &d.Active, &removed, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.RemovedAt, d.CreatedAt, d.UpdatedAt = fromUnix(removed), fromUnix(c), fromUnix(u)
	return &d, nil
}

// Device returns a device of the organisation by id (removed ones too, so
// that old messages still name their device).
func (s *Store) Device(ctx context.Context, orgID, id int64) (*Device, error) {
	d, err := scanDevice(s.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("device %d: %w", id, err)
	}
	return d, nil
}

// DeviceByName returns a device in service by name.
func (s *Store) DeviceByName(ctx context.Context, orgID int64, name string) (*Device, error) {
	d, err := scanDevice(s.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices
		WHERE org_id = ? AND name = ? AND removed_at = 0`, orgID, strings.TrimSpace(name)))
	if err != nil {
		return nil, fmt.Errorf("device %q: %w", name, err)
	}
	return d, nil
}

// DeviceFilter selects devices.
type DeviceFilter struct {
	Station        string
	IncludeRemoved bool
}

// Devices lists an organisation's devices by station and name.
func (s *Store) Devices(ctx context.Context, orgID int64, f DeviceFilter) ([]Device, error) {
	where := `org_id = ?`
	args := []any{orgID}
	if !f.IncludeRemoved {
		where += ` AND removed_at = 0`
	}
	if f.Station != "" {
		where += ` AND station = ?`
		args = append(args, f.Station)
	}
	return s.queryDevices(ctx, `SELECT `+deviceCols+` FROM devices WHERE `+where+` ORDER BY station, name, id`, args...)
}

// ActiveDevices lists the devices in service of every organisation: what
// the port manager should be running.
func (s *Store) ActiveDevices(ctx context.Context) ([]Device, error) {
	return s.queryDevices(ctx, `SELECT `+deviceCols+` FROM devices WHERE removed_at = 0 AND active = 1 ORDER BY id`)
}

func (s *Store) queryDevices(ctx context.Context, q string, args ...any) ([]Device, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("devices: %w", err)
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// Stations lists the organisation's stations (device groups) that have a
// device in service, by name.
func (s *Store) Stations(ctx context.Context, orgID int64) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT station FROM devices
		WHERE org_id = ? AND removed_at = 0 AND station <> '' ORDER BY station`, orgID)
	if err != nil {
		return nil, fmt.Errorf("stations: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return nil, fmt.Errorf("stations: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
