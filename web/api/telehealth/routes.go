// Package telehealth is the telehealth REST API face (/qapi/v1/...), as
// documented in shared/specs/telehealth-solo-external-api.txt: a thin
// translation between that wire format and the one clinic model in store.
package telehealth

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/clinicbox/clinicbox/store"
)

// Deps is what the telehealth face needs.
type Deps struct {
	Store     *store.Store
	Log       *slog.Logger
	PublicURL string     // base of the visit links the API returns
	Reports   ReportJobs // encounter-report generation (nil: those endpoints answer 503)
	// CacheBytes is the memory for encoded patient answers, kept coherent
	// with writes by the store; 0 turns the cache off.
	CacheBytes int
}

// Handler serves the telehealth API.
type Handler struct {
	store     *store.Store
	log       *slog.Logger
	publicURL string
	reports   ReportJobs

	keyUse sync.Map // api key id -> last time we recorded its use (unix seconds)
	keys   keyCache // recently verified keys
	cache  *store.PatientCache

	mu         sync.Mutex
	registered []string // every pattern Register added, for the OpenAPI test
}

// New returns the telehealth face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Handler{store: d.Store, log: d.Log, publicURL: d.PublicURL, reports: d.Reports,
		cache: d.Store.NewPatientCache(d.CacheBytes)}
}

// Route is one line of the route table. Register serves it and the OpenAPI
// document describes it, so the two cannot drift apart.
type Route struct {
	Method  string
	Pattern string // full path with {wildcards}
	Summary string
	Public  bool // true: no Api-Key (the OpenAPI document, linking)
	Handler http.HandlerFunc
}

// Routes is the whole route table of the face.
func (h *Handler) Routes() []Route {
	return []Route{
		{"GET", "/qapi/v1/openapi.json", "This API's OpenAPI 3.1 document", true, h.openAPI},

		{"POST", "/qapi/v1/patients", "Create a patient; answers its SPID", false, h.createPatient},
		{"GET", "/qapi/v1/patients/{patient_id}", "Get a patient by the client's patient id", false, h.getPatient},
		{"PUT", "/qapi/v1/patients/{patient_id}", "Update a patient by the client's patient id", false, h.updatePatient},
		{"GET", "/qapi/v1/patients/id/type/SPID/value/{solo_patient_id}", "Get a patient by SPID", false, h.getPatientBySPID},
		{"PUT", "/qapi/v1/patients/id/type/SPID/value/{solo_patient_id}", "Update a patient by SPID", false, h.updatePatientBySPID},
		{"POST", "/qapi/v1/patients/{patient_id}/documents", "Add a document to a patient", false, h.createPatientDocument},

		{"POST", "/qapi/v1/patients/{patient_id}/appointments", "Create an appointment for a patient (client's patient id)", false, h.createAppointment},
		{"POST", "/qapi/v1/patients/HSID/{hsid}/appointments", "Create an appointment for a patient by HSID", false, h.createAppointmentByHSID},
		{"POST", "/qapi/v1/patients/id/type/SPID/value/{solo_patient_id}/appointments", "Create an appointment for a patient by SPID", false, h.createAppointmentBySPID},
		{"GET", "/qapi/v1/appointments/{appointment_id}", "Get an appointment", false, h.getAppointment},
		{"PUT", "/qapi/v1/appointments/{appointment_id}", "Update or cancel an appointment", false, h.updateAppointment},
		{"GET", "/qapi/v1/appointments/{appointment_id}/provider-link", "Get the provider's visit link", false, h.providerLink},
		{"GET", "/qapi/v1/appointments/{appointment_id}/msteams-provider-link", "Microsoft Teams provider link (not available on this appliance)", false, h.msTeamsProviderLink},
		{"GET", "/qapi/v1/appointments/{external_appointment_id}/video-call-links", "Get both visit links by the appointment's external id", false, h.videoCallLinksByExternalID},
		{"GET", "/qapi/v1/appointments/id/type/SAID/value/{solo_appointment_id}/video-call-links", "Get both visit links by SAID", false, h.videoCallLinksBySAID},

		{"GET", "/qapi/v1/waiting-rooms", "List waiting rooms", false, h.listWaitingRooms},
		{"GET", "/qapi/v1/appointment-slots", "List free appointment slots of a waiting room", false, h.listSlots},

		{"GET", "/qapi/v1/appointments/{appointment_id}/visit-note", "Get an appointment's visit note", false, h.getVisitNote},
		{"PUT", "/qapi/v1/appointments/{appointment_id}/visit-note", "Set answers of an appointment's visit note", false, h.putVisitNote},

		{"POST", "/qapi/v1/appointments/{appointmentId}/attachments", "Upload an attachment (raw body, ?fileName=)", false, h.createAttachment},
		{"GET", "/qapi/v1/appointments/{appointmentId}/attachments", "List an appointment's attachments", false, h.listAttachments},
		{"DELETE", "/qapi/v1/appointments/{appointmentId}/attachments/{attachmentId}", "Delete an attachment", false, h.deleteAttachment},

		{"POST", "/qapi/v1/patients/{patient_id}/episodes", "Create an episode of care", false, h.createEpisode},
		{"GET", "/qapi/v1/patients/{patient_id}/episodes", "List a patient's episodes of care", false, h.listEpisodes},
		{"GET", "/qapi/v1/episodes/{episode_id}", "Get an episode of care", false, h.getEpisode},
		{"PUT", "/qapi/v1/episodes/{episode_id}", "Update an episode of care", false, h.updateEpisode},
		{"GET", "/qapi/v1/episodes/{episode_id}/appointments", "List an episode's appointments", false, h.listEpisodeAppointments},
		{"PUT", "/qapi/v1/appointments/{appointment_id}/episode/assign", "Assign an appointment to an episode", false, h.assignEpisode},

		// Webhooks, linking, reports, perfect answer, assistance requests.
		{"POST", "/qapi/v1/webhooks", "Add a webhook; answers its encryptionKey", false, h.createWebhook},
		{"GET", "/qapi/v1/webhooks", "List active webhooks", false, h.listWebhooks},
		{"GET", "/qapi/v1/webhooks/{webhookId}", "Get a webhook with its encryptionKey", false, h.getWebhook},
		{"PUT", "/qapi/v1/webhooks/{webhookId}", "Update a webhook's endpoint and events", false, h.updateWebhook},
		{"DELETE", "/qapi/v1/webhooks/{webhookId}", "Deactivate a webhook", false, h.deleteWebhook},

		{"GET", "/qapi/v1/reports/csv-data-dump", "CSV of the appointments in a date range (?from=YYYY-MM-DD&to=YYYY-MM-DD)", false, h.csvDataDump},
		{"POST", "/qapi/v1/encounter-report/create", "Order a password-protected zipped CSV encounter report", false, h.createEncounterReport},
		{"GET", "/qapi/v1/encounter-report/status/{reportId}", "Status of an encounter report (pending, completed, failed)", false, h.encounterReportStatus},
		{"GET", "/qapi/v1/encounter-report/download/{reportId}", "Download a completed encounter report (AES-256 zip)", false, h.downloadEncounterReport},

		{"POST", "/qapi/v1/perfect-answer", "Perfect answer: patient, visit and visit note answers in one call", false, h.perfectAnswer},

		{"POST", "/qapi/v1/request-assistance", "Create an assistance request at a care location", false, h.createAssistanceRequest},
		{"GET", "/qapi/v1/request-assistance", "Get the open assistance request at a care location", false, h.currentAssistanceRequest},
		{"DELETE", "/qapi/v1/request-assistance", "Cancel the open assistance request at a care location", false, h.cancelAssistanceRequest},

		{"GET", "/integrations/linking", "Context-aware linking: redirect to the visit named by the encrypted ?arg=", true, h.linking},
	}
}

// Register adds the face's routes to mux. Routes with Public false are
// wrapped in the Api-Key check.
func (h *Handler) Register(m *http.ServeMux) {
	mux := &recordingMux{m: m, h: h} // records patterns for the OpenAPI test
	for _, rt := range h.Routes() {
		var handler http.Handler = rt.Handler
		if !rt.Public {
			handler = h.apiKey(handler)
		}
		mux.Handle(rt.Method+" "+rt.Pattern, handler)
	}
}

// Registered lists every pattern Register added, in order.
func (h *Handler) Registered() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.registered...)
}

type recordingMux struct {
	m *http.ServeMux
	h *Handler
}

func (r *recordingMux) Handle(pattern string, handler http.Handler) {
	r.h.mu.Lock()
	r.h.registered = append(r.h.registered, pattern)
	r.h.mu.Unlock()
	r.m.Handle(pattern, handler)
}

func (r *recordingMux) HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(handler))
}
