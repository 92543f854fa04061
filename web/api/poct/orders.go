package poct

import (
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// listOrders: GET /api/poct/v1/orders?patient=&encounter=&state=&limit=&cursor=.
func (h *Handler) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.OrderFilter
	var err error
	if f.PatientID, err = h.patientRef(r, "patient", q.Get("patient")); err == nil {
		f.EncounterID, err = h.encounterRef(r, "encounter", q.Get("encounter"))
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
	f.State = q.Get("state")
	os, err := h.store.Orders(r.Context(), orgID(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[orderJSON]{Data: []orderJSON{}}
	for i := range os {
		out.Data = append(out.Data, toOrder(&os[i]))
	}
	if len(os) == f.Limit {
		out.NextCursor = cursor(os[len(os)-1].ID)
	}
	httpx.JSON(w, http.StatusOK, out)
}

// getOrder: GET /api/poct/v1/orders/{order_id}.
func (h *Handler) getOrder(w http.ResponseWriter, r *http.Request) {
	o, err := h.store.Order(r.Context(), orgID(r), r.PathValue("order_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toOrder(o))
}

type orderInput struct {
	EncounterRef string   `json:"encounter_ref"`
	SampleID     string   `json:"sample_id" bound:"shortID"`
	Tests        []string `json:"tests"`
	Priority     string   `json:"priority"`
	Station      string   `json:"station"`
}

// createOrder: POST /api/poct/v1/orders. The order belongs to the
// encounter's patient; the analyser finds it by the sample id (a host
// query gets its tests back).
func (h *Handler) createOrder(w http.ResponseWriter, r *http.Request) {
	var in orderInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.EncounterRef == "" {
		h.fail(w, r, store.Invalid("encounter_ref", "is required"))
		return
	}
	e, err := h.store.Encounter(r.Context(), orgID(r), in.EncounterRef)
	if err != nil {
		h.fail(w, r, store.Invalid("encounter_ref", "names no encounter"))
		return
	}
	o := &store.SampleOrder{SampleID: in.SampleID, PatientID: e.PatientID, AppointmentID: e.ID, Tests: in.Tests,
		Priority: in.Priority, Station: in.Station, Source: "api"}
	if err := h.store.CreateSampleOrder(r.Context(), orgID(r), o); err != nil {
		h.fail(w, r, err)
		return
	}
	row, err := h.store.OrderByID(r.Context(), orgID(r), o.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/poct/v1/orders/"+row.UUID)
	httpx.JSON(w, http.StatusCreated, toOrder(row))
}
