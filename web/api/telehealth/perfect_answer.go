package telehealth

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// The perfect-answer request fills questions of these visit note templates
// (their question ids are fixed in store.DefaultVisitNoteTemplates).
const (
	templateNeurology = "Acute Neurology - Physician Services"
	templateEEG       = "EEG - Physician Services"
)

// Question ids of the default templates that the request's values go to.
const (
	qPatientLocation    = "264d75b4-3a2b-44c9-890a-f865a466b1c3"
	qConsultType        = "6d24875f-ca61-4267-8b63-52fe5f9c765f"
	qReason             = "3b3a886e-26cf-4387-a135-2cee7ef85766"
	qRequestingProvider = "a9517f08-97d3-4e9b-a48a-323f1ef3b8a5"
	qCallbackNumber     = "bbb30615-3c20-4178-b371-04193667c635"
	qCallCenterNotified = "184b81d0-7a98-4e85-9cbf-be79892af326"
	qPhysicianNotified  = "e76ac567-6f30-4e22-af67-68444910b3e8"
	qCaller             = "38053bb8-20a8-4808-8efc-04f1706201c3"
	qEEGUrgency         = "d39ff193-db9c-4d4a-bad9-346c12438c91"
)

var (
	consultTypes = []string{"new", "update"}
	paReasons    = []string{"Stroke", "EEG Stat", "EEG Routine"}
)

// duplicateWindow: a second visit for the same patient within this time is
// rejected.
const duplicateWindow = 24 * time.Hour

// MsgDuplicateVisit is the documented rejection.
const MsgDuplicateVisit = "A visit has already been created for the patient within 24 hours"

// perfectAnswerInput's bounds are the store's for the same data (a
// patient's name parts and MRN) and a label's for the answers that name a
// person or a place; the OpenAPI document states them from these tags and
// validate enforces the same constants.
type perfectAnswerInput struct {
	FirstName               *string `json:"firstName" bound:"namePart"`
	LastName                *string `json:"lastName" bound:"namePart"`
	DOB                     *string `json:"dob" format:"date"`
	LocationID              *string `json:"locationId" format:"uuid"`
	MRN                     *string `json:"mrn" bound:"patientIdentifier"`
	PhysicianCallbackNumber *string `json:"physicianCallbackNumber" bound:"label"`
	RequestingProvider      *string `json:"requestingProvider" bound:"label"`
	CallCenterNotified      *string `json:"callCenterNotified" format:"date-time"`
	PhysicianNotified       *string `json:"physicianNotified" format:"date-time"`
	PatientLocation         *string `json:"patientLocation" bound:"label"`
	ConsultType             *string `json:"consultType" enum:"consultType"`
	Reason                  *string `json:"reason" enum:"paReason"`
	Caller                  *string `json:"caller" bound:"label"`
}

func val(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// validate checks every field with the face's messages.
func (in *perfectAnswerInput) validate(now time.Time) error {
	var v store.Validator
	required := map[string]*string{"firstName": in.FirstName, "lastName": in.LastName, "dob": in.DOB,
		"locationId": in.LocationID, "mrn": in.MRN, "requestingProvider": in.RequestingProvider,
		"consultType": in.ConsultType, "reason": in.Reason}
	for name, p := range required {
		v.Check(val(p) != "", name, "This value should not be blank.")
	}
	for _, f := range []struct {
		name string
		p    *string
		max  int
	}{
		{"firstName", in.FirstName, store.MaxNamePart}, {"lastName", in.LastName, store.MaxNamePart},
		{"mrn", in.MRN, store.MaxPatientIdentifier}, {"requestingProvider", in.RequestingProvider, store.MaxLabel},
		{"physicianCallbackNumber", in.PhysicianCallbackNumber, store.MaxLabel},
		{"patientLocation", in.PatientLocation, store.MaxLabel}, {"caller", in.Caller, store.MaxLabel},
	} {
		s := val(f.p)
		if utf8.RuneCountInString(s) > f.max {
			v.Add(f.name, fmt.Sprintf("This value is too long. It should have %d characters or less.", f.max))
			continue
		}
		v.Line(f.name, s, f.max) // control characters, invalid UTF-8
	}
	if s := val(in.DOB); s != "" {
		if d, err := time.Parse("2006-01-02", s); err != nil {
			v.Add("dob", "This value is not a valid date.")
		} else {
			v.Check(!d.After(now), "dob", "This value should not be in the future.")
		}
	}
	if s := val(in.LocationID); s != "" {
		v.Check(store.IsUUID(s), "locationId", "This is not a valid UUID.")
	}
	for name, p := range map[string]*string{"callCenterNotified": in.CallCenterNotified, "physicianNotified": in.PhysicianNotified} {
		if s := val(p); s != "" {
			_, err := time.Parse(time.RFC3339, s)
			v.Check(err == nil, name, "This value is not a valid datetime.")
		}
	}
	if s := val(in.ConsultType); s != "" {
		v.Check(slices.Contains(consultTypes, s), "consultType", "The value you selected is not a valid choice.")
	}
	if s := val(in.Reason); s != "" {
		v.Check(slices.Contains(paReasons, s), "reason", "The value you selected is not a valid choice.")
	}
	return v.Err()
}

// notes are the visit note answers per template for the request.
func (in *perfectAnswerInput) notes() []store.WalkInNote {
	add := func(list []store.VisitNoteAnswer, id string, p *string) []store.VisitNoteAnswer {
		if s := val(p); s != "" {
			list = append(list, store.VisitNoteAnswer{QuestionID: id, Value: []string{s}})
		}
		return list
	}
	var neuro []store.VisitNoteAnswer
	neuro = add(neuro, qConsultType, in.ConsultType)
	neuro = add(neuro, qReason, in.Reason)
	neuro = add(neuro, qRequestingProvider, in.RequestingProvider)
	neuro = add(neuro, qCallbackNumber, in.PhysicianCallbackNumber)
	neuro = add(neuro, qCallCenterNotified, in.CallCenterNotified)
	neuro = add(neuro, qPhysicianNotified, in.PhysicianNotified)
	neuro = add(neuro, qPatientLocation, in.PatientLocation)
	neuro = add(neuro, qCaller, in.Caller)
	out := []store.WalkInNote{{Template: templateNeurology, Answers: neuro}}
	if r := val(in.Reason); strings.HasPrefix(r, "EEG") {
		out = append(out, store.WalkInNote{Template: templateEEG, Answers: add(nil, qEEGUrgency, in.Reason)})
	}
	return out
}

type perfectAnswerJSON struct {
	PatientID   string `json:"patientId"`
	EncounterID string `json:"encounterId"`
}

// perfectAnswer: POST /qapi/v1/perfect-answer. Creates or updates the
// patient (found by MRN), rejects a second visit within 24 hours, creates
// the appointment in the waiting room of the location named by locationId
// (its geolocation id) and fills the visit note templates with the request's
// values. Answers 201 {"patientId": uuid, "encounterId": uuid}.
func (h *Handler) perfectAnswer(w http.ResponseWriter, r *http.Request) {
	var in perfectAnswerInput
	if err := httpx.DecodeJSON(w, r, &in, 64<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := in.validate(h.store.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, org := r.Context(), orgID(r)
	loc, err := h.store.LocationByGeolocationID(ctx, org, val(in.LocationID))
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, store.Invalid("locationId", "Location not found."))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if loc.WaitingRoomID == 0 {
		h.fail(w, r, store.Invalid("locationId", "No waiting room is set for this location."))
		return
	}
	// The templates must exist before anything is written, so that a
	// misconfigured organisation gets an error and no half-made visit.
	templates, err := h.store.VisitNoteTemplates(ctx, org)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	notes := in.notes()
	for _, n := range notes {
		if !slices.ContainsFunc(templates, func(t store.VisitNoteTemplate) bool { return t.Name == n.Template }) {
			writeError(w, http.StatusConflict, "The visit note template \""+n.Template+"\" is not available: check the waiting room configuration")
			return
		}
	}

	patient, appt, err := h.store.CheckInWalkIn(ctx, org, store.WalkIn{
		MRN: val(in.MRN), FirstName: val(in.FirstName), LastName: val(in.LastName), BirthDate: val(in.DOB),
		WaitingRoomID: loc.WaitingRoomID, Reason: val(in.Reason), NotAgainWithin: duplicateWindow, Notes: notes,
	})
	if errors.Is(err, store.ErrRecentVisit) {
		err = store.Conflict(MsgDuplicateVisit)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, perfectAnswerJSON{PatientID: patient.UUID, EncounterID: appt.UUID})
}
