package poct

import (
	"net/http"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// patientRef resolves a patient's public id given as a parameter; an
// unknown one is a field error, not a 404 of the resource asked for.
func (h *Handler) patientRef(r *http.Request, field, uuid string) (int64, error) {
	if uuid == "" {
		return 0, nil
	}
	p, err := h.store.PatientBy(r.Context(), orgID(r), store.ByUUID, uuid)
	if err != nil {
		return 0, store.Invalid(field, "names no patient")
	}
	return p.ID, nil
}

func (h *Handler) encounterRef(r *http.Request, field, uuid string) (int64, error) {
	if uuid == "" {
		return 0, nil
	}
	e, err := h.store.Encounter(r.Context(), orgID(r), uuid)
	if err != nil {
		return 0, store.Invalid(field, "names no encounter")
	}
	return e.ID, nil
}

func (h *Handler) deviceRef(r *http.Request, field, uuid string) (int64, error) {
	if uuid == "" {
		return 0, nil
	}
	d, err := h.store.FleetDevice(r.Context(), orgID(r), uuid)
	if err != nil {
		return 0, store.Invalid(field, "names no device")
	}
	return d.ID, nil
}

// listEncounters: GET /api/poct/v1/encounters?patient=&station=&open=true&from=&to=&limit=&cursor=.
func (h *Handler) listEncounters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.EncounterFilter
	var err error
	if f.PatientID, err = h.patientRef(r, "patient", q.Get("patient")); err != nil {
		h.fail(w, r, err)
		return
	}
	if f.From, err = timeParam(r, "from"); err == nil {
		f.To, err = timeParam(r, "to")
	}
	if err == nil {
		f.AfterID, err = afterCursor(r)
	}
	if err == nil {
		f.Limit, err = limit(r)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Station, f.Open = q.Get("station"), q.Get("open") == "true"
	es, err := h.store.Encounters(r.Context(), orgID(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[encounterJSON]{Data: []encounterJSON{}}
	for i := range es {
		out.Data = append(out.Data, toEncounter(&es[i]))
	}
	if len(es) == f.Limit {
		out.NextCursor = cursor(es[len(es)-1].ID)
	}
	httpx.JSON(w, http.StatusOK, out)
}

// getEncounter: GET /api/poct/v1/encounters/{encounter_id}.
func (h *Handler) getEncounter(w http.ResponseWriter, r *http.Request) {
	e, err := h.store.Encounter(r.Context(), orgID(r), r.PathValue("encounter_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toEncounter(e))
}

type walkInInput struct {
	PatientRef string `json:"patient_ref"`
	Station    string `json:"station" bound:"shortID"`
}

// createEncounter: POST /api/poct/v1/encounters {"patient_ref","station"}:
// a walk-in encounter at an instrument station.
func (h *Handler) createEncounter(w http.ResponseWriter, r *http.Request) {
	var in walkInInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	if strings.TrimSpace(in.PatientRef) == "" {
		h.fail(w, r, store.Invalid("patient_ref", "is required"))
		return
	}
	pid, err := h.patientRef(r, "patient_ref", in.PatientRef)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	e, err := h.store.CreateWalkIn(r.Context(), orgID(r), pid, in.Station)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/poct/v1/encounters/"+e.UUID)
	httpx.JSON(w, http.StatusCreated, toEncounter(e))
}

// completeEncounter: POST /api/poct/v1/encounters/{encounter_id}/complete.
func (h *Handler) completeEncounter(w http.ResponseWriter, r *http.Request) {
	e, err := h.store.CompleteEncounter(r.Context(), orgID(r), r.PathValue("encounter_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toEncounter(e))
}
