package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WaitingRoom is where a service's appointments queue: it has a slot length
// and opening hours that the slot finder uses.
type WaitingRoom struct {
	ID           int64
	UUID         string
	OrgID        int64
	Name         string
	ServiceLine  string
	ServiceType  string
	SlotDuration int          // seconds
	Hours        OpeningHours // per weekday, in Timezone
	Timezone     string       // IANA name
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// OpeningHours maps a weekday (0 = Sunday) to its open intervals.
type OpeningHours map[time.Weekday][]Interval

// Interval is an opening interval within a day, "HH:MM" to "HH:MM".
type Interval struct {
	Open  string
	Close string
}

// hoursJSON is hours_json as stored: weekday number ("0" = Sunday) to its
// intervals. The keys are the database's format, whatever an API or page
// calls them.
type hoursJSON map[time.Weekday][]intervalJSON

type intervalJSON struct {
	Open  string `json:"open"`
	Close string `json:"close"`
}

func encodeHours(h OpeningHours) string {
	if h == nil {
		return "null"
	}
	out := make(hoursJSON, len(h))
	for d, ivs := range h {
		out[d] = mapList(ivs, func(i Interval) intervalJSON { return intervalJSON(i) })
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(fmt.Sprintf("encode opening hours: %v", err)) // strings in a map keyed by int always encode
	}
	return string(b)
}

func decodeHours(src string) (OpeningHours, error) {
	var in hoursJSON
	if err := json.Unmarshal([]byte(src), &in); err != nil {
		return nil, err
	}
	if in == nil {
		return nil, nil
	}
	out := make(OpeningHours, len(in))
	for d, ivs := range in {
		out[d] = mapList(ivs, func(i intervalJSON) Interval { return Interval(i) })
	}
	return out, nil
}

// Minutes returns the interval as minutes after midnight.
func (i Interval) Minutes() (open, close int, ok bool) {
	o, err1 := time.Parse("15:04", i.Open)
	c, err2 := time.Parse("15:04", i.Close)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return o.Hour()*60 + o.Minute(), c.Hour()*60 + c.Minute(), true
}

// WeekdayHours is the default: Monday to Friday, 08:00 to 16:00.
func WeekdayHours() OpeningHours {
	h := OpeningHours{}
	for d := time.Monday; d <= time.Friday; d++ {
		h[d] = []Interval{{Open: "08:00", Close: "16:00"}}
	}
	return h
}

// Location is the waiting room's time zone (UTC if it cannot be loaded).
func (w *WaitingRoom) Location() *time.Location {
	if loc, err := time.LoadLocation(w.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// Validate checks a waiting room's fields.
func (w *WaitingRoom) Validate() error {
	var v Validator
	w.Name = strings.TrimSpace(w.Name)
	v.Check(w.Name != "", "name", "is required")
	v.Check(len(w.Name) <= 200, "name", "must be at most 200 characters")
	v.Line("name", w.Name, 200)
	v.Check(w.SlotDuration >= 60 && w.SlotDuration <= 86400, "slotDuration", "must be between 1 minute and 24 hours")
	if w.Timezone == "" {
		w.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(w.Timezone); err != nil {
		v.Add("timezone", "is not a known time zone")
	}
	for day, ivs := range w.Hours {
		for _, iv := range ivs {
			o, c, ok := iv.Minutes()
			if !ok || o >= c {
				v.Add("hours", fmt.Sprintf("%s: opening must be HH:MM before closing HH:MM", day))
			}
		}
	}
	return v.Err()
}

// CreateWaitingRoom stores a new waiting room.
func (s *Store) CreateWaitingRoom(ctx context.Context, orgID int64, w *WaitingRoom) error {
	w.OrgID = orgID
	if w.Hours == nil {
		w.Hours = WeekdayHours()
	}
	if err := w.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		w.UUID = NewUUID()
		w.CreatedAt, w.UpdatedAt = tx.Now, tx.Now
		hours := encodeHours(w.Hours)
		res, err := tx.Exec(`INSERT INTO waiting_rooms (uuid, org_id, name, service_line, service_type, slot_duration,
			hours_json, timezone, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.UUID, orgID, w.Name, w.ServiceLine, w.ServiceType, w.SlotDuration, hours, w.Timezone,
			boolInt(w.Active), unix(tx.Now), unix(tx.Now))
		if isUnique(err) {
			return Invalid("name", "a waiting room with this name already exists")
		}
		if err != nil {
			return fmt.Errorf("create waiting room: %w", err)
		}
		w.ID, _ = res.LastInsertId()
		if err := tx.Event(orgID, EventWaitingRoomChanged, "waiting-room", w.ID, nil); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "waiting-room", w.UUID, 0, w.Name)
	})
}

// UpdateWaitingRoom saves a waiting room's fields.
func (s *Store) UpdateWaitingRoom(ctx context.Context, orgID int64, w *WaitingRoom) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		hours := encodeHours(w.Hours)
		res, err := tx.Exec(`UPDATE waiting_rooms SET name = ?, service_line = ?, service_type = ?, slot_duration = ?,
			hours_json = ?, timezone = ?, active = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			w.Name, w.ServiceLine, w.ServiceType, w.SlotDuration, hours, w.Timezone, boolInt(w.Active),
			unix(tx.Now), orgID, w.ID)
		if isUnique(err) {
			return Invalid("name", "a waiting room with this name already exists")
		}
		if err != nil {
			return fmt.Errorf("update waiting room: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		w.UpdatedAt = tx.Now
		if err := tx.Event(orgID, EventWaitingRoomChanged, "waiting-room", w.ID, nil); err != nil {
			return err
		}
		return tx.Audit(orgID, "update", "waiting-room", w.UUID, 0, w.Name)
	})
}

const waitingRoomCols = `id, uuid, org_id, name, service_line, service_type, slot_duration, hours_json, timezone,
	active, created_at, updated_at`

func scanWaitingRoom(row interface{ Scan(...any) error }) (*WaitingRoom, error) {
	var w WaitingRoom
	var hours string
	var c, u int64
	err := row.Scan(&w.ID, &w.UUID, &w.OrgID, &w.Name, &w.ServiceLine, &w.ServiceType, &w.SlotDuration, &hours,
		&w.Timezone, &w.Active, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if w.Hours, err = decodeHours(hours); err != nil {
		return nil, fmt.Errorf("waiting room %d hours: %w", w.ID, err)
	}
	w.CreatedAt, w.UpdatedAt = fromUnix(c), fromUnix(u)
	return &w, nil
}

// WaitingRoom returns a waiting room by id.
func (s *Store) WaitingRoom(ctx context.Context, orgID, id int64) (*WaitingRoom, error) {
	w, err := scanWaitingRoom(s.r.QueryRowContext(ctx, `SELECT `+waitingRoomCols+` FROM waiting_rooms WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("waiting room %d: %w", id, err)
	}
	return w, nil
}

// WaitingRoomByName returns a waiting room by its (unique) name.
func (s *Store) WaitingRoomByName(ctx context.Context, orgID int64, name string) (*WaitingRoom, error) {
	w, err := scanWaitingRoom(s.r.QueryRowContext(ctx, `SELECT `+waitingRoomCols+` FROM waiting_rooms WHERE org_id = ? AND name = ?`, orgID, name))
	if err != nil {
		return nil, fmt.Errorf("waiting room %q: %w", name, err)
	}
	return w, nil
}

// WaitingRoomByUUID returns a waiting room by its public id.
func (s *Store) WaitingRoomByUUID(ctx context.Context, orgID int64, uuid string) (*WaitingRoom, error) {
	w, err := scanWaitingRoom(s.r.QueryRowContext(ctx, `SELECT `+waitingRoomCols+` FROM waiting_rooms WHERE org_id = ? AND uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("waiting room %q: %w", uuid, err)
	}
	return w, nil
}

// WaitingRooms lists an organisation's waiting rooms by name.
func (s *Store) WaitingRooms(ctx context.Context, orgID int64) ([]WaitingRoom, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+waitingRoomCols+` FROM waiting_rooms WHERE org_id = ? ORDER BY name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("waiting rooms: %w", err)
	}
	defer rows.Close()
	var out []WaitingRoom
	for rows.Next() {
		w, err := scanWaitingRoom(rows)
		if err != nil {
			return nil, fmt.Errorf("waiting rooms: %w", err)
		}
		out = append(out, *w)
	}
	return out, rows.Err()
}
