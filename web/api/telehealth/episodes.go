package telehealth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// episodeInput is the body of POST and PUT episode. Pointers tell which
// fields the client sent: on PUT only those change.
type episodeInput struct {
	Name             *string `json:"name" bound:"label"`
	Type             *string `json:"type" bound:"shortID"`
	From             *string `json:"from" format:"date"`
	To               *string `json:"to" format:"date"`
	Status           *string `json:"status" enum:"episodeStatus"`
	Objective        *string `json:"objective" bound:"paragraph"`
	ReasonIncomplete *string `json:"reasonIncomplete" bound:"paragraph"`
}

func (in *episodeInput) apply(e *store.Episode) {
	for _, f := range []struct {
		dst *string
		src *string
	}{{&e.Name, in.Name}, {&e.Type, in.Type}, {&e.From, in.From}, {&e.To, in.To}, {&e.Status, in.Status},
		{&e.Objective, in.Objective}, {&e.ReasonIncomplete, in.ReasonIncomplete}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
}

// episodeListJSON is an element of GET /patients/{patient_id}/episodes.
type episodeListJSON struct {
	ID               string  `json:"id"`
	PatientID        string  `json:"patientId"`
	Name             string  `json:"name"`
	From             string  `json:"from"`
	To               *string `json:"to"`
	Type             string  `json:"type"`
	Status           string  `json:"status"`
	Objective        string  `json:"objective"`
	ReasonIncomplete string  `json:"reasonIncomplete"`
}

// episodeJSON is GET /episodes/{episode_id}.
type episodeJSON struct {
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	From              string  `json:"from"`
	To                *string `json:"to"`
	Type              string  `json:"type"`
	Status            string  `json:"status"`
	Objective         string  `json:"objective"`
	ReasonIncomplete  string  `json:"reasonIncomplete"`
	SoloPatientID     int64   `json:"soloPatientId"`
	ExternalPatientID *string `json:"externalPatientId"`
}

func toEpisodeJSON(e *store.Episode, p *store.Patient) episodeJSON {
	return episodeJSON{ID: e.UUID, Name: e.Name, From: e.From, To: strOrNil(e.To), Type: e.Type, Status: e.Status,
		Objective: e.Objective, ReasonIncomplete: e.ReasonIncomplete, SoloPatientID: e.PatientID,
		ExternalPatientID: strOrNil(p.ExternalID)}
}

// createEpisode: POST /qapi/v1/patients/{patient_id}/episodes → 201 {"episodeId": "..."}.
func (h *Handler) createEpisode(w http.ResponseWriter, r *http.Request) {
	var in episodeInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.patientFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	e := &store.Episode{PatientID: p.ID}
	in.apply(e)
	if err := h.store.CreateEpisode(r.Context(), orgID(r), e); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/qapi/v1/episodes/"+e.UUID)
	httpx.JSON(w, http.StatusCreated, map[string]string{"episodeId": e.UUID})
}

// listEpisodes: GET /qapi/v1/patients/{patient_id}/episodes.
func (h *Handler) listEpisodes(w http.ResponseWriter, r *http.Request) {
	p, err := h.patientFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	eps, err := h.store.Episodes(r.Context(), orgID(r), p.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		Episodes []episodeListJSON `json:"episodes"`
	}{Episodes: []episodeListJSON{}}
	for _, e := range eps {
		out.Episodes = append(out.Episodes, episodeListJSON{ID: e.UUID, PatientID: patientPublicID(p), Name: e.Name,
			From: e.From, To: strOrNil(e.To), Type: e.Type, Status: e.Status, Objective: e.Objective,
			ReasonIncomplete: e.ReasonIncomplete})
	}
	h.store.AuditRead(r.Context(), orgID(r), "episodes", fmt.Sprint(p.ID), p.ID)
	httpx.JSON(w, http.StatusOK, out)
}

// episodeFromPath finds {episode_id} and its patient.
func (h *Handler) episodeFromPath(r *http.Request) (*store.Episode, *store.Patient, error) {
	e, err := h.store.Episode(r.Context(), orgID(r), r.PathValue("episode_id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound("Episode")
	}
	if err != nil {
		return nil, nil, err
	}
	p, err := h.store.Patient(r.Context(), orgID(r), e.PatientID)
	if err != nil {
		return nil, nil, err
	}
	return e, p, nil
}

// getEpisode: GET /qapi/v1/episodes/{episode_id}.
func (h *Handler) getEpisode(w http.ResponseWriter, r *http.Request) {
	e, p, err := h.episodeFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), orgID(r), "episode", e.UUID, p.ID)
	httpx.JSON(w, http.StatusOK, toEpisodeJSON(e, p))
}

// updateEpisode: PUT /qapi/v1/episodes/{episode_id}. Only the fields sent
// change; answers 200 with the episode as GET shows it.
func (h *Handler) updateEpisode(w http.ResponseWriter, r *http.Request) {
	var in episodeInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	e, err := h.store.UpdateEpisode(r.Context(), orgID(r), r.PathValue("episode_id"), func(e *store.Episode) error {
		in.apply(e)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Episode")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.store.Patient(r.Context(), orgID(r), e.PatientID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toEpisodeJSON(e, p))
}

type episodeAppointmentJSON struct {
	AppointmentID   int64    `json:"appointmentId"`
	Date            int64    `json:"date"`
	Reasons         []string `json:"reasons"`
	HasNotes        bool     `json:"hasNotes"`
	EpisodeOfCareID string   `json:"episodeOfCareId"`
}

// listEpisodeAppointments: GET /qapi/v1/episodes/{episode_id}/appointments.
func (h *Handler) listEpisodeAppointments(w http.ResponseWriter, r *http.Request) {
	e, p, err := h.episodeFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rows, _, err := h.store.Appointments(r.Context(), orgID(r), store.AppointmentFilter{EpisodeID: e.ID, Limit: 1000})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		Episode      episodeJSON              `json:"episode"`
		Appointments []episodeAppointmentJSON `json:"appointments"`
	}{Episode: toEpisodeJSON(e, p), Appointments: []episodeAppointmentJSON{}}
	for _, a := range rows {
		has, err := h.store.HasVisitNote(r.Context(), orgID(r), a.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		out.Appointments = append(out.Appointments, episodeAppointmentJSON{AppointmentID: a.ID, Date: a.Start.Unix(),
			Reasons: nonNil(a.Reasons), HasNotes: has, EpisodeOfCareID: e.UUID})
	}
	h.store.AuditRead(r.Context(), orgID(r), "episode", e.UUID, p.ID)
	httpx.JSON(w, http.StatusOK, out)
}

// assignInput is the body of an episode assignment.
type assignInput struct {
	EpisodeID *string `json:"episodeId"`
}

// assignEpisode: PUT /qapi/v1/appointments/{appointment_id}/episode/assign.
// {"episodeId": "..."} puts the appointment into that episode (of the same
// patient); an empty, null or missing episodeId takes it out of its episode.
func (h *Handler) assignEpisode(w http.ResponseWriter, r *http.Request) {
	var in assignInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	cur, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ep := ""
	if in.EpisodeID != nil {
		ep = *in.EpisodeID
	}
	a, err := h.store.AssignEpisode(r.Context(), orgID(r), cur.ID, ep)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		AppointmentID   int64   `json:"appointmentId"`
		EpisodeOfCareID *string `json:"episodeOfCareId"`
	}{AppointmentID: a.ID}
	if a.EpisodeID != 0 {
		out.EpisodeOfCareID = &ep
	}
	w.Header().Set("Content-Location", "/qapi/v1/appointments/"+strconv.FormatInt(a.ID, 10))
	httpx.JSON(w, http.StatusOK, out)
}
