package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Location is a site of the organisation (the FMS "geolocation"). The
// perfect-answer API names it by GeolocationID and books its visits in the
// location's waiting room.
type Location struct {
	ID            int64
	UUID          string
	OrgID         int64
	Name          string
	GeolocationID string // a UUID
	WaitingRoomID int64  // 0 = none set
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s is a UUID in its canonical 8-4-4-4-12 form.
func IsUUID(s string) bool { return uuidRE.MatchString(s) }

// Validate checks a location's fields.
func (l *Location) Validate() error {
	var v Validator
	l.Name, l.GeolocationID = strings.TrimSpace(l.Name), strings.ToLower(strings.TrimSpace(l.GeolocationID))
	v.Check(l.Name != "", "name", "is required")
	v.Check(len(l.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(IsUUID(l.GeolocationID), "geolocationId", "must be a UUID")
	return v.Err()
}

// SaveLocation creates (ID 0) or updates a location.
func (s *Store) SaveLocation(ctx context.Context, orgID int64, l *Location) error {
	if err := l.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		if l.WaitingRoomID > 0 {
			var n int
			tx.QueryRow(`SELECT COUNT(*) FROM waiting_rooms WHERE org_id = ? AND id = ?`, orgID, l.WaitingRoomID).Scan(&n)
			if n == 0 {
				return Invalid("waitingRoom", "does not exist")
			}
		}
		l.OrgID, l.UpdatedAt = orgID, tx.Now
		var err error
		if l.ID == 0 {
			l.UUID, l.CreatedAt = NewUUID(), tx.Now
			var res sql.Result
			res, err = tx.Exec(`INSERT INTO locations (uuid, org_id, name, geolocation_id, waiting_room_id, created_at, updated_at)
				VALUES (?, ?, ?, ?, NULLIF(?, 0), ?, ?)`, l.UUID, orgID, l.Name, l.GeolocationID, l.WaitingRoomID, unix(tx.Now), unix(tx.Now))
			if err == nil {
				l.ID, _ = res.LastInsertId()
			}
		} else {
			var res sql.Result
			res, err = tx.Exec(`UPDATE locations SET name = ?, geolocation_id = ?, waiting_room_id = NULLIF(?, 0), updated_at = ?
				WHERE org_id = ? AND id = ?`, l.Name, l.GeolocationID, l.WaitingRoomID, unix(tx.Now), orgID, l.ID)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return ErrNotFound
				}
			}
		}
		if isUnique(err) {
			return Invalid("name", "a location with this name or geolocation id already exists")
		}
		if err != nil {
			return fmt.Errorf("save location: %w", err)
		}
		return tx.Audit(orgID, "save", "location", l.UUID, 0, l.Name)
	})
}

const locationCols = `id, uuid, org_id, name, geolocation_id, COALESCE(waiting_room_id, 0), created_at, updated_at`

func scanLocation(row interface{ Scan(...any) error }) (*Location, error) {
	var l Location
	var c, u int64
	err := row.Scan(&l.ID, &l.UUID, &l.OrgID, &l.Name, &l.GeolocationID, &l.WaitingRoomID, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = fromUnix(c), fromUnix(u)
	return &l, nil
}

// LocationByGeolocationID finds a location by its geolocation id.
func (s *Store) LocationByGeolocationID(ctx context.Context, orgID int64, geo string) (*Location, error) {
	l, err := scanLocation(s.r.QueryRowContext(ctx, `SELECT `+locationCols+` FROM locations WHERE org_id = ? AND geolocation_id = ?`,
		orgID, strings.ToLower(strings.TrimSpace(geo))))
	if err != nil {
		return nil, fmt.Errorf("location %s: %w", geo, err)
	}
	return l, nil
}

// Locations lists an organisation's locations by name.
func (s *Store) Locations(ctx context.Context, orgID int64) ([]Location, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+locationCols+` FROM locations WHERE org_id = ? ORDER BY name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("locations: %w", err)
	}
	defer rows.Close()
	var out []Location
	for rows.Next() {
		l, err := scanLocation(rows)
		if err != nil {
			return nil, fmt.Errorf("locations: %w", err)
		}
		out = append(out, *l)
	}
	return out, rows.Err()
}

// CareLocation is a room or bed equipped with an FMS device (a camera cart
// or robot) that a virtual nurse or sitter connects to.
type CareLocation struct {
	ID           int64
	UUID         string
	OrgID        int64
	LocationID   int64 // 0 = none
	Name         string
	Building     string
	Floor        string
	Department   string
	Room         string
	Bed          string
	DeviceSerial string // serial number of the FMS device
	DeviceType   string // robot, cart, ...
	Status       string // active, inactive
	Availability string // online, offline
	PatientID    int64  // the patient now in this bed, 0 = none
	CreatedAt    time.Time
	UpdatedAt    time.Time

	// Filled by reads: the location's name and geolocation id.
	LocationName string
	LocationGeo  string
}

// Validate checks a care location's fields.
func (c *CareLocation) Validate() error {
	var v Validator
	for _, f := range []*string{&c.Name, &c.Building, &c.Floor, &c.Department, &c.Room, &c.Bed, &c.DeviceSerial, &c.DeviceType} {
		*f = strings.TrimSpace(*f)
		v.Check(len(*f) <= 200, "name", "fields must be at most 200 characters")
	}
	v.Check(c.Name != "", "name", "is required")
	v.Check(c.Room != "", "room", "is required")
	v.Check((c.Building != "" && c.Floor != "") || c.Department != "", "building", "give building and floor, or a department")
	if c.DeviceType == "" {
		c.DeviceType = "robot"
	}
	if c.Status == "" {
		c.Status = "active"
	}
	if c.Availability == "" {
		c.Availability = "offline"
	}
	v.Check(c.Status == "active" || c.Status == "inactive", "status", "must be active or inactive")
	v.Check(c.Availability == "online" || c.Availability == "offline", "availability", "must be online or offline")
	return v.Err()
}

// SaveCareLocation creates (ID 0) or updates a care location.
func (s *Store) SaveCareLocation(ctx context.Context, orgID int64, c *CareLocation) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		var v Validator
		if c.LocationID > 0 {
			var n int
			tx.QueryRow(`SELECT COUNT(*) FROM locations WHERE org_id = ? AND id = ?`, orgID, c.LocationID).Scan(&n)
			v.Check(n == 1, "location", "does not exist")
		}
		if c.PatientID > 0 {
			var n int
			tx.QueryRow(`SELECT COUNT(*) FROM patients WHERE org_id = ? AND id = ?`, orgID, c.PatientID).Scan(&n)
			v.Check(n == 1, "patient", "does not exist")
		}
		if err := v.Err(); err != nil {
			return err
		}
		c.OrgID, c.UpdatedAt = orgID, tx.Now
		vals := []any{c.LocationID, c.Name, c.Building, c.Floor, c.Department, c.Room, c.Bed, c.DeviceSerial,
			c.DeviceType, c.Status, c.Availability, c.PatientID, unix(tx.Now)}
		var err error
		if c.ID == 0 {
			c.UUID, c.CreatedAt = NewUUID(), tx.Now
			var res sql.Result
			res, err = tx.Exec(`INSERT INTO care_locations (location_id, name, building, floor, department, room, bed,
				device_serial, device_type, status, availability, patient_id, updated_at, uuid, org_id, created_at)
				VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?)`,
				append(vals, c.UUID, orgID, unix(tx.Now))...)
			if err == nil {
				c.ID, _ = res.LastInsertId()
			}
		} else {
			var res sql.Result
			res, err = tx.Exec(`UPDATE care_locations SET location_id = NULLIF(?, 0), name = ?, building = ?, floor = ?,
				department = ?, room = ?, bed = ?, device_serial = ?, device_type = ?, status = ?, availability = ?,
				patient_id = NULLIF(?, 0), updated_at = ? WHERE org_id = ? AND id = ?`, append(vals, orgID, c.ID)...)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return ErrNotFound
				}
			}
		}
		if isUnique(err) {
			return Invalid("name", "another care location has this name or device serial number")
		}
		if err != nil {
			return fmt.Errorf("save care location: %w", err)
		}
		return tx.Audit(orgID, "save", "care-location", c.UUID, c.PatientID, c.Name)
	})
}

const careLocationCols = `c.id, c.uuid, c.org_id, COALESCE(c.location_id, 0), c.name, c.building, c.floor, c.department,
	c.room, c.bed, c.device_serial, c.device_type, c.status, c.availability, COALESCE(c.patient_id, 0),
	c.created_at, c.updated_at, COALESCE(l.name, ''), COALESCE(l.geolocation_id, '')`

const careLocationFrom = ` FROM care_locations c LEFT JOIN locations l ON l.id = c.location_id `

func scanCareLocation(row interface{ Scan(...any) error }) (*CareLocation, error) {
	var c CareLocation
	var cr, up int64
	err := row.Scan(&c.ID, &c.UUID, &c.OrgID, &c.LocationID, &c.Name, &c.Building, &c.Floor, &c.Department,
		&c.Room, &c.Bed, &c.DeviceSerial, &c.DeviceType, &c.Status, &c.Availability, &c.PatientID, &cr, &up,
		&c.LocationName, &c.LocationGeo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromUnix(cr), fromUnix(up)
	return &c, nil
}

// CareLocation returns a care location by integer id.
func (s *Store) CareLocation(ctx context.Context, orgID, id int64) (*CareLocation, error) {
	c, err := scanCareLocation(s.r.QueryRowContext(ctx, `SELECT `+careLocationCols+careLocationFrom+`WHERE c.org_id = ? AND c.id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("care location %d: %w", id, err)
	}
	return c, nil
}

// CareLocations lists an organisation's care locations by name.
func (s *Store) CareLocations(ctx context.Context, orgID int64) ([]CareLocation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+careLocationCols+careLocationFrom+`WHERE c.org_id = ? ORDER BY c.name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("care locations: %w", err)
	}
	defer rows.Close()
	var out []CareLocation
	for rows.Next() {
		c, err := scanCareLocation(rows)
		if err != nil {
			return nil, fmt.Errorf("care locations: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// CareLocationQuery names a care location the ways the assistance API does:
// building+floor+room(+bed), department+room(+bed), a patient's MRN or a
// device serial number. Text is compared trimmed and case-insensitively.
type CareLocationQuery struct {
	Building, Floor, Department, Room, Bed string
	PatientMRN                             string
	DeviceSerial                           string
}

// Complete reports whether the query names a care location in one of the
// documented ways.
func (q CareLocationQuery) Complete() bool {
	return q.DeviceSerial != "" || q.PatientMRN != "" ||
		(q.Building != "" && q.Floor != "" && q.Room != "") || (q.Department != "" && q.Room != "")
}

// FindCareLocation resolves a query to one active care location. The device
// serial wins over the patient MRN, which wins over a place. A place without
// a bed matches the room's bed-less care location, else its first bed.
func (s *Store) FindCareLocation(ctx context.Context, orgID int64, q CareLocationQuery) (*CareLocation, error) {
	norm := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	where := `c.org_id = ? AND c.status = 'active'`
	args := []any{orgID}
	order := `c.id`
	switch {
	case strings.TrimSpace(q.DeviceSerial) != "":
		where += ` AND c.device_serial = ?`
		args = append(args, strings.TrimSpace(q.DeviceSerial))
	case strings.TrimSpace(q.PatientMRN) != "":
		where += ` AND c.patient_id IN (SELECT id FROM patients WHERE org_id = ? AND mrn = ?)`
		args = append(args, orgID, strings.TrimSpace(q.PatientMRN))
		order = `c.updated_at DESC, c.id`
	case q.Building != "" && q.Floor != "" && q.Room != "":
		where += ` AND lower(c.building) = ? AND lower(c.floor) = ? AND lower(c.room) = ?`
		args = append(args, norm(q.Building), norm(q.Floor), norm(q.Room))
	case q.Department != "" && q.Room != "":
		where += ` AND lower(c.department) = ? AND lower(c.room) = ?`
		args = append(args, norm(q.Department), norm(q.Room))
	default:
		return nil, fmt.Errorf("find care location: %w", ErrNotFound)
	}
	if q.DeviceSerial == "" && q.PatientMRN == "" {
		if b := norm(q.Bed); b != "" {
			where += ` AND lower(c.bed) = ?`
			args = append(args, b)
		} else {
			order = `(c.bed <> ''), c.id`
		}
	}
	c, err := scanCareLocation(s.r.QueryRowContext(ctx, `SELECT `+careLocationCols+careLocationFrom+`WHERE `+where+` ORDER BY `+order+` LIMIT 1`, args...))
	if err != nil {
		return nil, fmt.Errorf("find care location: %w", err)
	}
	return c, nil
}

// Assistance request statuses. "incomplete" is the open state, as the API
// shows a new request.
const (
	AssistanceOpen      = "incomplete"
	AssistanceComplete  = "complete"
	AssistanceCancelled = "cancelled"
)

// EventAssistanceChanged keeps live pages current; it is not a webhook event.
const EventAssistanceChanged = "assistance:changed"

// AssistanceRequest is a call for a virtual nurse or sitter at a care
// location.
type AssistanceRequest struct {
	ID             int64
	UUID           string
	OrgID          int64
	CareLocationID int64
	PatientID      int64 // 0 = no patient known at the care location
	Status         string
	AssignedTo     int64
	FromAPI        bool
	CreatedAt      time.Time
	FinishedAt     time.Time
}

const assistanceCols = `id, uuid, org_id, care_location_id, COALESCE(patient_id, 0), status, COALESCE(assigned_to, 0),
	from_api, created_at, finished_at`

func scanAssistance(row interface{ Scan(...any) error }) (*AssistanceRequest, error) {
	var a AssistanceRequest
	var c, f int64
	err := row.Scan(&a.ID, &a.UUID, &a.OrgID, &a.CareLocationID, &a.PatientID, &a.Status, &a.AssignedTo, &a.FromAPI, &c, &f)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.FinishedAt = fromUnix(c), fromUnix(f)
	return &a, nil
}

// OpenAssistanceRequest creates an open request at the care location, or
// returns the one already open there (created reports which).
func (s *Store) OpenAssistanceRequest(ctx context.Context, orgID, careLocationID int64, fromAPI bool) (*AssistanceRequest, bool, error) {
	var req *AssistanceRequest
	var created bool
	err := s.write(ctx, func(tx *txn) error {
		cur, err := scanAssistance(tx.QueryRow(`SELECT `+assistanceCols+` FROM assistance_requests
			WHERE org_id = ? AND care_location_id = ? AND status = 'incomplete'`, orgID, careLocationID))
		if err == nil {
			req, created = cur, false
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("open assistance request: %w", err)
		}
		var patientID int64
		err = tx.QueryRow(`SELECT COALESCE(patient_id, 0) FROM care_locations WHERE org_id = ? AND id = ?`, orgID, careLocationID).Scan(&patientID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("care location %d: %w", careLocationID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("open assistance request: %w", err)
		}
		a := &AssistanceRequest{UUID: NewUUID(), OrgID: orgID, CareLocationID: careLocationID, PatientID: patientID,
			Status: AssistanceOpen, FromAPI: fromAPI, CreatedAt: tx.Now}
		res, err := tx.Exec(`INSERT INTO assistance_requests (uuid, org_id, care_location_id, patient_id, status, from_api, created_at)
			VALUES (?, ?, ?, NULLIF(?, 0), 'incomplete', ?, ?)`, a.UUID, orgID, careLocationID, patientID, boolInt(fromAPI), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("open assistance request: %w", err)
		}
		a.ID, _ = res.LastInsertId()
		if err := tx.Event(orgID, EventAssistanceChanged, "assistance-request", a.ID, nil); err != nil {
			return err
		}
		if err := tx.Audit(orgID, "create", "assistance-request", a.UUID, patientID, ""); err != nil {
			return err
		}
		req, created = a, true
		return nil
	})
	if err != nil {
		return nil, false, err // the results may still be written by a write the caller gave up on
	}
	return req, created, nil
}

// CurrentAssistanceRequest returns the open request at a care location.
func (s *Store) CurrentAssistanceRequest(ctx context.Context, orgID, careLocationID int64) (*AssistanceRequest, error) {
	a, err := scanAssistance(s.r.QueryRowContext(ctx, `SELECT `+assistanceCols+` FROM assistance_requests
		WHERE org_id = ? AND care_location_id = ? AND status = 'incomplete'`, orgID, careLocationID))
	if err != nil {
		return nil, fmt.Errorf("current assistance request: %w", err)
	}
	return a, nil
}

// FinishAssistanceRequest closes the open request at a care location with
// status complete or cancelled and returns it.
func (s *Store) FinishAssistanceRequest(ctx context.Context, orgID, careLocationID int64, status string) (*AssistanceRequest, error) {
	if status != AssistanceComplete && status != AssistanceCancelled {
		return nil, Invalid("status", "must be complete or cancelled")
	}
	var out *AssistanceRequest
	err := s.write(ctx, func(tx *txn) error {
		a, err := scanAssistance(tx.QueryRow(`SELECT `+assistanceCols+` FROM assistance_requests
			WHERE org_id = ? AND care_location_id = ? AND status = 'incomplete'`, orgID, careLocationID))
		if err != nil {
			return fmt.Errorf("finish assistance request: %w", err)
		}
		if _, err := tx.Exec(`UPDATE assistance_requests SET status = ?, finished_at = ? WHERE id = ?`, status, unix(tx.Now), a.ID); err != nil {
			return fmt.Errorf("finish assistance request: %w", err)
		}
		a.Status, a.FinishedAt = status, tx.Now
		if err := tx.Event(orgID, EventAssistanceChanged, "assistance-request", a.ID, nil); err != nil {
			return err
		}
		out = a
		return tx.Audit(orgID, status, "assistance-request", a.UUID, a.PatientID, "")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AssistanceRequests lists an organisation's requests, newest first.
func (s *Store) AssistanceRequests(ctx context.Context, orgID int64, limit int) ([]AssistanceRequest, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+assistanceCols+` FROM assistance_requests WHERE org_id = ? ORDER BY id DESC LIMIT ?`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("assistance requests: %w", err)
	}
	defer rows.Close()
	var out []AssistanceRequest
	for rows.Next() {
		a, err := scanAssistance(rows)
		if err != nil {
			return nil, fmt.Errorf("assistance requests: %w", err)
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}
