package station

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
)

// patientFile serves a file of a patient's record (an ECG PDF an
// instrument posted) as a download; the read is audited.
func (h *handlers) patientFile(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	org := orgOf(r)
	f, err := h.st.PatientFile(r.Context(), org, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.st.AuditRead(r.Context(), org, "patient-file", fmt.Sprint(f.ID), f.PatientID)
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Filename}))
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(f.Data)
}
