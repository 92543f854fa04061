package fhir

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// SystemAppointmentID is the system of the client's own appointment id.
const SystemAppointmentID = "urn:clinicbox:appointment-external-id"

// Appointment is the FHIR Appointment resource. In the model an appointment
// is also the visit: the same row is an Encounter (same id).
type Appointment struct {
	ResourceType    string                   `json:"resourceType"`
	ID              string                   `json:"id,omitempty"`
	Meta            *Meta                    `json:"meta,omitempty"`
	Identifier      []Identifier             `json:"identifier,omitempty"`
	Status          string                   `json:"status"`
	ServiceType     []CodeableConcept        `json:"serviceType,omitempty"`
	ReasonCode      []CodeableConcept        `json:"reasonCode,omitempty"`
	Start           string                   `json:"start,omitempty"`
	End             string                   `json:"end,omitempty"`
	MinutesDuration int                      `json:"minutesDuration,omitempty"`
	Created         string                   `json:"created,omitempty"`
	Participant     []AppointmentParticipant `json:"participant"`
}

// AppointmentParticipant is who takes part.
type AppointmentParticipant struct {
	Actor  *Reference `json:"actor,omitempty"`
	Status string     `json:"status"`
}

func (a *Appointment) fhirType() string { return "Appointment" }
func (a *Appointment) fhirID() string   { return a.ID }

// appointmentStatus maps the model's visit status to Appointment.status.
func appointmentStatus(s string) string {
	switch s {
	case store.StatusScheduled:
		return "booked"
	case store.StatusArrived:
		return "arrived"
	case store.StatusCompleted, store.StatusSignOff:
		return "fulfilled"
	case store.StatusCancelled:
		return "cancelled"
	case store.StatusNoShow:
		return "noshow"
	}
	return "checked-in" // in progress, discharge
}

// storedAppointmentStatuses is every model status an Appointment status
// stands for.
func storedAppointmentStatuses(fhir string, toFHIR func(string) string) []string {
	var out []string
	for _, s := range store.AppointmentStatuses {
		if toFHIR(s) == fhir {
			out = append(out, s)
		}
	}
	return out
}

var appointmentStatuses = []string{"booked", "arrived", "checked-in", "fulfilled", "cancelled", "noshow"}

func (h *Handler) toAppointment(a *store.AppointmentRef) *Appointment {
	out := &Appointment{ResourceType: "Appointment", ID: a.UUID, Meta: &Meta{LastUpdated: instant(a.UpdatedAt)},
		Status: appointmentStatus(a.Status), Start: instant(a.Start), End: instant(a.End()),
		MinutesDuration: (a.Duration + 59) / 60, Created: instant(a.CreatedAt)}
	if a.ExternalID != "" {
		out.Identifier = []Identifier{{System: SystemAppointmentID, Value: a.ExternalID}}
	}
	for _, reason := range a.Reasons {
		if reason != "" {
			out.ReasonCode = append(out.ReasonCode, CodeableConcept{Text: reason})
		}
	}
	out.Participant = []AppointmentParticipant{
		{Actor: &Reference{Reference: "Patient/" + a.PatientUUID, Display: a.PatientName}, Status: "accepted"},
		{Actor: &Reference{Reference: "Location/" + a.WaitingRoomUUID, Display: a.WaitingRoomName}, Status: "accepted"},
	}
	if a.ProviderUUID != "" {
		out.Participant = append(out.Participant, AppointmentParticipant{
			Actor: &Reference{Reference: "Practitioner/" + a.ProviderUUID, Display: a.ProviderName}, Status: "accepted"})
	}
	return out
}

func (h *Handler) appointmentByID(r *http.Request, typ, id string) (*store.AppointmentRef, error) {
	rows, err := h.store.SearchAppointments(r.Context(), orgID(r), store.AppointmentSearch{UUIDs: []string{id}, Page: store.Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, notFound(typ, id)
	}
	return &rows[0], nil
}

func (h *Handler) readAppointment(w http.ResponseWriter, r *http.Request) {
	a, err := h.appointmentByID(r, "Appointment", r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), a.OrgID, "appointment", strconv.FormatInt(a.ID, 10), a.PatientID)
	writeResource(w, http.StatusOK, h.toAppointment(a))
}

// appointmentSearch reads the parameters Appointment and Encounter share.
func (h *Handler) appointmentSearch(r *http.Request, q *query, typ string, toFHIR func(string) string, valid []string) (f store.AppointmentSearch, found bool, p store.Page, err error) {
	if f.UUIDs, err = q.ids(); err != nil {
		return
	}
	names := []string{"patient"}
	if typ == "Encounter" {
		names = append(names, "subject")
	}
	if f.PatientID, found, err = h.subject(r, q, names...); err != nil {
		return
	}
	if f.Start, err = q.dates("date"); err != nil {
		return
	}
	statuses, err := q.or("status")
	if err != nil {
		return
	}
	for _, s := range statuses {
		if !slices.Contains(valid, s) {
			err = invalidParam("status", "must be one of %s", strings.Join(valid, ", "))
			return
		}
		f.Statuses = append(f.Statuses, storedAppointmentStatuses(s, toFHIR)...)
	}
	if len(statuses) > 0 && len(f.Statuses) == 0 {
		found = false
	}
	if f.SortDate, err = q.sortDate(true); err != nil {
		return
	}
	if p, err = q.page(); err != nil {
		return
	}
	f.Page = fetch(p)
	return
}

func (h *Handler) searchAppointment(w http.ResponseWriter, r *http.Request) {
	q, err := newQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, found, p, err := h.appointmentSearch(r, q, "Appointment", appointmentStatus, appointmentStatuses)
	if err == nil {
		var ok bool
		ok, err = h.appointmentActors(r, q, &f)
		found = found && ok
	}
	if err == nil {
		var ids []string
		if ids, err = q.or("identifier"); err == nil {
			for _, v := range ids {
				t := parseToken(v)
				if t.HasSystem && t.System != "" && t.System != SystemAppointmentID {
					found = false
				}
				f.ExternalIDs = append(f.ExternalIDs, t.Code)
			}
		}
	}
	if err == nil {
		err = q.check(typeOf(r))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var rows []store.AppointmentRef
	if found {
		if rows, err = h.store.SearchAppointments(r.Context(), orgID(r), f); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	rows, more := trim(rows, p)
	matches := make([]resource, len(rows))
	for i := range rows {
		h.store.AuditRead(r.Context(), rows[i].OrgID, "appointment", strconv.FormatInt(rows[i].ID, 10), rows[i].PatientID)
		matches[i] = h.toAppointment(&rows[i])
	}
	h.searchset(w, r, q, p, matches, more, nil)
}

// appointmentActors reads actor=Patient/x|Practitioner/y|Location/z.
func (h *Handler) appointmentActors(r *http.Request, q *query, f *store.AppointmentSearch) (bool, error) {
	actors, err := q.or("actor")
	if err != nil || len(actors) == 0 {
		return true, err
	}
	if len(actors) > 1 {
		return false, invalidParam("actor", "name one actor")
	}
	typ, id, ok := strings.Cut(actors[0], "/")
	if !ok {
		return false, invalidParam("actor", "must be Patient/id, Practitioner/id or Location/id")
	}
	switch typ {
	case "Patient":
		ids, err := h.patientIDs(r, []string{id})
		if err != nil || len(ids) == 0 {
			return false, err
		}
		if f.PatientID > 0 && f.PatientID != ids[0] {
			return false, nil
		}
		f.PatientID = ids[0]
	case "Practitioner":
		u, err := h.userByUUID(r, id)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		f.ProviderID = u.ID
	case "Location":
		room, err := h.store.WaitingRoomByUUID(r.Context(), orgID(r), id)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		f.WaitingRoomID = room.ID
	default:
		return false, invalidParam("actor", "must be Patient/id, Practitioner/id or Location/id")
	}
	return true, nil
}

// userByUUID finds one of the organisation's users.
func (h *Handler) userByUUID(r *http.Request, id string) (*store.User, error) {
	us, err := h.store.Users(r.Context(), orgID(r))
	if err != nil {
		return nil, err
	}
	for i := range us {
		if us[i].UUID == id {
			return &us[i], nil
		}
	}
	return nil, store.ErrNotFound
}

// check refuses a search with a parameter no one read.
func (q *query) check(typ string) error {
	if name := q.unread(); name != "" {
		return errorf(http.StatusBadRequest, "not-supported", "search parameter %s is not supported on %s; see %s/metadata", name, typ, Base)
	}
	return nil
}

// applyAppointment sets the model's fields from an Appointment resource.
func (h *Handler) applyAppointment(r *http.Request, in *Appointment, a *store.Appointment, creating bool) error {
	var v store.Validator
	var patient, room, provider string
	for i, p := range in.Participant {
		if p.Actor == nil {
			continue
		}
		typ, id, _ := strings.Cut(p.Actor.Reference, "/")
		switch typ {
		case "Patient":
			patient = id
		case "Location":
			room = id
		case "Practitioner":
			provider = id
		default:
			v.Add("participant["+strconv.Itoa(i)+"].actor", "must reference a Patient, Location (waiting room) or Practitioner")
		}
	}
	if patient == "" {
		v.Add("participant", "must include the Patient")
	} else if p, err := h.store.PatientBy(r.Context(), orgID(r), store.ByUUID, patient); err == nil {
		if !creating && p.ID != a.PatientID {
			v.Add("participant", "the appointment's patient cannot change")
		}
		a.PatientID = p.ID
	} else if errors.Is(err, store.ErrNotFound) {
		v.Add("participant", "Patient/"+patient+" is not known")
	} else {
		return err
	}
	if room == "" {
		v.Add("participant", "must include the Location (waiting room)")
	} else if w, err := h.store.WaitingRoomByUUID(r.Context(), orgID(r), room); err == nil {
		a.WaitingRoomID = w.ID
	} else if errors.Is(err, store.ErrNotFound) {
		v.Add("participant", "Location/"+room+" is not known")
	} else {
		return err
	}
	a.ProviderID = 0
	if provider != "" {
		u, err := h.userByUUID(r, provider)
		if errors.Is(err, store.ErrNotFound) {
			v.Add("participant", "Practitioner/"+provider+" is not known")
		} else if err != nil {
			return err
		} else {
			a.ProviderID = u.ID
		}
	}
	start, err := time.Parse(time.RFC3339, in.Start)
	if err != nil {
		v.Add("start", "is required: an instant such as 2026-03-01T09:00:00Z")
	}
	a.Start = start
	switch {
	case in.End != "":
		end, err := time.Parse(time.RFC3339, in.End)
		if err != nil || !end.After(start) {
			v.Add("end", "must be an instant after start")
		}
		a.Duration = int(end.Sub(start).Seconds())
	case in.MinutesDuration > 0:
		a.Duration = in.MinutesDuration * 60
	case creating:
		a.Duration = 0 // the waiting room's slot length
	}
	switch in.Status {
	case "booked", "proposed", "pending":
		if creating || a.Status == store.StatusCancelled {
			a.Status = store.StatusScheduled
		}
	case "arrived":
		a.Status = store.StatusArrived
	case "cancelled":
		a.Status = store.StatusCancelled
	case "noshow":
		a.Status = store.StatusNoShow
	case "fulfilled":
		a.Status = store.StatusCompleted
	case "checked-in":
		if creating || appointmentStatus(a.Status) != "checked-in" {
			v.Add("status", "checked-in is set by the clinic as the visit goes on")
		}
	default:
		v.Add("status", "must be one of booked, proposed, pending, arrived, fulfilled, cancelled, noshow")
	}
	a.Reasons = nil
	for _, rc := range in.ReasonCode {
		if rc.Text != "" {
			a.Reasons = append(a.Reasons, rc.Text)
		} else if len(rc.Coding) > 0 {
			a.Reasons = append(a.Reasons, rc.Coding[0].Display)
		}
	}
	a.ExternalID = ""
	for _, id := range in.Identifier {
		if id.System == SystemAppointmentID {
			a.ExternalID = id.Value
		} else {
			v.Add("identifier", "only "+SystemAppointmentID+" (the client's appointment id) is kept")
		}
	}
	return v.Err()
}

func (h *Handler) createAppointment(w http.ResponseWriter, r *http.Request) {
	var in Appointment
	if err := decodeResource(w, r, &in, "Appointment"); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.ID != "" {
		h.fail(w, r, errorf(http.StatusBadRequest, "invalid", "a created resource gets its id from the server: leave id out"))
		return
	}
	var a store.Appointment
	if err := h.applyAppointment(r, &in, &a, true); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.CreateAppointment(r.Context(), orgID(r), &a); err != nil {
		h.fail(w, r, err)
		return
	}
	ref, err := h.appointmentByID(r, "Appointment", a.UUID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.url("Appointment", a.UUID))
	writeResource(w, http.StatusCreated, h.toAppointment(ref))
}

func (h *Handler) updateAppointment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in Appointment
	if err := decodeResource(w, r, &in, "Appointment"); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.ID != id {
		h.fail(w, r, errorf(http.StatusBadRequest, "invalid", "the resource's id (%q) must be the id in the URL (%q)", in.ID, id))
		return
	}
	cur, err := h.appointmentByID(r, "Appointment", id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// References are resolved before the write: the change function runs
	// inside the store's transaction.
	next := cur.Appointment
	if err := h.applyAppointment(r, &in, &next, false); err != nil {
		h.fail(w, r, err)
		return
	}
	_, err = h.store.UpdateAppointment(r.Context(), orgID(r), cur.ID, func(a *store.Appointment) error {
		a.WaitingRoomID, a.ProviderID, a.Start, a.Duration = next.WaitingRoomID, next.ProviderID, next.Start, next.Duration
		a.Status, a.Reasons, a.ExternalID = next.Status, next.Reasons, next.ExternalID
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ref, err := h.appointmentByID(r, "Appointment", id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, h.toAppointment(ref))
}
