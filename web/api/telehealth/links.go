package telehealth

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type providerLinkJSON struct {
	ID               int64  `json:"id"`
	ProviderVisitURL string `json:"providerVisitUrl"`
}

type videoCallLinksJSON struct {
	AppointmentExternalID *string `json:"appointmentExternalId"`
	ProviderVisitURL      string  `json:"providerVisitUrl"`
	PatientVisitURL       string  `json:"patientVisitUrl"`
}

// auditLinkRead records that a visit link (a credential) was handed out.
func (h *Handler) auditLinkRead(r *http.Request, a *store.Appointment) {
	h.store.AuditRead(r.Context(), a.OrgID, "visit-link", fmt.Sprint(a.ID), a.PatientID)
}

// providerLink: GET /qapi/v1/appointments/{appointment_id}/provider-link.
func (h *Handler) providerLink(w http.ResponseWriter, r *http.Request) {
	a, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auditLinkRead(r, a)
	httpx.JSON(w, http.StatusOK, providerLinkJSON{ID: a.ID, ProviderVisitURL: h.visitURL(a.ProviderToken)})
}

// msTeamsProviderLink: GET /qapi/v1/appointments/{appointment_id}/msteams-provider-link.
// Video runs on the appliance itself; there is no Teams connection, so an
// existing appointment answers 501 Not Implemented (an unknown one 404).
func (h *Handler) msTeamsProviderLink(w http.ResponseWriter, r *http.Request) {
	if _, err := h.appointmentFromPath(r); err != nil {
		h.fail(w, r, err)
		return
	}
	writeError(w, http.StatusNotImplemented, "Microsoft Teams is not connected on this appliance: video visits run on the appliance itself; "+
		"use GET /qapi/v1/appointments/{appointment_id}/provider-link for the provider's link")
}

// videoCallLinksByExternalID: GET /qapi/v1/appointments/{external_appointment_id}/video-call-links.
// The route shares its shape with /appointments/{appointment_id}/...; here
// the segment is always the appointment's external id (the SAID variant
// has its own path).
func (h *Handler) videoCallLinksByExternalID(w http.ResponseWriter, r *http.Request) {
	a, err := h.store.AppointmentBy(r.Context(), orgID(r), store.ApptByExternalID, r.PathValue("external_appointment_id"))
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Appointment")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeVideoCallLinks(w, r, a)
}

// videoCallLinksBySAID: GET /qapi/v1/appointments/id/type/SAID/value/{solo_appointment_id}/video-call-links.
func (h *Handler) videoCallLinksBySAID(w http.ResponseWriter, r *http.Request) {
	a, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeVideoCallLinks(w, r, a)
}

func (h *Handler) writeVideoCallLinks(w http.ResponseWriter, r *http.Request, a *store.Appointment) {
	h.auditLinkRead(r, a)
	httpx.JSON(w, http.StatusOK, videoCallLinksJSON{
		AppointmentExternalID: strOrNil(a.ExternalID),
		ProviderVisitURL:      h.visitURL(a.ProviderToken),
		PatientVisitURL:       h.visitURL(a.PatientToken),
	})
}
