package poct

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Deps is what the POCT face needs.
type Deps struct {
	Store *store.Store
	Log   *slog.Logger
	// RequireTLS refuses requests that did not arrive over HTTPS (directly,
	// or through a proxy that says X-Forwarded-Proto: https). Off only when
	// the appliance serves plain HTTP on purpose.
	RequireTLS bool
	// Uploads caps the large uploads read at once, shared with the other
	// faces; nil: no cap.
	Uploads *httpx.UploadGate
}

// Handler serves the POCT API.
type Handler struct {
	uploads    *httpx.UploadGate
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
	return &Handler{store: d.Store, log: d.Log, requireTLS: d.RequireTLS, uploads: d.Uploads}
}

// Routes is the whole route table of the face (httpx.Register serves it;
// the OpenAPI document describes it). Every route refuses plain HTTP when
// RequireTLS is set; all but the public ones need a bearer token.
func (h *Handler) Routes() []httpx.Route {
	tls := h.https
	token := func(next http.Handler) http.Handler { return h.https(h.bearer(next)) }
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/poct/v1/openapi.json", Guard: tls, Handler: h.openAPI, Summary: "This API's OpenAPI 3.1 document", Public: true},

		{Method: "GET", Pattern: "/api/poct/v1/patients", Guard: token, Handler: h.listPatients, Summary: "List or look up patients (?identifier=, ?q=)"},
		{Method: "POST", Pattern: "/api/poct/v1/patients", Guard: token, Handler: h.createPatient, Summary: "Create a patient"},
		{Method: "GET", Pattern: "/api/poct/v1/patients/{patient_id}", Guard: token, Handler: h.getPatient, Summary: "Get a patient"},

		{Method: "GET", Pattern: "/api/poct/v1/encounters", Guard: token, Handler: h.listEncounters, Summary: "List encounters (appointments and walk-ins)"},
		{Method: "POST", Pattern: "/api/poct/v1/encounters", Guard: token, Handler: h.createEncounter, Summary: "Open a walk-in encounter at an instrument station"},
		{Method: "GET", Pattern: "/api/poct/v1/encounters/{encounter_id}", Guard: token, Handler: h.getEncounter, Summary: "Get an encounter"},
		{Method: "POST", Pattern: "/api/poct/v1/encounters/{encounter_id}/complete", Guard: token, Handler: h.completeEncounter, Summary: "Mark an encounter completed"},
		{Method: "GET", Pattern: "/api/poct/v1/encounters/{encounter_id}/documents", Guard: token, Handler: h.listDocuments, Summary: "List the documents attached to an encounter"},
		{Method: "POST", Pattern: "/api/poct/v1/encounters/{encounter_id}/documents", Guard: token, Handler: h.createDocument, Summary: "Attach a document to an encounter (raw body, ?filename=)"},
		{Method: "GET", Pattern: "/api/poct/v1/documents/{document_id}", Guard: token, Handler: h.getDocument, Summary: "Download a document"},

		{Method: "GET", Pattern: "/api/poct/v1/orders", Guard: token, Handler: h.listOrders, Summary: "List orders"},
		{Method: "POST", Pattern: "/api/poct/v1/orders", Guard: token, Handler: h.createOrder, Summary: "Create an order: tests for a sample of an encounter's patient"},
		{Method: "GET", Pattern: "/api/poct/v1/orders/{order_id}", Guard: token, Handler: h.getOrder, Summary: "Get an order and its state"},

		{Method: "GET", Pattern: "/api/poct/v1/results", Guard: token, Handler: h.listResults, Summary: "List results, oldest first, with a cursor"},
		{Method: "GET", Pattern: "/api/poct/v1/results/{result_id}", Guard: token, Handler: h.getResult, Summary: "Get a result (any version)"},
		{Method: "GET", Pattern: "/api/poct/v1/results/{result_id}/versions", Guard: token, Handler: h.resultVersions, Summary: "Every version of a result, first first"},
		{Method: "POST", Pattern: "/api/poct/v1/results/{result_id}/corrections", Guard: token, Handler: h.correctResult, Summary: "Store a correction as a new version"},
		{Method: "GET", Pattern: "/api/poct/v1/messages/{message_id}", Guard: token, Handler: h.getMessage, Summary: "The raw message a result came from, byte for byte"},

		{Method: "GET", Pattern: "/api/poct/v1/devices", Guard: token, Handler: h.listDevices, Summary: "List devices with their fleet status"},
		{Method: "GET", Pattern: "/api/poct/v1/devices/{device_id}", Guard: token, Handler: h.getDevice, Summary: "Get a device with its fleet status"},

		{Method: "GET", Pattern: "/api/poct/v1/qc/runs", Guard: token, Handler: h.listQCRuns, Summary: "List QC runs with the Westgard rules they violated"},
		{Method: "POST", Pattern: "/api/poct/v1/qc/runs", Guard: token, Handler: h.createQCRun, Summary: "Record a QC run measured outside an instrument message"},
		{Method: "GET", Pattern: "/api/poct/v1/qc/targets", Guard: token, Handler: h.listQCTargets, Summary: "List QC targets (mean, SD) per device, analyte, lot and level"},
		{Method: "PUT", Pattern: "/api/poct/v1/qc/targets", Guard: token, Handler: h.putQCTarget, Summary: "Create or replace a QC target"},

		{Method: "GET", Pattern: "/api/poct/v1/webhooks", Guard: token, Handler: h.listWebhooks, Summary: "List webhook subscriptions"},
		{Method: "POST", Pattern: "/api/poct/v1/webhooks", Guard: token, Handler: h.createWebhook, Summary: "Subscribe a URL to events; answers the signing secret once"},
		{Method: "DELETE", Pattern: "/api/poct/v1/webhooks/{webhook_id}", Guard: token, Handler: h.deleteWebhook, Summary: "Delete a webhook subscription"},
	}
}
