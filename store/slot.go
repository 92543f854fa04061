package store

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Slot is a free appointment time in a waiting room.
type Slot struct {
	Start    time.Time
	Duration int // seconds
}

// MaxSlotWindow is the longest range FreeSlots searches.
const MaxSlotWindow = 31 * 24 * time.Hour

// MaxSlots is the most slots FreeSlots answers at once.
const MaxSlots = 5000

// FreeSlots lists the free slots of a waiting room that start in
// [after, before) and end by before: the room's opening hours (in its time
// zone) cut into slots of duration seconds (0 = the room's slot length),
// aligned to each opening time, minus those that overlap an appointment that
// is not cancelled, and none that start before now.
func (s *Store) FreeSlots(ctx context.Context, orgID int64, room *WaitingRoom, after, before time.Time, duration int) ([]Slot, error) {
	if duration == 0 {
		duration = room.SlotDuration
	}
	if duration < 1 || duration > 86400 {
		return nil, Invalid("duration", "must be in range [1, 86400]")
	}
	if !before.After(after) {
		return nil, Invalid("before", "must be after after")
	}
	if before.Sub(after) > MaxSlotWindow {
		return nil, Invalid("before", "must be at most 31 days after after")
	}
	// Appointments that may overlap: those starting up to a day (the longest
	// duration) before the window.
	rows, err := s.r.QueryContext(ctx, `SELECT start_at, start_at + duration FROM appointments
		WHERE org_id = ? AND waiting_room_id = ? AND start_at >= ? AND start_at < ? AND status <> ?
		ORDER BY start_at`, orgID, room.ID, unix(after)-86400, unix(before), StatusCancelled)
	if err != nil {
		return nil, fmt.Errorf("free slots: %w", err)
	}
	type busy struct{ from, to int64 }
	var taken []busy
	for rows.Next() {
		var b busy
		if err := rows.Scan(&b.from, &b.to); err != nil {
			rows.Close()
			return nil, fmt.Errorf("free slots: %w", err)
		}
		taken = append(taken, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("free slots: %w", err)
	}
	sort.Slice(taken, func(i, j int) bool { return taken[i].from < taken[j].from })

	loc := room.Location()
	now := s.Now().Unix()
	step := time.Duration(duration) * time.Second
	var out []Slot
	a, b := after.In(loc), before.In(loc)
	// Walk the calendar days of the room's time zone that touch the window.
	for day := time.Date(a.Year(), a.Month(), a.Day()-1, 0, 0, 0, 0, loc); !day.After(b); day = day.AddDate(0, 0, 1) {
		for _, iv := range room.Hours[day.Weekday()] {
			o, c, ok := iv.Minutes()
			if !ok {
				continue
			}
			open := time.Date(day.Year(), day.Month(), day.Day(), o/60, o%60, 0, 0, loc)
			closeAt := time.Date(day.Year(), day.Month(), day.Day(), c/60, c%60, 0, 0, loc)
			for st := open; !st.Add(step).After(closeAt); st = st.Add(step) {
				end := st.Add(step)
				if st.Before(after) || end.After(before) || st.Unix() < now {
					continue
				}
				free := true
				for _, t := range taken {
					if t.from >= end.Unix() {
						break
					}
					if t.to > st.Unix() {
						free = false
						break
					}
				}
				if free {
					if len(out) == MaxSlots {
						return nil, Invalid("before", fmt.Sprintf("the range holds more than %d free slots: narrow it or ask for a longer duration", MaxSlots))
					}
					out = append(out, Slot{Start: st.UTC(), Duration: duration})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}
