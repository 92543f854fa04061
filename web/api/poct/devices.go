package poct

import (
	"net/http"

	"github.com/clinicbox/clinicbox/web/httpx"
)

// listDevices: GET /api/poct/v1/devices: every device in service with its
// fleet status.
func (h *Handler) listDevices(w http.ResponseWriter, r *http.Request) {
	ds, err := h.store.Fleet(r.Context(), orgID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[deviceJSON]{Data: make([]deviceJSON, 0, len(ds))}
	for i := range ds {
		out.Data = append(out.Data, toDevice(&ds[i]))
	}
	httpx.JSON(w, http.StatusOK, out)
}

// getDevice: GET /api/poct/v1/devices/{device_id}.
func (h *Handler) getDevice(w http.ResponseWriter, r *http.Request) {
	d, err := h.store.FleetDevice(r.Context(), orgID(r), r.PathValue("device_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toDevice(d))
}
