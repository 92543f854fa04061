// Package poct is the point-of-care results feed (/api/poct/v1/...), after
// shared/specs/poct-connectivity-catenix-api.txt, which names resources but
// not paths: patients, encounters, orders, results, devices and fleet
// status, QC, documents and webhooks. Everything is carried verbatim: the
// value, unit, reference range, status and flags are the strings the
// analyser sent. Nothing here interprets a result or raises a clinical
// alert; QC rules judge the measurement process only.
package poct

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/clinicbox/clinicbox/store"
)

// Deps is what the POCT face needs.
type Deps struct {
	Store *store.Store
	Log   *slog.Logger
	// RequireTLS refuses requests that did not arrive over HTTPS (directly,
	// or through a proxy that says X-Forwarded-Proto: https). Off only when
	// the appliance serves plain HTTP on purpose.
	RequireTLS bool
}

// Handler serves the POCT API.
type Handler struct {
	store      *store.Store
	log        *slog.Logger
	requireTLS bool

	touched sync.Map // token id -> unix seconds of the last recorded use
}

// New returns the POCT face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Handler{store: d.Store, log: d.Log, requireTLS: d.RequireTLS}
}

// Route is one line of the route table: Register serves it and the OpenAPI
// document describes it.
type Route struct {
	Method  string
	Pattern string
	Summary string
	Public  bool // no bearer token (the OpenAPI document)
	Handler http.HandlerFunc
}

// Routes is the whole route table of the face.
func (h *Handler) Routes() []Route {
	return []Route{
		{"GET", "/api/poct/v1/openapi.json", "This API's OpenAPI 3.1 document", true, h.openAPI},

		{"GET", "/api/poct/v1/patients", "List or look up patients (?identifier=, ?q=)", false, h.listPatients},
		{"POST", "/api/poct/v1/patients", "Create a patient", false, h.createPatient},
		{"GET", "/api/poct/v1/patients/{patient_id}", "Get a patient", false, h.getPatient},

		{"GET", "/api/poct/v1/encounters", "List encounters (appointments and walk-ins)", false, h.listEncounters},
		{"POST", "/api/poct/v1/encounters", "Open a walk-in encounter at an instrument station", false, h.createEncounter},
		{"GET", "/api/poct/v1/encounters/{encounter_id}", "Get an encounter", false, h.getEncounter},
		{"POST", "/api/poct/v1/encounters/{encounter_id}/complete", "Mark an encounter completed", false, h.completeEncounter},
		{"GET", "/api/poct/v1/encounters/{encounter_id}/documents", "List the documents attached to an encounter", false, h.listDocuments},
		{"POST", "/api/poct/v1/encounters/{encounter_id}/documents", "Attach a document to an encounter (raw body, ?filename=)", false, h.createDocument},
		{"GET", "/api/poct/v1/documents/{document_id}", "Download a document", false, h.getDocument},

		{"GET", "/api/poct/v1/orders", "List orders", false, h.listOrders},
		{"POST", "/api/poct/v1/orders", "Create an order: tests for a sample of an encounter's patient", false, h.createOrder},
		{"GET", "/api/poct/v1/orders/{order_id}", "Get an order and its state", false, h.getOrder},

		{"GET", "/api/poct/v1/results", "List results, oldest first, with a cursor", false, h.listResults},
		{"GET", "/api/poct/v1/results/{result_id}", "Get a result (any version)", false, h.getResult},
		{"GET", "/api/poct/v1/results/{result_id}/versions", "Every version of a result, first first", false, h.resultVersions},
		{"POST", "/api/poct/v1/results/{result_id}/corrections", "Store a correction as a new version", false, h.correctResult},
		{"GET", "/api/poct/v1/messages/{message_id}", "The raw message a result came from, byte for byte", false, h.getMessage},

		{"GET", "/api/poct/v1/devices", "List devices with their fleet status", false, h.listDevices},
		{"GET", "/api/poct/v1/devices/{device_id}", "Get a device with its fleet status", false, h.getDevice},

		{"GET", "/api/poct/v1/qc/runs", "List QC runs with the Westgard rules they violated", false, h.listQCRuns},
		{"POST", "/api/poct/v1/qc/runs", "Record a QC run measured outside an instrument message", false, h.createQCRun},
		{"GET", "/api/poct/v1/qc/targets", "List QC targets (mean, SD) per device, analyte, lot and level", false, h.listQCTargets},
		{"PUT", "/api/poct/v1/qc/targets", "Create or replace a QC target", false, h.putQCTarget},

		{"GET", "/api/poct/v1/webhooks", "List webhook subscriptions", false, h.listWebhooks},
		{"POST", "/api/poct/v1/webhooks", "Subscribe a URL to events; answers the signing secret once", false, h.createWebhook},
		{"DELETE", "/api/poct/v1/webhooks/{webhook_id}", "Delete a webhook subscription", false, h.deleteWebhook},
	}
}

// Register adds the face's routes to mux; all but the public ones need a
// bearer token.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, rt := range h.Routes() {
		var handler http.Handler = rt.Handler
		if !rt.Public {
			handler = h.bearer(handler)
		}
		mux.Handle(rt.Method+" "+rt.Pattern, h.https(handler))
	}
}
