package instrument

import (
	"fmt"
	"net/http"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// maxWindow is the longest interval instrumentPatients lists at once.
const maxWindow = 366 * 24 * time.Hour

// instrumentPatient is one entry of GET /api/v1/instrumentPatients: a
// patient with one appointment in the interval, every documented field.
type instrumentPatient struct {
	PatientID           string `json:"patientID"`
	AppointmentStart    string `json:"appointmentStart"`
	CalendarName        string `json:"calendarName"`
	EmployeeName        string `json:"employeeName"`
	AppointmentTypeName string `json:"appointmentTypeName"`
	CPR                 string `json:"cpr"`
	FirstName           string `json:"firstName"`
	LastName            string `json:"lastName"`
	Birthdate           string `json:"birthdate"`
	Gender              string `json:"gender"`
}

// parseISO reads an ISO 8601 date-time (RFC 3339, with or without
// fractional seconds) or a date (taken as midnight UTC).
func parseISO(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// listPatients answers the patients with appointments that start in
// [from, to], one entry per appointment, cancelled and no-show ones left
// out, ordered by start.
func (h *Handler) listPatients(w http.ResponseWriter, r *http.Request) {
	c := clientFrom(r.Context())
	q := r.URL.Query()
	var v store.Validator
	from, okFrom := parseISO(q.Get("from"))
	to, okTo := parseISO(q.Get("to"))
	switch {
	case q.Get("from") == "":
		v.Add("from", "is required (ISO 8601 date-time, e.g. 2025-01-01T00:00:00Z)")
	case !okFrom:
		v.Add("from", "must be an ISO 8601 date-time, e.g. 2025-01-01T00:00:00Z")
	}
	switch {
	case q.Get("to") == "":
		v.Add("to", "is required (ISO 8601 date-time, e.g. 2025-08-01T23:59:59Z)")
	case !okTo:
		v.Add("to", "must be an ISO 8601 date-time, e.g. 2025-08-01T23:59:59Z")
	}
	if okFrom && okTo {
		v.Check(!to.Before(from), "to", "must not be before from")
		v.Check(to.Sub(from) <= maxWindow, "to", "must be at most 366 days after from")
	}
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	open := []string{}
	for _, s := range store.AppointmentStatuses {
		if s != store.StatusCancelled && s != store.StatusNoShow {
			open = append(open, s)
		}
	}
	ctx := r.Context()
	out := []instrumentPatient{}
	patients := map[int64]*store.Patient{}
	rooms := map[int64]*store.WaitingRoom{}
	// to is inclusive, the filter's end exclusive.
	f := store.AppointmentFilter{From: from, To: to.Add(time.Second), Statuses: open, Limit: 1000}
	for {
		rows, total, err := h.store.Appointments(ctx, c.OrgID, f)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, a := range rows {
			p, ok := patients[a.PatientID]
			if !ok {
				if p, err = h.store.Patient(ctx, c.OrgID, a.PatientID); err != nil {
					h.fail(w, r, fmt.Errorf("appointment %d: %w", a.ID, err))
					return
				}
				patients[a.PatientID] = p
				h.store.AuditRead(ctx, c.OrgID, "patient", fmt.Sprint(p.ID), p.ID)
			}
			room, ok := rooms[a.WaitingRoomID]
			if !ok {
				if room, err = h.store.WaitingRoom(ctx, c.OrgID, a.WaitingRoomID); err != nil {
					h.fail(w, r, fmt.Errorf("appointment %d: %w", a.ID, err))
					return
				}
				rooms[a.WaitingRoomID] = room
			}
			typ := room.ServiceType
			if len(a.Reasons) > 0 {
				typ = a.Reasons[0]
			}
			out = append(out, instrumentPatient{
				PatientID:           p.UUID,
				AppointmentStart:    a.Start.UTC().Format("2006-01-02T15:04:05.000Z"),
				CalendarName:        a.WaitingRoomName,
				EmployeeName:        a.ProviderName,
				AppointmentTypeName: typ,
				CPR:                 p.NationalID,
				FirstName:           p.FirstName(),
				LastName:            p.LastName(),
				Birthdate:           p.BirthDate,
				Gender:              p.Gender,
			})
		}
		f.Offset += len(rows)
		if len(rows) == 0 || f.Offset >= total {
			break
		}
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"data": out})
}
