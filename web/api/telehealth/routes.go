package telehealth

import (
	"log/slog"
	"sync"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Deps is what the telehealth face needs.
type Deps struct {
	Store     *store.Store
	Log       *slog.Logger
	PublicURL string     // base of the visit links the API returns
	Reports   ReportJobs // encounter-report generation (nil: those endpoints answer 503)
	// Cache keeps encoded patient answers between requests (web wires a
	// cache.Cache with this face's share of --cache-mb); nil: every read
	// goes to the store.
	Cache Cache
	// Uploads caps the large uploads read at once, shared with the other
	// faces; nil: no cap.
	Uploads *httpx.UploadGate
}

// Cache is the memory the face keeps answers in. Get answers the value
// under key or makes it with fill, which names the tags the value depends
// on; Invalidate drops the entries of tags, also those being filled. The
// face drops a patient's tag when the store's outbox reports a change of
// the patient (see invalidate), before the write that changed it is
// acknowledged.
type Cache interface {
	Get(key string, fill func() (value any, size int, tags []string, err error)) (any, error)
	Invalidate(tags ...string)
}

// Handler serves the telehealth API.
type Handler struct {
	uploads   *httpx.UploadGate
	store     *store.Store
	log       *slog.Logger
	publicURL string
	reports   ReportJobs

	keyUse sync.Map // api key id -> last time we recorded its use (unix seconds)
	cache  Cache    // nil: none
}

// New returns the telehealth face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	h := &Handler{store: d.Store, log: d.Log, publicURL: d.PublicURL, reports: d.Reports, cache: d.Cache, uploads: d.Uploads}
	if h.cache != nil {
		d.Store.WatchEvents(h.invalidate)
	}
	return h
}

// Routes is the whole route table of the face (httpx.Register serves it).
// Every route but the OpenAPI document and linking passes the Api-Key check.
// The OpenAPI document is built from this table too, so the two cannot
// drift apart.
func (h *Handler) Routes() []httpx.Route {
	key := h.apiKey
	return []httpx.Route{
		{Method: "GET", Pattern: "/qapi/v1/openapi.json", Handler: h.openAPI, Summary: "This API's OpenAPI 3.1 document", Public: true},

		{Method: "POST", Pattern: "/qapi/v1/patients", Guard: key, Handler: h.createPatient, Summary: "Create a patient; answers its SPID"},
		{Method: "GET", Pattern: "/qapi/v1/patients/{patient_id}", Guard: key, Handler: h.getPatient, Summary: "Get a patient by the client's patient id"},
		{Method: "PUT", Pattern: "/qapi/v1/patients/{patient_id}", Guard: key, Handler: h.updatePatient, Summary: "Update a patient by the client's patient id"},
		{Method: "GET", Pattern: "/qapi/v1/patients/id/type/SPID/value/{solo_patient_id}", Guard: key, Handler: h.getPatientBySPID, Summary: "Get a patient by SPID"},
		{Method: "PUT", Pattern: "/qapi/v1/patients/id/type/SPID/value/{solo_patient_id}", Guard: key, Handler: h.updatePatientBySPID, Summary: "Update a patient by SPID"},
		{Method: "POST", Pattern: "/qapi/v1/patients/{patient_id}/documents", Guard: key, Handler: h.createPatientDocument, Summary: "Add a document to a patient"},

		{Method: "POST", Pattern: "/qapi/v1/patients/{patient_id}/appointments", Guard: key, Handler: h.createAppointment, Summary: "Create an appointment for a patient (client's patient id)"},
		{Method: "POST", Pattern: "/qapi/v1/patients/HSID/{hsid}/appointments", Guard: key, Handler: h.createAppointmentByHSID, Summary: "Create an appointment for a patient by HSID"},
		{Method: "POST", Pattern: "/qapi/v1/patients/id/type/SPID/value/{solo_patient_id}/appointments", Guard: key, Handler: h.createAppointmentBySPID, Summary: "Create an appointment for a patient by SPID"},
		{Method: "GET", Pattern: "/qapi/v1/appointments/{appointment_id}", Guard: key, Handler: h.getAppointment, Summary: "Get an appointment"},
		{Method: "PUT", Pattern: "/qapi/v1/appointments/{appointment_id}", Guard: key, Handler: h.updateAppointment, Summary: "Update or cancel an appointment"},
		{Method: "GET", Pattern: "/qapi/v1/appointments/{appointment_id}/provider-link", Guard: key, Handler: h.providerLink, Summary: "Get the provider's visit link"},
		{Method: "GET", Pattern: "/qapi/v1/appointments/{appointment_id}/msteams-provider-link", Guard: key, Handler: h.msTeamsProviderLink, Summary: "Microsoft Teams provider link (not available on this appliance)"},
		{Method: "GET", Pattern: "/qapi/v1/appointments/{external_appointment_id}/video-call-links", Guard: key, Handler: h.videoCallLinksByExternalID, Summary: "Get both visit links by the appointment's external id"},
		{Method: "GET", Pattern: "/qapi/v1/appointments/id/type/SAID/value/{solo_appointment_id}/video-call-links", Guard: key, Handler: h.videoCallLinksBySAID, Summary: "Get both visit links by SAID"},

		{Method: "GET", Pattern: "/qapi/v1/waiting-rooms", Guard: key, Handler: h.listWaitingRooms, Summary: "List waiting rooms"},
		{Method: "GET", Pattern: "/qapi/v1/appointment-slots", Guard: key, Handler: h.listSlots, Summary: "List free appointment slots of a waiting room"},

		{Method: "GET", Pattern: "/qapi/v1/appointments/{appointment_id}/visit-note", Guard: key, Handler: h.getVisitNote, Summary: "Get an appointment's visit note"},
		{Method: "PUT", Pattern: "/qapi/v1/appointments/{appointment_id}/visit-note", Guard: key, Handler: h.putVisitNote, Summary: "Set answers of an appointment's visit note"},

		{Method: "POST", Pattern: "/qapi/v1/appointments/{appointmentId}/attachments", Guard: key, Handler: h.createAttachment, Summary: "Upload an attachment (raw body, ?fileName=)"},
		{Method: "GET", Pattern: "/qapi/v1/appointments/{appointmentId}/attachments", Guard: key, Handler: h.listAttachments, Summary: "List an appointment's attachments"},
		{Method: "DELETE", Pattern: "/qapi/v1/appointments/{appointmentId}/attachments/{attachmentId}", Guard: key, Handler: h.deleteAttachment, Summary: "Delete an attachment"},

		{Method: "POST", Pattern: "/qapi/v1/patients/{patient_id}/episodes", Guard: key, Handler: h.createEpisode, Summary: "Create an episode of care"},
		{Method: "GET", Pattern: "/qapi/v1/patients/{patient_id}/episodes", Guard: key, Handler: h.listEpisodes, Summary: "List a patient's episodes of care"},
		{Method: "GET", Pattern: "/qapi/v1/episodes/{episode_id}", Guard: key, Handler: h.getEpisode, Summary: "Get an episode of care"},
		{Method: "PUT", Pattern: "/qapi/v1/episodes/{episode_id}", Guard: key, Handler: h.updateEpisode, Summary: "Update an episode of care"},
		{Method: "GET", Pattern: "/qapi/v1/episodes/{episode_id}/appointments", Guard: key, Handler: h.listEpisodeAppointments, Summary: "List an episode's appointments"},
		{Method: "PUT", Pattern: "/qapi/v1/appointments/{appointment_id}/episode/assign", Guard: key, Handler: h.assignEpisode, Summary: "Assign an appointment to an episode"},

		// Webhooks, linking, reports, perfect answer, assistance requests.
		{Method: "POST", Pattern: "/qapi/v1/webhooks", Guard: key, Handler: h.createWebhook, Summary: "Add a webhook; answers its encryptionKey"},
		{Method: "GET", Pattern: "/qapi/v1/webhooks", Guard: key, Handler: h.listWebhooks, Summary: "List active webhooks"},
		{Method: "GET", Pattern: "/qapi/v1/webhooks/{webhookId}", Guard: key, Handler: h.getWebhook, Summary: "Get a webhook with its encryptionKey"},
		{Method: "PUT", Pattern: "/qapi/v1/webhooks/{webhookId}", Guard: key, Handler: h.updateWebhook, Summary: "Update a webhook's endpoint and events"},
		{Method: "DELETE", Pattern: "/qapi/v1/webhooks/{webhookId}", Guard: key, Handler: h.deleteWebhook, Summary: "Deactivate a webhook"},

		{Method: "GET", Pattern: "/qapi/v1/reports/csv-data-dump", Guard: key, Handler: h.csvDataDump, Summary: "CSV of the appointments in a date range (?from=YYYY-MM-DD&to=YYYY-MM-DD)"},
		{Method: "POST", Pattern: "/qapi/v1/encounter-report/create", Guard: key, Handler: h.createEncounterReport, Summary: "Order a password-protected zipped CSV encounter report"},
		{Method: "GET", Pattern: "/qapi/v1/encounter-report/status/{reportId}", Guard: key, Handler: h.encounterReportStatus, Summary: "Status of an encounter report (pending, completed, failed)"},
		{Method: "GET", Pattern: "/qapi/v1/encounter-report/download/{reportId}", Guard: key, Handler: h.downloadEncounterReport, Summary: "Download a completed encounter report (AES-256 zip)"},

		{Method: "POST", Pattern: "/qapi/v1/perfect-answer", Guard: key, Handler: h.perfectAnswer, Summary: "Perfect answer: patient, visit and visit note answers in one call"},

		{Method: "POST", Pattern: "/qapi/v1/request-assistance", Guard: key, Handler: h.createAssistanceRequest, Summary: "Create an assistance request at a care location"},
		{Method: "GET", Pattern: "/qapi/v1/request-assistance", Guard: key, Handler: h.currentAssistanceRequest, Summary: "Get the open assistance request at a care location"},
		{Method: "DELETE", Pattern: "/qapi/v1/request-assistance", Guard: key, Handler: h.cancelAssistanceRequest, Summary: "Cancel the open assistance request at a care location"},

		{Method: "GET", Pattern: "/integrations/linking", Handler: h.linking, Summary: "Context-aware linking: redirect to the visit named by the encrypted ?arg=", Public: true},
	}
}
