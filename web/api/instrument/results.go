package instrument

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// resultsRequest is the body of POST /api/v1/instrumentResults.
type resultsRequest struct {
	PatientID       string       `json:"patientID"`
	MeasurementType string       `json:"measurementType"`
	MeasuredAt      string       `json:"measuredAt"`
	Results         []resultItem `json:"results"`
	Files           []fileItem   `json:"files"`
}

type resultItem struct {
	Code  string          `json:"code"`
	Value json.RawMessage `json:"value"` // a string; a JSON number is kept as its literal
}

type fileItem struct {
	Filename string `json:"filename"`
	Data     string `json:"data"` // base64
}

var npuRE = regexp.MustCompile(`^NPU\d+$`)

// submitResults stores measurement results (and files) for a patient. The
// values and codes are kept exactly as sent; nothing is stored unless the
// whole request is valid.
func (h *Handler) submitResults(w http.ResponseWriter, r *http.Request) {
	c := clientFrom(r.Context())
	if r.ContentLength > MaxBody {
		h.fail(w, r, httpx.Error(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxBody)))
		return
	}
	var req resultsRequest
	if err := httpx.DecodeJSON(w, r, &req, MaxBody); err != nil {
		h.fail(w, r, err)
		return
	}
	obs, files, err := req.model(c.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.store.PatientBy(r.Context(), c.OrgID, store.ByUUID, req.PatientID)
	if errors.Is(err, store.ErrNotFound) {
		err = httpx.Error(http.StatusNotFound, fmt.Sprintf("patient %q not found: use a patientID from GET /api/v1/instrumentPatients", req.PatientID))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.RecordInstrumentResults(r.Context(), c.OrgID, p.ID, obs, files); err != nil {
		h.fail(w, r, err)
		return
	}
	fileIDs := make([]string, len(files))
	for i, f := range files {
		fileIDs[i] = f.UUID
	}
	resultIDs := make([]string, len(obs))
	for i, o := range obs {
		resultIDs[i] = o.UUID
	}
	httpx.JSON(w, http.StatusCreated, map[string]any{"data": map[string]any{
		"patientID": p.UUID, "resultIDs": resultIDs, "fileIDs": fileIDs,
	}})
}

// model validates the request and turns it into the observations and files
// it carries, attributed to the instrument client. It answers a
// *store.ValidationError naming every bad field, or a 413 for a file over
// MaxFile.
func (req *resultsRequest) model(instrument string) ([]store.Observation, []store.PatientFile, error) {
	var v store.Validator
	req.PatientID = strings.TrimSpace(req.PatientID)
	v.Check(req.PatientID != "", "patientID", "is required")
	v.Check(strings.TrimSpace(req.MeasurementType) != "", "measurementType", "is required")
	v.Check(len(req.MeasurementType) <= 200, "measurementType", "must be at most 200 characters")
	measuredAt, ok := parseISO(req.MeasuredAt)
	switch {
	case req.MeasuredAt == "":
		v.Add("measuredAt", "is required (ISO 8601 date-time)")
	case !ok:
		v.Add("measuredAt", "must be an ISO 8601 date-time, e.g. 2025-06-30T07:00:00Z")
	}
	v.Check(len(req.Results) > 0 || len(req.Files) > 0, "results", "send at least one result or file")
	v.Check(len(req.Results) <= MaxResults, "results", fmt.Sprintf("at most %d per request", MaxResults))
	v.Check(len(req.Files) <= MaxFiles, "files", fmt.Sprintf("at most %d per request", MaxFiles))

	obs := make([]store.Observation, 0, len(req.Results))
	for i, res := range req.Results {
		field := fmt.Sprintf("results[%d]", i)
		value, ok := valueText(res.Value)
		v.Check(strings.TrimSpace(res.Code) != "", field+".code", "is required")
		v.Check(len(res.Code) <= 200, field+".code", "must be at most 200 characters")
		v.Check(ok, field+".value", "is required and must be a string or a number")
		v.Check(len(value) <= 10000, field+".value", "must be at most 10000 characters")
		o := store.Observation{Source: "instrument-api", Category: req.MeasurementType, Code: res.Code, Value: value,
			MeasuredAtText: req.MeasuredAt, MeasuredAt: measuredAt, Instrument: instrument}
		if npuRE.MatchString(res.Code) {
			o.CodeSystem = "NPU"
		}
		obs = append(obs, o)
	}
	files := make([]store.PatientFile, 0, len(req.Files))
	for i, f := range req.Files {
		field := fmt.Sprintf("files[%d]", i)
		v.Check(strings.TrimSpace(f.Filename) != "", field+".filename", "is required")
		if f.Data == "" {
			v.Add(field+".data", "is required (base64)")
			continue
		}
		tooBig := httpx.Error(http.StatusRequestEntityTooLarge, fmt.Sprintf("%s (%s) is larger than %d bytes", field, f.Filename, MaxFile))
		if base64.StdEncoding.DecodedLen(len(f.Data)) > MaxFile+3 {
			return nil, nil, tooBig
		}
		data, err := decodeBase64(f.Data)
		if err != nil {
			v.Add(field+".data", "is not valid base64")
			continue
		}
		if len(data) > MaxFile {
			return nil, nil, tooBig
		}
		pf := store.PatientFile{Title: req.MeasurementType, MeasuredAt: measuredAt, Filename: f.Filename, Data: data,
			Source: "instrument-api", SourceRef: instrument}
		var ve *store.ValidationError
		if errors.As(pf.Validate(), &ve) {
			for k, m := range ve.Fields {
				if k != "patient" {
					v.Add(field+"."+k, m)
				}
			}
		}
		files = append(files, pf)
	}
	return obs, files, v.Err()
}

// valueText returns a result value as sent: a JSON string's text, or a
// number's literal ("7.40" stays "7.40").
func valueText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s == "" {
			return "", false
		}
		return s, true
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", false
	}
	return string(raw), true
}

// decodeBase64 accepts standard base64, with or without padding, and
// ignores line breaks (some encoders wrap at 76 characters).
func decodeBase64(s string) ([]byte, error) {
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}
