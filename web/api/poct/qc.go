package poct

import (
	"net/http"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// deviceUUIDs maps device row ids to public ids for a list.
func (h *Handler) deviceUUIDs(r *http.Request) (map[int64]string, error) {
	ds, err := h.store.Devices(r.Context(), orgID(r), store.DeviceFilter{IncludeRemoved: true})
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(ds))
	for _, d := range ds {
		m[d.ID] = d.UUID
	}
	return m, nil
}

// listQCRuns: GET /api/poct/v1/qc/runs?device=&analyte=&lot=&level=&status=&limit=&cursor=.
func (h *Handler) listQCRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.QCRunFilter
	var err error
	if f.DeviceID, err = h.deviceRef(r, "device", q.Get("device")); err == nil {
		if f.AfterID, err = afterCursor(r); err == nil {
			f.Limit, err = limit(r)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Code, f.Lot, f.Level, f.Status = q.Get("analyte"), q.Get("lot"), q.Get("level"), q.Get("status")
	runs, err := h.store.QCRunRecords(r.Context(), orgID(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	uuids, err := h.deviceUUIDs(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[qcRunJSON]{Data: make([]qcRunJSON, 0, len(runs))}
	for i := range runs {
		out.Data = append(out.Data, toQCRun(&runs[i], uuids[runs[i].DeviceID]))
	}
	if len(runs) == f.Limit {
		out.NextCursor = cursor(runs[len(runs)-1].ID)
	}
	httpx.JSON(w, http.StatusOK, out)
}

type qcRunInput struct {
	DeviceRef  string `json:"device_ref"`
	Analyte    string `json:"analyte" bound:"label"`
	Lot        string `json:"lot" bound:"shortID"`
	Level      string `json:"level" bound:"code"`
	Value      string `json:"value" bound:"label"`
	Unit       string `json:"unit" bound:"code"`
	MeasuredAt string `json:"measured_at" format:"date-time"`
}

// createQCRun: POST /api/poct/v1/qc/runs.
func (h *Handler) createQCRun(w http.ResponseWriter, r *http.Request) {
	var in qcRunInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.DeviceRef == "" {
		h.fail(w, r, store.Invalid("device_ref", "is required"))
		return
	}
	did, err := h.deviceRef(r, "device_ref", in.DeviceRef)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var at time.Time
	if in.MeasuredAt != "" {
		if at, err = time.Parse(time.RFC3339, in.MeasuredAt); err != nil {
			h.fail(w, r, store.Invalid("measured_at", "must be an RFC 3339 time"))
			return
		}
	}
	run, err := h.store.RecordQCRun(r.Context(), orgID(r), store.QCMeasurement{DeviceID: did, Code: in.Analyte, Lot: in.Lot,
		Level: in.Level, Value: in.Value, Unit: in.Unit, MeasuredAt: at})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, toQCRun(run, in.DeviceRef))
}

type qcTargetJSON struct {
	DeviceRef string  `json:"device_ref"`
	Analyte   string  `json:"analyte"`
	Lot       string  `json:"lot"`
	Level     string  `json:"level"`
	Mean      float64 `json:"mean"`
	SD        float64 `json:"sd"`
	Unit      string  `json:"unit"`
	UpdatedAt string  `json:"updated_at"`
}

// listQCTargets: GET /api/poct/v1/qc/targets?device=.
func (h *Handler) listQCTargets(w http.ResponseWriter, r *http.Request) {
	did, err := h.deviceRef(r, "device", r.URL.Query().Get("device"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ts, err := h.store.QCTargets(r.Context(), orgID(r), did)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	uuids, err := h.deviceUUIDs(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[qcTargetJSON]{Data: make([]qcTargetJSON, 0, len(ts))}
	for _, t := range ts {
		out.Data = append(out.Data, qcTargetJSON{DeviceRef: uuids[t.DeviceID], Analyte: t.Code, Lot: t.Lot, Level: t.Level,
			Mean: t.Mean, SD: t.SD, Unit: t.Unit, UpdatedAt: rfc3339(t.UpdatedAt)})
	}
	httpx.JSON(w, http.StatusOK, out)
}

// putQCTarget: PUT /api/poct/v1/qc/targets.
func (h *Handler) putQCTarget(w http.ResponseWriter, r *http.Request) {
	var in qcTargetJSON
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.DeviceRef == "" {
		h.fail(w, r, store.Invalid("device_ref", "is required"))
		return
	}
	did, err := h.deviceRef(r, "device_ref", in.DeviceRef)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t := &store.QCTarget{DeviceID: did, Code: in.Analyte, Lot: in.Lot, Level: in.Level, Mean: in.Mean, SD: in.SD, Unit: in.Unit}
	if err := h.store.SaveQCTarget(r.Context(), orgID(r), t); err != nil {
		h.fail(w, r, err)
		return
	}
	in.Analyte, in.Lot, in.Level, in.UpdatedAt = t.Code, t.Lot, t.Level, rfc3339(t.UpdatedAt)
	httpx.JSON(w, http.StatusOK, in)
}
