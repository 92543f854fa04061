package poct

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// listResults: GET /api/poct/v1/results?patient=&encounter=&device=&analyte=&from=&to=&all_versions=true&limit=&cursor=.
// Oldest first by storage order, so polling with next_cursor never misses
// a result stored while paging.
func (h *Handler) listResults(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.ResultFilter
	var err error
	if f.PatientID, err = h.patientRef(r, "patient", q.Get("patient")); err == nil {
		if f.EncounterID, err = h.encounterRef(r, "encounter", q.Get("encounter")); err == nil {
			f.DeviceID, err = h.deviceRef(r, "device", q.Get("device"))
		}
	}
	if err == nil {
		if f.From, err = timeParam(r, "from"); err == nil {
			f.To, err = timeParam(r, "to")
		}
	}
	if err == nil {
		if f.AfterID, err = afterCursor(r); err == nil {
			f.Limit, err = limit(r)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Code = q.Get("analyte")
	f.AllVersions = q.Get("all_versions") == "true"
	rs, err := h.store.Results(r.Context(), orgID(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[resultJSON]{Data: make([]resultJSON, 0, len(rs))}
	for i := range rs {
		out.Data = append(out.Data, toResult(&rs[i]))
	}
	if len(rs) == f.Limit {
		out.NextCursor = cursor(rs[len(rs)-1].ID)
	}
	httpx.JSON(w, http.StatusOK, out)
}

// getResult: GET /api/poct/v1/results/{result_id}.
func (h *Handler) getResult(w http.ResponseWriter, r *http.Request) {
	res, err := h.store.Result(r.Context(), orgID(r), r.PathValue("result_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if res.PatientID > 0 {
		h.store.AuditRead(r.Context(), orgID(r), "observation", res.UUID, res.PatientID)
	}
	httpx.JSON(w, http.StatusOK, toResult(res))
}

// resultVersions: GET /api/poct/v1/results/{result_id}/versions.
func (h *Handler) resultVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := h.store.ResultVersions(r.Context(), orgID(r), r.PathValue("result_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[resultJSON]{Data: make([]resultJSON, 0, len(vs))}
	for i := range vs {
		out.Data = append(out.Data, toResult(&vs[i]))
	}
	httpx.JSON(w, http.StatusOK, out)
}

type correctionInput struct {
	Value          *string `json:"value" bound:"resultValue"`
	Unit           *string `json:"unit" bound:"code"`
	ReferenceRange *string `json:"reference_range" bound:"shortID"`
	Flags          *string `json:"flags" bound:"code"`
	Status         string  `json:"status" enum:"correctionStatus"`
	Note           string  `json:"note" bound:"paragraph"`
}

// correctResult: POST /api/poct/v1/results/{result_id}/corrections. The
// correction is stored as the next version; the corrected one stays,
// marked superseded.
func (h *Handler) correctResult(w http.ResponseWriter, r *http.Request) {
	var in correctionInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.Value == nil {
		h.fail(w, r, store.Invalid("value", "is required (the corrected value, as a string)"))
		return
	}
	if in.Status != "" && !slices.Contains(store.CorrectionStatuses, in.Status) {
		h.fail(w, r, store.Invalid("status", "must be one of "+strings.Join(store.CorrectionStatuses, ", ")+" (HL7 OBX-11)"))
		return
	}
	res, err := h.store.CorrectResult(r.Context(), orgID(r), r.PathValue("result_id"), store.Correction{
		Value: *in.Value, Unit: in.Unit, ReferenceRange: in.ReferenceRange, Flags: in.Flags, Status: in.Status, Note: in.Note})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/poct/v1/results/"+res.UUID)
	httpx.JSON(w, http.StatusCreated, toResult(res))
}

// getMessage: GET /api/poct/v1/messages/{message_id}: the bytes exactly
// as the device sent them.
func (h *Handler) getMessage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("message_id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, store.ErrNotFound)
		return
	}
	m, err := h.store.DeviceMessage(r.Context(), orgID(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Message-Protocol", m.Protocol)
	w.Header().Set("X-Message-Received-At", rfc3339(m.ReceivedAt))
	w.Write(m.Raw)
}
