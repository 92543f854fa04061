package poct

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// maxDocument is the largest document accepted (an instrument PDF, a
// spirometry file).
const maxDocument = 20 << 20

func (h *Handler) toDocument(f *store.PatientFile, patientUUID, encounterUUID string) documentJSON {
	return documentJSON{ID: f.UUID, PatientRef: patientUUID, EncounterRef: encounterUUID, Title: f.Title,
		Filename: f.Filename, ContentType: f.ContentType, Size: f.Size, SHA256: f.SHA256, CreatedAt: rfc3339(f.CreatedAt)}
}

// listDocuments: GET /api/poct/v1/encounters/{encounter_id}/documents.
func (h *Handler) listDocuments(w http.ResponseWriter, r *http.Request) {
	e, err := h.store.Encounter(r.Context(), orgID(r), r.PathValue("encounter_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fs, err := h.store.EncounterFiles(r.Context(), orgID(r), e.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[documentJSON]{Data: make([]documentJSON, 0, len(fs))}
	for i := range fs {
		out.Data = append(out.Data, h.toDocument(&fs[i], e.PatientUUID, e.UUID))
	}
	httpx.JSON(w, http.StatusOK, out)
}

// createDocument: POST /api/poct/v1/encounters/{encounter_id}/documents?filename=&title=
// with the file as the raw body.
func (h *Handler) createDocument(w http.ResponseWriter, r *http.Request) {
	e, err := h.store.Encounter(r.Context(), orgID(r), r.PathValue("encounter_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tooLarge := &apiError{http.StatusRequestEntityTooLarge, "too_large", "a document may be at most " + strconv.Itoa(maxDocument>>20) + " MiB"}
	if r.ContentLength > maxDocument {
		h.fail(w, r, tooLarge)
		return
	}
	release, err := h.uploads.Enter(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer release()
	// The body goes to a spool on disk as it arrives and from there into
	// the database in chunks: never whole in memory.
	spool, err := h.store.NewSpool(maxDocument)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer spool.Close()
	_, err = io.Copy(spool, r.Body)
	if errors.Is(err, store.ErrSpoolFull) {
		err = tooLarge
	} else if err != nil {
		err = &httpx.DecodeError{Msg: "could not read the request body", Err: err}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ct := r.Header.Get("Content-Type")
	if ct == "application/x-www-form-urlencoded" {
		ct = "" // curl --data-binary's default: guess from the name and bytes instead
	}
	// Only the documented types, and only bytes that are what the type says
	// (a "PDF" must start with %PDF-); no empty documents.
	if ct, err = store.CheckDocument(ct, r.URL.Query().Get("filename"), spool.Size(), spool.Head()); err != nil {
		h.fail(w, r, err)
		return
	}
	f := &store.PatientFile{PatientID: e.PatientID, AppointmentID: e.ID, Title: r.URL.Query().Get("title"),
		Filename: r.URL.Query().Get("filename"), ContentType: ct, Spool: spool, Source: "poct-api",
		SourceRef: store.ActorFrom(r.Context()).Name}
	if err := h.store.AddPatientFile(r.Context(), orgID(r), f); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/poct/v1/documents/"+f.UUID)
	httpx.JSON(w, http.StatusCreated, h.toDocument(f, e.PatientUUID, e.UUID))
}

// getDocument: GET /api/poct/v1/documents/{document_id}: the bytes,
// streamed from the store a chunk at a time.
func (h *Handler) getDocument(w http.ResponseWriter, r *http.Request) {
	f, err := h.store.PatientFileMetaByUUID(r.Context(), orgID(r), r.PathValue("document_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), orgID(r), "patient-file", f.UUID, f.PatientID)
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+strconv.Quote(f.Filename)[1:])
	w.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
	w.Header().Set("X-Content-SHA256", f.SHA256)
	if _, err := h.store.CopyPatientFile(r.Context(), f, w); err != nil && r.Context().Err() == nil {
		// Part of the file is sent: cut the connection so the client sees
		// a short body rather than a complete-looking one.
		h.log.Error("poct api: document download", "document", f.UUID, "err", err)
		panic(http.ErrAbortHandler)
	}
}
