package fhir

import (
	"net/http"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
)

// Encounter is the FHIR Encounter resource: the visit side of an
// appointment (the model keeps one row for both, so the ids are the same).
type Encounter struct {
	ResourceType  string                 `json:"resourceType"`
	ID            string                 `json:"id,omitempty"`
	Meta          *Meta                  `json:"meta,omitempty"`
	Status        string                 `json:"status"`
	Class         Coding                 `json:"class"`
	Subject       *Reference             `json:"subject,omitempty"`
	EpisodeOfCare []Reference            `json:"episodeOfCare,omitempty"`
	Participant   []EncounterParticipant `json:"participant,omitempty"`
	Appointment   []Reference            `json:"appointment,omitempty"`
	Period        *Period                `json:"period,omitempty"`
	ReasonCode    []CodeableConcept      `json:"reasonCode,omitempty"`
	Location      []EncounterLocation    `json:"location,omitempty"`
}

// EncounterParticipant is a clinician of the visit.
type EncounterParticipant struct {
	Individual *Reference `json:"individual,omitempty"`
}

// EncounterLocation is where the visit took place.
type EncounterLocation struct {
	Location Reference `json:"location"`
}

func (e *Encounter) fhirType() string { return "Encounter" }
func (e *Encounter) fhirID() string   { return e.ID }

// encounterStatus maps the model's visit status to Encounter.status.
func encounterStatus(s string) string {
	switch s {
	case store.StatusScheduled:
		return "planned"
	case store.StatusArrived:
		return "arrived"
	case store.StatusCompleted, store.StatusSignOff:
		return "finished"
	case store.StatusCancelled, store.StatusNoShow:
		return "cancelled"
	}
	return "in-progress"
}

var encounterStatuses = []string{"planned", "arrived", "in-progress", "finished", "cancelled"}

func (h *Handler) toEncounter(a *store.AppointmentRef) *Encounter {
	// Every visit of this appliance is a video visit: class VR (virtual).
	out := &Encounter{ResourceType: "Encounter", ID: a.UUID, Meta: &Meta{LastUpdated: instant(a.UpdatedAt)},
		Status:      encounterStatus(a.Status),
		Class:       Coding{System: "http://terminology.hl7.org/CodeSystem/v3-ActCode", Code: "VR", Display: "virtual"},
		Subject:     &Reference{Reference: "Patient/" + a.PatientUUID, Display: a.PatientName},
		Appointment: []Reference{{Reference: "Appointment/" + a.UUID}},
		Location:    []EncounterLocation{{Location: Reference{Reference: "Location/" + a.WaitingRoomUUID, Display: a.WaitingRoomName}}},
	}
	if a.EpisodeUUID != "" {
		out.EpisodeOfCare = []Reference{{Reference: "EpisodeOfCare/" + a.EpisodeUUID}}
	}
	if a.ProviderUUID != "" {
		out.Participant = []EncounterParticipant{{Individual: &Reference{Reference: "Practitioner/" + a.ProviderUUID, Display: a.ProviderName}}}
	}
	start := a.StartedAt
	if start.IsZero() {
		start = a.ArrivedAt
	}
	if !start.IsZero() || !a.CompletedAt.IsZero() {
		out.Period = &Period{Start: instant(start), End: instant(a.CompletedAt)}
	}
	for _, reason := range a.Reasons {
		if reason != "" {
			out.ReasonCode = append(out.ReasonCode, CodeableConcept{Text: reason})
		}
	}
	return out
}

func (h *Handler) readEncounter(w http.ResponseWriter, r *http.Request) {
	a, err := h.appointmentByID(r, "Encounter", r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), a.OrgID, "appointment", strconv.FormatInt(a.ID, 10), a.PatientID)
	writeResource(w, http.StatusOK, h.toEncounter(a))
}

func (h *Handler) searchEncounter(w http.ResponseWriter, r *http.Request) {
	q, err := newQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, found, p, err := h.appointmentSearch(r, q, "Encounter", encounterStatus, encounterStatuses)
	if err == nil {
		var eps []string
		if eps, err = q.references("episode-of-care", "EpisodeOfCare"); err == nil && len(eps) > 0 {
			if len(eps) > 1 {
				err = invalidParam("episode-of-care", "name one episode")
			} else if e, eerr := h.store.Episode(r.Context(), orgID(r), eps[0]); eerr == nil {
				f.EpisodeID = e.ID
			} else {
				found = false
			}
		}
	}
	if err == nil {
		err = q.check("Encounter")
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
		matches[i] = h.toEncounter(&rows[i])
	}
	h.searchset(w, r, q, p, matches, more, nil)
}
