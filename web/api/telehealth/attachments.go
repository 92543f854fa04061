package telehealth

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type attachmentJSON struct {
	ID            string `json:"id"`
	AppointmentID string `json:"appointmentId"` // the appointment's uuid ("aggregate id")
	Title         string `json:"title"`
	MimeType      string `json:"mimeType"`
	Size          int    `json:"size"`
	UploadedAt    string `json:"uploadedAt"` // RFC 3339 with offset
	Deleted       bool   `json:"deleted"`
}

func toAttachmentJSON(a *store.Attachment, apptUUID string) attachmentJSON {
	return attachmentJSON{ID: a.UUID, AppointmentID: apptUUID, Title: a.Title, MimeType: a.MimeType, Size: a.Size,
		UploadedAt: a.UploadedAt.Format("2006-01-02T15:04:05-07:00"), Deleted: a.Deleted}
}

// unsupportedMime is the spec's message for a type it does not accept.
func unsupportedMime(mt string) string {
	quoted := make([]string, len(store.AttachmentMimeTypes))
	for i, t := range store.AttachmentMimeTypes {
		quoted[i] = `"` + t + `"`
	}
	return fmt.Sprintf("Mime type %q not supported. Available file mime-types: %s", mt, strings.Join(quoted, ", "))
}

var mimeExt = map[string]string{"application/pdf": ".pdf", "application/x-pdf": ".pdf", "image/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}

// createAttachment: POST /qapi/v1/appointments/{appointmentId}/attachments?fileName=...
// The body is the file itself; its type is the Content-Type header (sniffed
// from the bytes when the header is missing or application/octet-stream).
func (h *Handler) createAttachment(w http.ResponseWriter, r *http.Request) {
	appt, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// An attachment (at most 5 MB) is read whole: the upload gate bounds
	// how many are read at once, so memory stays bounded too.
	release, err := h.uploads.Enter(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer release()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, store.MaxAttachmentSize))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("File is too large: the maximum size is 5 MB (%d bytes)", store.MaxAttachmentSize))
		return
	}
	if err != nil {
		h.fail(w, r, badRequest("Could not read the request body"))
		return
	}
	if len(body) == 0 {
		h.fail(w, r, badRequest("The request body is empty: send the file as the body"))
		return
	}
	mt := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if parsed, _, err := mime.ParseMediaType(ct); err == nil {
			mt = strings.ToLower(parsed)
		} else {
			mt = ct
		}
	}
	if mt == "" || mt == "application/octet-stream" {
		mt, _, _ = mime.ParseMediaType(http.DetectContentType(body))
	}
	if !slices.Contains(store.AttachmentMimeTypes, mt) {
		h.fail(w, r, badRequest("%s", unsupportedMime(mt)))
		return
	}
	// The name as sent: the store refuses a path (../../etc/passwd, C:\x),
	// rather than this face quietly keeping its last part.
	title := strings.TrimSpace(r.URL.Query().Get("fileName"))
	if title == "" {
		title = "attachment" + mimeExt[mt]
	}
	a := &store.Attachment{AppointmentID: appt.ID, Title: title, MimeType: mt, Data: body}
	if err := h.store.CreateAttachment(r.Context(), orgID(r), a); err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, toAttachmentJSON(a, appt.UUID))
}

// listAttachments: GET /qapi/v1/appointments/{appointmentId}/attachments.
func (h *Handler) listAttachments(w http.ResponseWriter, r *http.Request) {
	appt, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := h.store.Attachments(r.Context(), orgID(r), appt.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := struct {
		Attachments []attachmentJSON `json:"attachments"`
	}{Attachments: []attachmentJSON{}}
	for i := range list {
		out.Attachments = append(out.Attachments, toAttachmentJSON(&list[i], appt.UUID))
	}
	h.store.AuditRead(r.Context(), orgID(r), "attachments", fmt.Sprint(appt.ID), appt.PatientID)
	httpx.JSON(w, http.StatusOK, out)
}

// deleteAttachment: DELETE /qapi/v1/appointments/{appointmentId}/attachments/{attachmentId}.
// Answers 204 No Content.
func (h *Handler) deleteAttachment(w http.ResponseWriter, r *http.Request) {
	appt, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	err = h.store.DeleteAttachment(r.Context(), orgID(r), appt.ID, strings.ToLower(r.PathValue("attachmentId")))
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Attachment")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
