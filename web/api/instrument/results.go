package instrument

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// Data is base64 on the wire. The body is split as it is read (see
	// submitResults): each file's data streams into a spool on disk, and
	// what is decoded here is the spool's number.
	Data *int `json:"data"`
}

var npuRE = regexp.MustCompile(`^NPU\d+$`)

// upload is one file's data as it was read: decoded into a spool.
type upload struct {
	spool *store.Spool
	b64   *httpx.Base64Writer
}

// submitResults stores measurement results (and files) for a patient. The
// values and codes are kept exactly as sent; nothing is stored unless the
// whole request is valid.
//
// The body may be close to 48 MB, nearly all of it base64 file data. It is
// never held whole: the JSON is read as a stream, each files[].data string
// is decoded on the fly into a spool file on disk, and only the rest (the
// results, at most MaxFields bytes) is kept in memory. The store then
// copies each spool into the database in 256 KiB chunks.
func (h *Handler) submitResults(w http.ResponseWriter, r *http.Request) {
	c := clientFrom(r.Context())
	if r.ContentLength > MaxBody {
		h.fail(w, r, httpx.Error(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxBody)))
		return
	}
	if err := httpx.RequireJSON(r); err != nil {
		h.fail(w, r, err)
		return
	}
	release, err := h.uploads.Enter(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer release()
	var uploads []upload
	defer func() {
		for _, u := range uploads {
			u.spool.Close()
		}
	}()
	kept, err := httpx.SplitJSON(http.MaxBytesReader(w, r.Body, MaxBody), MaxFields,
		func(p httpx.JSONPath) bool { return p.Is("files", "*", "data") },
		func(n int, p httpx.JSONPath) (io.WriteCloser, error) {
			if n >= MaxFiles {
				return nil, &store.ValidationError{Fields: map[string]string{"files": fmt.Sprintf("at most %d per request", MaxFiles)}}
			}
			sp, err := h.store.NewSpool(MaxFile)
			if err != nil {
				return nil, err
			}
			u := upload{spool: sp, b64: httpx.NewBase64Writer(sp)}
			uploads = append(uploads, u)
			return u.b64, nil
		})
	var se *httpx.StreamError
	switch {
	case errors.As(err, &se) && errors.Is(err, store.ErrSpoolFull):
		err = httpx.Error(http.StatusRequestEntityTooLarge, fmt.Sprintf("%s is larger than %d bytes", se.Path, MaxFile))
	case errors.As(err, &se) && errors.Is(err, httpx.ErrBadBase64):
		err = &store.ValidationError{Fields: map[string]string{se.Path: "is not valid base64"}}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req resultsRequest
	if err := httpx.DecodeBytes(kept, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	obs, files, err := req.model(c.Name, uploads)
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
// it carries, attributed to the instrument client; uploads are the files'
// data as read. It answers a *store.ValidationError naming every bad field.
func (req *resultsRequest) model(instrument string, uploads []upload) ([]store.Observation, []store.PatientFile, error) {
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
	used := map[int]bool{}
	for i, f := range req.Files {
		field := fmt.Sprintf("files[%d]", i)
		v.Check(strings.TrimSpace(f.Filename) != "", field+".filename", "is required")
		// Data is the number of the spool the splitter put in its place;
		// each is used once (a repeated "files" key leaves unused ones).
		if f.Data == nil || *f.Data < 0 || *f.Data >= len(uploads) || used[*f.Data] || uploads[*f.Data].b64.Chars() == 0 {
			v.Add(field+".data", "is required (base64)")
			continue
		}
		used[*f.Data] = true
		pf := store.PatientFile{Title: req.MeasurementType, MeasuredAt: measuredAt, Filename: f.Filename,
			Spool: uploads[*f.Data].spool, Source: "instrument-api", SourceRef: instrument}
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
