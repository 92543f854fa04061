package telehealth

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// The assistance endpoints answer errors in their own documented shape,
// {"message": "..."} (not {"error": {"message"}}), with these texts.
const (
	MsgAssistanceMissing  = "Service Request Error: Missing Required Parameters. Please include either Device ID, Patient ID, or a combination of Building, Floor, Room, and Bed (opt.), or Department, Room, and Bed (opt.) to proceed"
	MsgAssistanceNoDevice = "Device could not be found from the data submitted"
	MsgAssistanceNotFound = "Service Request Error: Request not found"
)

type assistanceMessage struct {
	Message string `json:"message"`
}

func writeAssistanceError(w http.ResponseWriter, status int, msg string) {
	httpx.JSON(w, status, assistanceMessage{Message: msg})
}

// assistanceInput names a care location in one of the documented ways.
type assistanceInput struct {
	Building           string `json:"building"`
	Floor              string `json:"floor"`
	Room               string `json:"room"`
	Bed                string `json:"bed"`
	Department         string `json:"department"`
	PatientMRN         string `json:"patientMrn"`
	DeviceSerialNumber string `json:"deviceSerialNumber"`
}

// readAssistanceInput reads the JSON body or, when there is none (GET and
// DELETE requests often cannot carry one), the query parameters of the same
// names.
func readAssistanceInput(w http.ResponseWriter, r *http.Request) (store.CareLocationQuery, error) {
	var in assistanceInput
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	if err != nil {
		return store.CareLocationQuery{}, &httpx.DecodeError{Msg: "Service Request Error: request body is too large", Err: err}
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := httpx.RequireJSON(r); err != nil {
			return store.CareLocationQuery{}, err
		}
		// Typed as strings: a number where a string belongs is a bad request.
		if err := json.Unmarshal(body, &in); err != nil {
			return store.CareLocationQuery{}, errors.New("Service Request Error: request body is not a valid JSON object with string values")
		}
	} else {
		q := r.URL.Query()
		in = assistanceInput{Building: q.Get("building"), Floor: q.Get("floor"), Room: q.Get("room"), Bed: q.Get("bed"),
			Department: q.Get("department"), PatientMRN: q.Get("patientMrn"), DeviceSerialNumber: q.Get("deviceSerialNumber")}
	}
	t := strings.TrimSpace
	return store.CareLocationQuery{Building: t(in.Building), Floor: t(in.Floor), Room: t(in.Room), Bed: t(in.Bed),
		Department: t(in.Department), PatientMRN: t(in.PatientMRN), DeviceSerial: t(in.DeviceSerialNumber)}, nil
}

// assistanceCareLocation resolves the request's care location, answering
// the documented errors itself; ok is false when it did.
func (h *Handler) assistanceCareLocation(w http.ResponseWriter, r *http.Request, notFoundMsg string) (*store.CareLocation, bool) {
	q, err := readAssistanceInput(w, r)
	if err != nil {
		status := http.StatusBadRequest
		if errors.As(err, new(*httpx.DecodeError)) || errors.As(err, new(*httpx.StatusError)) {
			status = httpx.Classify(err).Status // 413 for a body over the limit, 415 for one not sent as JSON
		}
		writeAssistanceError(w, status, err.Error())
		return nil, false
	}
	if !q.Complete() {
		writeAssistanceError(w, http.StatusBadRequest, MsgAssistanceMissing)
		return nil, false
	}
	cl, err := h.store.FindCareLocation(r.Context(), orgID(r), q)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cl.DeviceSerial == "") {
		writeAssistanceError(w, http.StatusNotFound, notFoundMsg)
		return nil, false
	}
	if err != nil {
		h.log.Error("telehealth api: find care location", "err", err)
		writeAssistanceError(w, http.StatusInternalServerError, "Service Request Error: internal error")
		return nil, false
	}
	return cl, true
}

type assistanceVideoJSON struct {
	Type           string  `json:"type"`
	ClientID       *string `json:"clientId"`
	SerialNumber   string  `json:"serialNumber"`
	CareLocationID string  `json:"careLocationId"`
	SkipActivation bool    `json:"skipActivation"`
}

type careLocationJSON struct {
	Availability string              `json:"availability"`
	ID           string              `json:"id"`
	Name         string              `json:"name"`
	Status       string              `json:"status"`
	Video        assistanceVideoJSON `json:"video"`
}

type assistancePatientJSON struct {
	Age        int    `json:"age"`
	ID         string `json:"id"`
	FirstName  string `json:"firstName"`
	LastName   string `json:"lastName"`
	MiddleName string `json:"middleName"`
	DOB        string `json:"dob"`
	MRN        string `json:"mrn"`
}

type assistanceLocationJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type assistanceJSON struct {
	ID                     string                  `json:"id"`
	Device                 string                  `json:"device"`
	CareLocation           careLocationJSON        `json:"careLocation"`
	Practice               string                  `json:"practice"`
	Patient                *assistancePatientJSON  `json:"patient"`
	AssignedTo             *string                 `json:"assignedTo"`
	Room                   string                  `json:"room"`
	Status                 string                  `json:"status"`
	CreatedAt              string                  `json:"createdAt"`
	FinishedAt             *string                 `json:"finishedAt"`
	Location               *assistanceLocationJSON `json:"location"`
	AVSessions             []any                   `json:"avSessions"`
	CreatedFromExternalAPI bool                    `json:"createdFromExternalApi"`
}

// atomTime is the spec's date-time form, 2024-03-28T12:02:05+00:00.
func atomTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-07:00") }

// ageOn is the age in whole years on day now of someone born on dob
// (YYYY-MM-DD); 0 when unknown.
func ageOn(dob string, now time.Time) int {
	b, err := time.Parse("2006-01-02", dob)
	if err != nil {
		return 0
	}
	age := now.Year() - b.Year()
	if now.Month() < b.Month() || (now.Month() == b.Month() && now.Day() < b.Day()) {
		age--
	}
	return max(age, 0)
}

// assistanceResponse builds the documented response body.
func (h *Handler) assistanceResponse(r *http.Request, req *store.AssistanceRequest, cl *store.CareLocation) (*assistanceJSON, error) {
	org, err := h.store.Org(r.Context(), req.OrgID)
	if err != nil {
		return nil, err
	}
	out := &assistanceJSON{
		ID:     req.UUID,
		Device: cl.DeviceSerial,
		CareLocation: careLocationJSON{
			Availability: cl.Availability, ID: cl.UUID, Name: cl.Name, Status: cl.Status,
			Video: assistanceVideoJSON{Type: cl.DeviceType, SerialNumber: cl.DeviceSerial,
				CareLocationID: strconv.FormatInt(cl.ID, 10), SkipActivation: true},
		},
		Practice:               org.UUID,
		Room:                   cl.Room,
		Status:                 req.Status,
		CreatedAt:              atomTime(req.CreatedAt),
		AVSessions:             []any{},
		CreatedFromExternalAPI: req.FromAPI,
	}
	if !req.FinishedAt.IsZero() {
		f := atomTime(req.FinishedAt)
		out.FinishedAt = &f
	}
	if cl.LocationID != 0 {
		out.Location = &assistanceLocationJSON{ID: cl.LocationGeo, Name: cl.LocationName}
	}
	if req.PatientID != 0 {
		p, err := h.store.Patient(r.Context(), req.OrgID, req.PatientID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if p != nil {
			out.Patient = &assistancePatientJSON{Age: ageOn(p.BirthDate, h.store.Now()), ID: p.UUID,
				FirstName: p.FirstName(), LastName: p.LastName(), MiddleName: p.MiddleName(), DOB: p.BirthDate, MRN: p.MRN}
			h.store.AuditRead(r.Context(), req.OrgID, "assistance-request", req.UUID, p.ID)
		}
	}
	return out, nil
}

func (h *Handler) writeAssistance(w http.ResponseWriter, r *http.Request, status int, req *store.AssistanceRequest, cl *store.CareLocation) {
	out, err := h.assistanceResponse(r, req, cl)
	if err != nil {
		h.log.Error("telehealth api: assistance response", "err", err)
		writeAssistanceError(w, http.StatusInternalServerError, "Service Request Error: internal error")
		return
	}
	httpx.JSON(w, status, out)
}

// createAssistanceRequest: POST /qapi/v1/request-assistance. Opens a request
// at the care location named by deviceSerialNumber, patientMrn,
// building+floor+room(+bed) or department+room(+bed). 201 with the new
// request; 200 with the open one when the care location already has one.
func (h *Handler) createAssistanceRequest(w http.ResponseWriter, r *http.Request) {
	cl, ok := h.assistanceCareLocation(w, r, MsgAssistanceNoDevice)
	if !ok {
		return
	}
	req, created, err := h.store.OpenAssistanceRequest(r.Context(), orgID(r), cl.ID, true)
	if err != nil {
		h.log.Error("telehealth api: open assistance request", "err", err)
		writeAssistanceError(w, http.StatusInternalServerError, "Service Request Error: internal error")
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	h.writeAssistance(w, r, status, req, cl)
}

// currentAssistanceRequest: GET /qapi/v1/request-assistance. The open
// request at the named care location.
func (h *Handler) currentAssistanceRequest(w http.ResponseWriter, r *http.Request) {
	cl, ok := h.assistanceCareLocation(w, r, MsgAssistanceNotFound)
	if !ok {
		return
	}
	req, err := h.store.CurrentAssistanceRequest(r.Context(), orgID(r), cl.ID)
	if errors.Is(err, store.ErrNotFound) {
		writeAssistanceError(w, http.StatusNotFound, MsgAssistanceNotFound)
		return
	}
	if err != nil {
		h.log.Error("telehealth api: current assistance request", "err", err)
		writeAssistanceError(w, http.StatusInternalServerError, "Service Request Error: internal error")
		return
	}
	h.writeAssistance(w, r, http.StatusOK, req, cl)
}

// cancelAssistanceRequest: DELETE /qapi/v1/request-assistance. Cancels the
// open request at the named care location; 204 No Content.
func (h *Handler) cancelAssistanceRequest(w http.ResponseWriter, r *http.Request) {
	cl, ok := h.assistanceCareLocation(w, r, MsgAssistanceNotFound)
	if !ok {
		return
	}
	_, err := h.store.FinishAssistanceRequest(r.Context(), orgID(r), cl.ID, store.AssistanceCancelled)
	if errors.Is(err, store.ErrNotFound) {
		writeAssistanceError(w, http.StatusNotFound, MsgAssistanceNotFound)
		return
	}
	if err != nil {
		h.log.Error("telehealth api: cancel assistance request", "err", err)
		writeAssistanceError(w, http.StatusInternalServerError, "Service Request Error: internal error")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
