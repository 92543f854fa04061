package ui

import (
	"context"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
)

// scheduleWarnings lists what a person should confirm before booking or
// moving an appointment: a start in the past, a time outside the room's
// opening hours, or an overlap with the same provider's other visit. The
// API books these as documented; the pages ask first.
func (h *handlers) scheduleWarnings(ctx context.Context, orgID int64, room *store.WaitingRoom, start time.Time, dur int, provider, self int64) ([]string, error) {
	var warns []string
	loc := room.Location()
	end := start.Add(time.Duration(dur) * time.Second)
	if start.Before(h.st.Now()) {
		warns = append(warns, i18n.T(ctx, "WarnPast", "When", i18n.DateTime(ctx, start.In(loc))))
	}
	if len(room.Hours) > 0 && !withinHours(room.Hours, start.In(loc), end.In(loc)) {
		warns = append(warns, i18n.T(ctx, "WarnClosed", "Room", room.Name, "Hours", hoursText(ctx, room.Hours, start.In(loc).Weekday())))
	}
	if provider > 0 {
		list, _, err := h.st.Appointments(ctx, orgID, store.AppointmentFilter{ProviderID: provider,
			From: start.Add(-24 * time.Hour), To: end, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			if a.ID == self || !a.Open() || !a.Start.Before(end) || !a.End().After(start) {
				continue
			}
			warns = append(warns, i18n.T(ctx, "WarnOverlap", "Provider", a.ProviderName, "Name", a.PatientName,
				"Time", i18n.Time(ctx, a.Start.In(loc))+"–"+i18n.Time(ctx, a.End().In(loc))))
		}
	}
	return warns, nil
}

// withinHours reports whether [start, end) lies in one opening interval of
// start's weekday (times in the room's zone).
func withinHours(hours store.OpeningHours, start, end time.Time) bool {
	s := start.Hour()*60 + start.Minute()
	e := s + int(end.Sub(start)/time.Minute)
	for _, iv := range hours[start.Weekday()] {
		open, close, ok := iv.Minutes()
		if ok && s >= open && e <= close {
			return true
		}
	}
	return false
}

// hoursText is a day's opening hours in words ("08.00–16.00", "closed").
func hoursText(ctx context.Context, hours store.OpeningHours, d time.Weekday) string {
	var parts []string
	for _, iv := range hours[d] {
		parts = append(parts, strings.ReplaceAll(iv.Open, ":", timeSep(ctx))+"–"+strings.ReplaceAll(iv.Close, ":", timeSep(ctx)))
	}
	if len(parts) == 0 {
		return i18n.T(ctx, "ClosedAllDay", "Day", i18n.Weekday(ctx, d))
	}
	return i18n.Weekday(ctx, d) + " " + strings.Join(parts, ", ")
}

func timeSep(ctx context.Context) string {
	if i18n.Lang(ctx) == i18n.Danish {
		return "."
	}
	return ":"
}
