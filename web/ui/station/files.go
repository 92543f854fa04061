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
	f, err := h.st.PatientFileMeta(r.Context(), org, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.st.AuditRead(r.Context(), org, "patient-file", fmt.Sprint(f.ID), f.PatientID)
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Filename}))
	w.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
	w.Header().Set("Cache-Control", "private, no-store")
	// Streamed a chunk at a time (never whole in memory); a file cut short
	// in the store aborts the connection, so the browser sees a failed
	// download rather than a truncated file.
	if _, err := h.st.CopyPatientFile(r.Context(), f, w); err != nil && r.Context().Err() == nil {
		h.log.Error("station: patient file download", "file", f.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
}
