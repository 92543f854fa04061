package telehealth

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// appointmentInput is the body of POST .../appointments and of
// PUT /appointments/{id}. Pointers tell which fields the client sent.
type appointmentInput struct {
	Date            *int64    `json:"date"`
	Reasons         *[]string `json:"reasons" bound:"shortText"`
	Duration        *int      `json:"duration" range:"duration"`
	WaitingRoom     *string   `json:"waitingRoom"`
	ExternalID      *string   `json:"externalId" bound:"id"`
	EpisodeOfCareID *string   `json:"episodeOfCareId"`
	AccountNumber   *string   `json:"accountNumber"`
	Status          *string   `json:"status"` // PUT only: "cancelled"
}

// apply copies the fields the client sent (create and update alike); the
// waiting room, episode and status are resolved by the handlers.
func (in *appointmentInput) apply(a *store.Appointment) {
	if in.Date != nil {
		a.Start = time.Unix(*in.Date, 0)
	}
	if in.Duration != nil {
		a.Duration = *in.Duration
	}
	if in.Reasons != nil {
		a.Reasons = *in.Reasons
	}
	if in.ExternalID != nil {
		a.ExternalID = *in.ExternalID
	}
	if in.AccountNumber != nil {
		a.AccountNumber = *in.AccountNumber
	}
}

func (in *appointmentInput) check(v *store.Validator) {
	if in.Duration != nil && (*in.Duration < 1 || *in.Duration > 86400) {
		v.Add("duration", "must be in range [1, 86400]")
	}
	if in.Date != nil && *in.Date <= 0 {
		v.Add("date", "must be a unix timestamp")
	}
}

// appointmentLink is the answer to creating or updating an appointment.
type appointmentLink struct {
	ID       int64  `json:"id"`
	VisitURL string `json:"visitUrl"`
}

// visitURL is the link a visit token opens.
func (h *Handler) visitURL(token string) string {
	return strings.TrimRight(h.publicURL, "/") + "/visit/" + token
}

// createAppointment: POST /qapi/v1/patients/{patient_id}/appointments.
func (h *Handler) createAppointment(w http.ResponseWriter, r *http.Request) { h.postAppointment(w, r) }

// createAppointmentByHSID: POST /qapi/v1/patients/HSID/{hsid}/appointments.
func (h *Handler) createAppointmentByHSID(w http.ResponseWriter, r *http.Request) {
	h.postAppointment(w, r)
}

// createAppointmentBySPID: POST /qapi/v1/patients/id/type/SPID/value/{solo_patient_id}/appointments.
func (h *Handler) createAppointmentBySPID(w http.ResponseWriter, r *http.Request) {
	h.postAppointment(w, r)
}

func (h *Handler) postAppointment(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), orgID(r)
	var in appointmentInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	var v store.Validator
	in.check(&v)
	if in.WaitingRoom == nil || strings.TrimSpace(*in.WaitingRoom) == "" {
		v.Add("waitingRoom", "is required")
	}
	if in.Status != nil {
		v.Add("status", "cannot be set when creating an appointment")
	}
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.patientFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	room, err := h.store.WaitingRoomByName(ctx, org, strings.TrimSpace(*in.WaitingRoom))
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, store.Invalid("waitingRoom", fmt.Sprintf("there is no waiting room named %q", *in.WaitingRoom)))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a := &store.Appointment{PatientID: p.ID, WaitingRoomID: room.ID}
	if in.EpisodeOfCareID != nil && *in.EpisodeOfCareID != "" {
		ep, err := h.store.Episode(ctx, org, *in.EpisodeOfCareID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && ep.PatientID != p.ID) {
			h.fail(w, r, store.Invalid("episodeOfCareId", "is not an episode of care of this patient"))
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		a.EpisodeID = ep.ID
	}
	in.apply(a)
	if err := h.store.CreateAppointment(ctx, org, a); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/qapi/v1/appointments/"+strconv.FormatInt(a.ID, 10))
	httpx.JSON(w, http.StatusCreated, appointmentLink{ID: a.ID, VisitURL: h.visitURL(a.PatientToken)})
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// appointmentFromPath finds the appointment named by {appointment_id} or
// {appointmentId}: its integer id (SAID), or its uuid (the "aggregate id"
// the attachment endpoints mention). Anything else is a 404.
func (h *Handler) appointmentFromPath(r *http.Request) (*store.Appointment, error) {
	id := r.PathValue("appointment_id")
	if id == "" {
		id = r.PathValue("appointmentId")
	}
	if id == "" {
		id = r.PathValue("solo_appointment_id")
	}
	var a *store.Appointment
	var err error
	if n, perr := strconv.ParseInt(id, 10, 64); perr == nil && n > 0 {
		a, err = h.store.Appointment(r.Context(), orgID(r), n)
	} else if uuidRE.MatchString(id) && r.PathValue("solo_appointment_id") == "" {
		a, err = h.store.AppointmentBy(r.Context(), orgID(r), store.ApptByUUID, strings.ToLower(id))
	} else {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("Appointment")
	}
	return a, err
}

type videoCallJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type providerJSON struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	FirstName  string `json:"firstName"`
	MiddleName string `json:"middleName"`
	LastName   string `json:"lastName"`
}

type appointmentPatientJSON struct {
	ID           string      `json:"id"`
	Demographics patientJSON `json:"demographics"`
}

type appointmentJSON struct {
	ID         int64                  `json:"id"`
	Date       int64                  `json:"date"`
	Duration   int                    `json:"duration"`
	Reasons    []string               `json:"reasons"`
	Status     string                 `json:"status"`
	VideoCall  *videoCallJSON         `json:"videoCall"`
	ExternalID *string                `json:"externalId"`
	Patient    appointmentPatientJSON `json:"patient"`
	Providers  []providerJSON         `json:"providers"`
}

// splitName turns a user's full name into first, middle and last names.
func splitName(full string) (first, middle, last string) {
	parts := strings.Fields(full)
	switch len(parts) {
	case 0:
		return "", "", ""
	case 1:
		return parts[0], "", ""
	}
	return parts[0], strings.Join(parts[1:len(parts)-1], " "), parts[len(parts)-1]
}

// getAppointment: GET /qapi/v1/appointments/{appointment_id}.
func (h *Handler) getAppointment(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), orgID(r)
	a, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.store.Patient(ctx, org, a.PatientID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := appointmentJSON{
		ID: a.ID, Date: a.Start.Unix(), Duration: a.Duration, Reasons: nonNil(a.Reasons), Status: a.Status,
		ExternalID: strOrNil(a.ExternalID), Providers: []providerJSON{},
		Patient: appointmentPatientJSON{ID: patientPublicID(p), Demographics: toPatientJSON(p)},
	}
	if a.VideoStatus != "" {
		out.VideoCall = &videoCallJSON{ID: a.VideoCallID, Status: a.VideoStatus}
	}
	if a.ProviderID > 0 {
		u, err := h.store.User(ctx, org, a.ProviderID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.fail(w, r, err)
			return
		}
		if u != nil {
			first, middle, last := splitName(u.Name)
			out.Providers = append(out.Providers, providerJSON{ID: strconv.FormatInt(u.ID, 10), Email: u.Email,
				FirstName: first, MiddleName: middle, LastName: last})
		}
	}
	h.store.AuditRead(ctx, org, "appointment", fmt.Sprint(a.ID), a.PatientID)
	httpx.JSON(w, http.StatusOK, out)
}

// patientPublicID is the patient id the API shows: the client's own id,
// or the SPID for patients created elsewhere (pages, HL7).
func patientPublicID(p *store.Patient) string {
	if p.ExternalID != "" {
		return p.ExternalID
	}
	return strconv.FormatInt(p.ID, 10)
}

// updateAppointment: PUT /qapi/v1/appointments/{appointment_id}. The only
// status a client may set is "cancelled".
func (h *Handler) updateAppointment(w http.ResponseWriter, r *http.Request) {
	var in appointmentInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	var v store.Validator
	in.check(&v)
	if in.Status != nil && *in.Status != store.StatusCancelled {
		v.Add("status", `only "cancelled" may be set`)
	}
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	cur, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.store.UpdateAppointment(r.Context(), orgID(r), cur.ID, func(a *store.Appointment) error {
		if in.Status != nil && a.Status != store.StatusCancelled {
			if !a.Open() {
				return store.Conflict(fmt.Sprintf("the appointment is %s and can no longer be cancelled", a.Status))
			}
			a.Status = store.StatusCancelled
		}
		in.apply(a)
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, appointmentLink{ID: a.ID, VisitURL: h.visitURL(a.PatientToken)})
}
