package monitoring

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Wire sources and the model's.
var sourceToModel = map[string]string{
	"DEVICE":           store.SourceMonitoringDevice,
	"MANUAL":           store.SourceMonitoringManual,
	"PATIENT_REPORTED": store.SourceMonitoringReported,
}

func sourceToWire(s string) string {
	for w, m := range sourceToModel {
		if m == s {
			return w
		}
	}
	return "INSTRUMENT"
}

// wireObservation is an observation as this API shows it.
type wireObservation struct {
	ID                 string   `json:"id"`
	PatientID          string   `json:"patientId"`
	MetricDefinitionID string   `json:"metricDefinitionId"`
	Value              float64  `json:"value"`
	Unit               string   `json:"unit"`
	Source             string   `json:"source"`
	DeviceID           string   `json:"deviceId,omitempty"`
	RecordedAt         string   `json:"recordedAt"`
	CreatedAt          string   `json:"createdAt"`
	Code               wireCode `json:"code"`
	AlertIDs           []string `json:"alertIds,omitempty"` // alerts this observation raised or joined
}

type wireCode struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

func toWireObservation(rd *store.Reading) wireObservation {
	o := &rd.Observation
	return wireObservation{
		ID: prefixObs + o.UUID, PatientID: prefixPatient + rd.PatientUUID, MetricDefinitionID: prefixMetric + o.MetricKey,
		Value: o.ValueNum, Unit: o.Unit, Source: sourceToWire(o.Source), DeviceID: o.ExternalDevice,
		RecordedAt: rfc3339(o.MeasuredAt), CreatedAt: rfc3339(o.CreatedAt),
		Code: wireCode{System: codeSystemURI(o.CodeSystem), Code: o.Code, Display: o.Display},
	}
}

func codeSystemURI(s string) string {
	if s == "LOINC" {
		return "http://loinc.org"
	}
	return s
}

type observationInput struct {
	PatientID          string          `json:"patientId"`
	MetricDefinitionID string          `json:"metricDefinitionId"`
	Value              json.RawMessage `json:"value"`
	Unit               string          `json:"unit"`
	Source             string          `json:"source"`
	DeviceID           string          `json:"deviceId"`
	RecordedAt         string          `json:"recordedAt" format:"date-time"`
}

// maxClockSkew is how far in the future a reading's time may be (device
// clocks drift).
const maxClockSkew = 10 * time.Minute

// createObservation: POST /api/observations. 201 with the new observation;
// 200 with the stored one when the same reading was sent before.
func (h *Handler) createObservation(w http.ResponseWriter, r *http.Request) {
	var in observationInput
	if err := httpx.DecodeJSON(w, r, &in, 16<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	var v store.Validator
	var value float64
	if len(in.Value) == 0 || json.Unmarshal(in.Value, &value) != nil {
		v.Add("value", "must be a number")
	}
	metric, ok := modelID(prefixMetric, in.MetricDefinitionID)
	v.Check(ok, "metricDefinitionId", "must be a metric definition id such as metric_bp_systolic")
	source, ok := sourceToModel[in.Source]
	v.Check(ok, "source", "must be DEVICE, MANUAL or PATIENT_REPORTED")
	at, err := time.Parse(time.RFC3339, in.RecordedAt)
	switch {
	case err != nil:
		v.Add("recordedAt", "must be a date and time as RFC 3339 (2025-01-31T10:30:00Z)")
	case at.After(h.now().Add(maxClockSkew)):
		v.Add("recordedAt", "must not be in the future")
	case at.Before(h.now().AddDate(-10, 0, 0)):
		v.Add("recordedAt", "must be within the last 10 years")
	}
	v.Check(strings.TrimSpace(in.Unit) != "", "unit", "is required")
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	// The store resolves the patient inside the reading's write (an unknown
	// or malformed id is refused there as "no such patient"): a lookup here
	// first would cost every reading a reader query and a whole patient row.
	patientUUID, _ := modelID(prefixPatient, in.PatientID)
	o := &store.Observation{
		MetricKey: metric, ValueNum: value, Unit: in.Unit, Source: source,
		ExternalDevice: in.DeviceID, MeasuredAt: at.UTC(), MeasuredAtText: in.RecordedAt,
	}
	res, err := h.store.RecordReadingFor(r.Context(), orgID(r), patientUUID, o)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := toWireObservation(&res.Reading)
	for _, a := range res.Alerts {
		out.AlertIDs = append(out.AlertIDs, prefixAlert+a.UUID)
	}
	status := http.StatusCreated
	if res.Duplicate {
		status = http.StatusOK
	} else {
		w.Header().Set("Location", "/api/observations/"+out.ID)
	}
	httpx.JSON(w, status, out)
}

type readingCursor struct {
	At int64 `json:"t"`
	ID int64 `json:"i"`
}

// listObservations: GET /api/observations?patientId=&metricDefinitionId=&from=&to=&source=&limit=&cursor=.
func (h *Handler) listObservations(w http.ResponseWriter, r *http.Request) {
	h.observations(w, r, r.URL.Query().Get("patientId"))
}

// listPatientObservations: GET /api/observations/patient/{patientId}.
func (h *Handler) listPatientObservations(w http.ResponseWriter, r *http.Request) {
	wire := r.PathValue("patientId")
	if _, err := h.patient(r, wire); err != nil {
		h.fail(w, r, err)
		return
	}
	h.observations(w, r, wire)
}

func (h *Handler) observations(w http.ResponseWriter, r *http.Request, patientWire string) {
	q := r.URL.Query()
	f := store.ReadingFilter{HomeOnly: true}
	var err error
	if f.Limit, err = limitParam(r, 100, 1000); err != nil {
		h.fail(w, r, err)
		return
	}
	if patientWire != "" {
		p, err := h.patient(r, patientWire)
		if err != nil {
			// Another organisation's patient has no observations here.
			httpx.JSON(w, http.StatusOK, listResponse[wireObservation]{Data: []wireObservation{}})
			return
		}
		f.PatientID = p.ID
	}
	if m := q.Get("metricDefinitionId"); m != "" {
		key, ok := modelID(prefixMetric, m)
		if !ok {
			h.fail(w, r, badRequest("metricDefinitionId must be a metric definition id such as metric_bp_systolic"))
			return
		}
		f.MetricKey = key
	}
	if s := q.Get("source"); s != "" {
		src, ok := sourceToModel[s]
		if !ok {
			h.fail(w, r, badRequest("source must be DEVICE, MANUAL or PATIENT_REPORTED"))
			return
		}
		f.Source = src
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				h.fail(w, r, badRequest("%s must be a date and time as RFC 3339", name))
				return
			}
			*dst = t
		}
	}
	if c := q.Get("cursor"); c != "" {
		var cur readingCursor
		if !decodeCursor(c, &cur) {
			h.fail(w, r, badRequest("cursor is not one this API gave out"))
			return
		}
		f.Before = &store.ReadingCursor{MeasuredAt: cur.At, ID: cur.ID}
	}
	rs, err := h.store.Readings(r.Context(), orgID(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := listResponse[wireObservation]{Data: make([]wireObservation, len(rs))}
	for i := range rs {
		out.Data[i] = toWireObservation(&rs[i])
	}
	if len(rs) == f.Limit {
		last := rs[len(rs)-1]
		c := encodeCursor(readingCursor{At: last.MeasuredAt.Unix(), ID: last.ID})
		out.NextCursor = &c
	}
	httpx.JSON(w, http.StatusOK, out)
}
