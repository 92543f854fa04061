package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// apptForm is the appointment form as typed, so a rejected form comes back
// exactly as it was sent, with a message next to each bad field.
type apptForm struct {
	PatientID   int64
	PatientName string
	Query       string
	Results     []store.Patient
	Searched    bool
	RoomID      string
	Date        string
	Time        string
	Duration    string // minutes; empty = the room's slot
	Reasons     string // one per line
	ProviderID  string
	Errors      layout.Errors
	Warnings    []string // scheduling warnings to confirm before saving
}

type apptFormProps struct {
	Page      layout.PageProps
	Form      apptForm
	Rooms     []store.WaitingRoom
	Providers []store.User
	EditID    int64 // 0 when booking a new appointment
	Status    string
	TZ        string
}

type apptDay struct {
	Room  store.WaitingRoom
	Appts []store.AppointmentRow
}

type apptListProps struct {
	Page   layout.PageProps
	Date   string
	Prev   string
	Next   string
	RoomID int64
	Rooms  []store.WaitingRoom
	Days   []apptDay
	Total  int
}

func (h *handlers) appointments(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgID := user(r).OrgID
	rooms, err := h.st.WaitingRooms(ctx, orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	loc := clinicLocation(rooms)
	q := r.URL.Query()
	day := q.Get("date")
	if _, ok := parseDay(day, loc); !ok {
		day = h.st.Now().In(loc).Format("2006-01-02")
	}
	roomID, _ := strconv.ParseInt(q.Get("room"), 10, 64)
	d, _ := parseDay(day, loc)
	p := apptListProps{Date: day, RoomID: roomID, Rooms: rooms,
		Prev: d.AddDate(0, 0, -1).Format("2006-01-02"), Next: d.AddDate(0, 0, 1).Format("2006-01-02")}
	for _, room := range rooms {
		if roomID != 0 && room.ID != roomID {
			continue
		}
		from, to := dayRange(day, room.Location())
		list, _, err := h.st.Appointments(ctx, orgID, store.AppointmentFilter{WaitingRoomID: room.ID, From: from, To: to, Limit: 1000})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p.Total += len(list)
		p.Days = append(p.Days, apptDay{Room: room, Appts: list})
	}
	h.st.AuditRead(ctx, orgID, "appointment-list", day, 0)
	p.Page = h.props(w, r, text.T(r.Context()).AppointmentsTitle, layout.NavAppointments)
	h.render(w, r, http.StatusOK, appointmentsPage(p))
}

// formOptions loads the rooms and providers a form offers.
func (h *handlers) formOptions(r *http.Request, p *apptFormProps) error {
	orgID := user(r).OrgID
	rooms, err := h.st.WaitingRooms(r.Context(), orgID)
	if err != nil {
		return err
	}
	users, err := h.st.Users(r.Context(), orgID)
	if err != nil {
		return err
	}
	p.Rooms = rooms
	for _, u := range users {
		if u.Active && u.Role != store.RoleFrontDesk {
			p.Providers = append(p.Providers, u)
		}
	}
	p.TZ = clinicLocation(rooms).String()
	if id, err := strconv.ParseInt(p.Form.RoomID, 10, 64); err == nil {
		for _, room := range rooms {
			if room.ID == id {
				p.TZ = room.Timezone
			}
		}
	}
	return nil
}

func (h *handlers) newAppointmentForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgID := user(r).OrgID
	q := r.URL.Query()
	p := apptFormProps{Form: apptForm{Query: strings.TrimSpace(q.Get("q")), RoomID: q.Get("room"), Date: q.Get("date")}}
	if err := h.formOptions(r, &p); err != nil {
		h.fail(w, r, err)
		return
	}
	if p.Form.RoomID == "" {
		for _, room := range p.Rooms {
			if room.Active {
				p.Form.RoomID = itoa(room.ID)
				p.TZ = room.Timezone
				break
			}
		}
	}
	loc := time.Local
	if tz, err := time.LoadLocation(p.TZ); err == nil {
		loc = tz
	}
	now := h.st.Now().In(loc)
	if _, ok := parseDay(p.Form.Date, loc); !ok {
		p.Form.Date = now.Format("2006-01-02")
	}
	p.Form.Time = now.Truncate(5 * time.Minute).Format("15:04")
	if id, _ := strconv.ParseInt(q.Get("patient"), 10, 64); id > 0 {
		pat, err := h.st.Patient(ctx, orgID, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.fail(w, r, err)
			return
		}
		if pat != nil {
			h.st.AuditRead(ctx, orgID, "patient", itoa(pat.ID), pat.ID)
			p.Form.PatientID, p.Form.PatientName = pat.ID, patientLabel(ctx, pat)
		}
	}
	if p.Form.Query != "" {
		res, _, err := h.st.Patients(ctx, orgID, store.PatientFilter{Query: p.Form.Query, Limit: 10})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p.Form.Results, p.Form.Searched = res, true
	}
	p.Page = h.props(w, r, text.T(r.Context()).NewAppointment, layout.NavAppointments)
	h.render(w, r, http.StatusOK, appointmentFormPage(p))
}

func patientLabel(ctx context.Context, p *store.Patient) string {
	l := p.DisplayName()
	if p.BirthDate != "" {
		l += " · " + p.BirthDate
	}
	if p.MRN != "" {
		l += " · " + text.T(ctx).MRN + " " + p.MRN
	}
	return l
}

// readApptForm parses the posted form; errs holds what cannot be parsed.
func (h *handlers) readApptForm(r *http.Request, rooms []store.WaitingRoom, f *apptForm) (room *store.WaitingRoom, start time.Time, dur int, reasons []string, provider int64) {
	pf := r.PostForm
	f.Errors = layout.Errors{}
	f.RoomID, f.Date, f.Time = pf.Get("waitingRoom"), strings.TrimSpace(pf.Get("date")), strings.TrimSpace(pf.Get("time"))
	f.Duration, f.Reasons, f.ProviderID = strings.TrimSpace(pf.Get("duration")), pf.Get("reasons"), pf.Get("provider")
	if id, err := strconv.ParseInt(f.RoomID, 10, 64); err == nil {
		for i := range rooms {
			if rooms[i].ID == id {
				room = &rooms[i]
			}
		}
	}
	if room == nil {
		f.Errors["waitingRoom"] = text.T(r.Context()).RoomRequired
	}
	loc := time.Local
	if room != nil {
		loc = room.Location()
	}
	d, okDate := parseDay(f.Date, loc)
	if !okDate {
		f.Errors["date"] = text.T(r.Context()).DateInvalid
	}
	tm, err := time.Parse("15:04", f.Time)
	if err != nil {
		f.Errors["time"] = text.T(r.Context()).TimeInvalid
	} else if okDate {
		start = time.Date(d.Year(), d.Month(), d.Day(), tm.Hour(), tm.Minute(), 0, 0, loc)
	}
	if f.Duration != "" {
		m, err := strconv.Atoi(f.Duration)
		if err != nil || m < 1 || m > 1440 {
			f.Errors["duration"] = text.T(r.Context()).DurationInvalid
		}
		dur = m * 60
	} else if room != nil {
		dur = room.SlotDuration
	}
	for _, line := range strings.Split(f.Reasons, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			reasons = append(reasons, line)
		}
	}
	provider, _ = strconv.ParseInt(f.ProviderID, 10, 64)
	return room, start, dur, reasons, provider
}

func (h *handlers) createAppointment(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	ctx := r.Context()
	orgID := user(r).OrgID
	p := apptFormProps{}
	if err := h.formOptions(r, &p); err != nil {
		h.fail(w, r, err)
		return
	}
	room, start, dur, reasons, provider := h.readApptForm(r, p.Rooms, &p.Form)
	p.Form.PatientID, _ = strconv.ParseInt(r.PostForm.Get("patient"), 10, 64)
	if p.Form.PatientID > 0 {
		pat, err := h.st.Patient(ctx, orgID, p.Form.PatientID)
		if err == nil {
			p.Form.PatientName = patientLabel(ctx, pat)
		} else if !errors.Is(err, store.ErrNotFound) {
			h.fail(w, r, err)
			return
		}
	}
	if p.Form.PatientName == "" {
		p.Form.PatientID = 0
		p.Form.Errors["patient"] = text.T(r.Context()).PatientRequired
	}
	if len(p.Form.Errors) == 0 && r.PostForm.Get("confirmWarnings") != "yes" {
		warns, err := h.scheduleWarnings(ctx, orgID, room, start, dur, provider, 0)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(warns) > 0 {
			p.Form.Warnings = warns
			p.TZ = room.Timezone
			p.Page = h.props(w, r, text.T(ctx).NewAppointment, layout.NavAppointments)
			h.render(w, r, http.StatusOK, appointmentFormPage(p))
			return
		}
	}
	if len(p.Form.Errors) == 0 {
		a := &store.Appointment{PatientID: p.Form.PatientID, WaitingRoomID: room.ID, ProviderID: provider,
			Start: start, Duration: dur, Reasons: reasons}
		err := h.st.CreateAppointment(ctx, orgID, a)
		if err == nil {
			layout.SetFlash(w, layout.FlashOK, text.T(r.Context()).AppointmentCreated)
			loc := room.Location()
			redirect(w, r, "/board?date="+a.Start.In(loc).Format("2006-01-02"))
			return
		}
		fe := layout.LocalErrors(ctx, err)
		if fe == nil {
			h.fail(w, r, err)
			return
		}
		for k, v := range fe {
			p.Form.Errors[k] = v
		}
	}
	if room != nil {
		p.TZ = room.Timezone
	}
	p.Page = h.props(w, r, text.T(r.Context()).NewAppointment, layout.NavAppointments)
	h.render(w, r, http.StatusUnprocessableEntity, appointmentFormPage(p))
}

func (h *handlers) editAppointmentForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgID := user(r).OrgID
	a, err := h.st.Appointment(ctx, orgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := apptFormProps{EditID: a.ID, Status: a.Status, Form: apptForm{RoomID: itoa(a.WaitingRoomID)}}
	if err := h.formOptions(r, &p); err != nil {
		h.fail(w, r, err)
		return
	}
	loc := time.Local
	if tz, err := time.LoadLocation(p.TZ); err == nil {
		loc = tz
	}
	pat, err := h.st.Patient(ctx, orgID, a.PatientID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.st.AuditRead(ctx, orgID, "appointment", itoa(a.ID), a.PatientID)
	p.Form.PatientID, p.Form.PatientName = pat.ID, patientLabel(ctx, pat)
	p.Form.Date, p.Form.Time = a.Start.In(loc).Format("2006-01-02"), a.Start.In(loc).Format("15:04")
	p.Form.Duration = strconv.Itoa(a.Duration / 60)
	p.Form.Reasons = strings.Join(a.Reasons, "\n")
	if a.ProviderID != 0 {
		p.Form.ProviderID = itoa(a.ProviderID)
	}
	p.Page = h.props(w, r, text.T(r.Context()).EditAppointment, layout.NavAppointments)
	h.render(w, r, http.StatusOK, appointmentFormPage(p))
}

func (h *handlers) updateAppointment(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	ctx := r.Context()
	orgID := user(r).OrgID
	old, err := h.st.Appointment(ctx, orgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := apptFormProps{EditID: old.ID, Status: old.Status}
	if err := h.formOptions(r, &p); err != nil {
		h.fail(w, r, err)
		return
	}
	room, start, dur, reasons, provider := h.readApptForm(r, p.Rooms, &p.Form)
	if pat, err := h.st.Patient(ctx, orgID, old.PatientID); err == nil {
		p.Form.PatientID, p.Form.PatientName = pat.ID, patientLabel(ctx, pat)
	}
	if len(p.Form.Errors) == 0 && r.PostForm.Get("confirmWarnings") != "yes" &&
		(!start.Equal(old.Start) || dur != old.Duration || room.ID != old.WaitingRoomID || provider != old.ProviderID) {
		warns, err := h.scheduleWarnings(ctx, orgID, room, start, dur, provider, old.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(warns) > 0 {
			p.Form.Warnings = warns
			p.TZ = room.Timezone
			p.Page = h.props(w, r, text.T(ctx).EditAppointment, layout.NavAppointments)
			h.render(w, r, http.StatusOK, appointmentFormPage(p))
			return
		}
	}
	if len(p.Form.Errors) == 0 {
		a, err := h.st.UpdateAppointment(ctx, orgID, old.ID, func(a *store.Appointment) error {
			a.WaitingRoomID, a.Start, a.Duration, a.Reasons, a.ProviderID = room.ID, start, dur, reasons, provider
			return nil
		})
		if err == nil {
			layout.SetFlash(w, layout.FlashOK, text.T(r.Context()).AppointmentSaved)
			redirect(w, r, "/board?date="+a.Start.In(room.Location()).Format("2006-01-02"))
			return
		}
		fe := layout.LocalErrors(ctx, err)
		if fe == nil {
			h.fail(w, r, err)
			return
		}
		for k, v := range fe {
			p.Form.Errors[k] = v
		}
	}
	if room != nil {
		p.TZ = room.Timezone
	}
	p.Page = h.props(w, r, text.T(r.Context()).EditAppointment, layout.NavAppointments)
	h.render(w, r, http.StatusUnprocessableEntity, appointmentFormPage(p))
}

func apptListURL(date string, room int64) string {
	v := url.Values{"date": {date}}
	if room != 0 {
		v.Set("room", itoa(room))
	}
	return "/appointments?" + v.Encode()
}
