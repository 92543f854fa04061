package fhir

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
)

// What the face keeps in its Cache, and the tags that drop it:
//
//   - encoded Patient answers, and FHIR ids resolved to the model's, under
//     "patient:ID": dropped by the patient's own events (created, updated,
//     deactivated: every write of a patient row has one);
//   - each patient's current Observations, mapped and encoded, under
//     "observations:ID" and "device:ID" (a device's name is in each of its
//     results): dropped by the observation events that name the patient
//     (created, assigned) and by device updates. An event about results
//     that does not name their patient (a correction, a re-ingested
//     instrument message) drops every patient's: "observations".

const tagAllObservations = "observations"

func patientTag(id int64) string      { return "patient:" + strconv.FormatInt(id, 10) }
func observationsTag(id int64) string { return "observations:" + strconv.FormatInt(id, 10) }
func deviceTag(id int64) string       { return "device:" + strconv.FormatInt(id, 10) }

// invalidate drops what the outbox says changed.
func (h *Handler) invalidate(evs []store.Event) {
	var tags []string
	for _, e := range evs {
		switch {
		case e.SubjectType == "patient" && strings.HasPrefix(e.Type, "patient:"):
			tags = append(tags, patientTag(e.SubjectID))
		case e.Type == store.EventObservationCreated || e.Type == store.EventObservationAssigned:
			if pid := payloadPatient(e); pid > 0 {
				tags = append(tags, observationsTag(pid))
			} else if pid < 0 {
				tags = append(tags, tagAllObservations)
			}
		case e.SubjectType == "observation":
			tags = append(tags, tagAllObservations)
		case e.Type == store.EventDeviceMessage:
			if replaced(e) {
				tags = append(tags, tagAllObservations)
			}
		case e.SubjectType == "device" && (e.Type == store.EventDeviceUpdated || e.Type == store.EventDeviceRemoved):
			tags = append(tags, deviceTag(e.SubjectID))
		}
	}
	if len(tags) > 0 {
		h.cache.Invalidate(tags...)
	}
}

// payloadPatient reads the patientId of an observation event: 0 for none
// (an unmatched result: no patient's search shows it), -1 when the payload
// cannot be read (then every patient's results are dropped).
func payloadPatient(e store.Event) int64 {
	var p struct {
		PatientID *int64 `json:"patientId"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil || p.PatientID == nil {
		return -1
	}
	return *p.PatientID
}

// replaced tells whether a device message event replaced earlier results
// (a re-ingestion deletes and writes them again).
func replaced(e store.Event) bool {
	var p struct {
		Replaced int `json:"replaced"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return true
	}
	return p.Replaced > 0
}

// patientAnswer is an encoded answer about a patient and whose it is.
type patientAnswer struct {
	id   int64
	body []byte
}

// cachedPatient answers encode's answer for the patient with FHIR id id,
// from the cache when it has it (view names the encoding).
func (h *Handler) cachedPatient(r *http.Request, view string, org int64, id string, encode func(*store.Patient) ([]byte, error)) (*patientAnswer, error) {
	fill := func() (any, int, []string, error) {
		p, err := h.store.PatientBy(r.Context(), org, store.ByUUID, id)
		if err != nil {
			return nil, 0, nil, err
		}
		body, err := encode(p)
		if err != nil {
			return nil, 0, nil, err
		}
		return &patientAnswer{p.ID, body}, len(body), []string{patientTag(p.ID)}, nil
	}
	var v any
	var err error
	if h.cache == nil {
		v, _, _, err = fill()
	} else {
		v, err = h.cache.Get(view+"\x00"+strconv.FormatInt(org, 10)+"\x00"+id, fill)
	}
	if err != nil {
		return nil, err
	}
	return v.(*patientAnswer), nil
}
