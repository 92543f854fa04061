// Package instrument is the instrument integrations API face
// (/api/v1/integrationAuth, instrumentPatients, instrumentResults), as
// documented in shared/specs/instrument-integrations-api.txt: instrument
// vendors' software (ECG, spirometry) lists the patients with appointments
// and posts measurement results, which land in the one observations model.
//
// Authentication is client credentials: POST integrationAuth answers an
// access token valid for 10 minutes, which is sent as the raw Authorization
// header. The spec documents no error shape; this face answers errors as
// {"error":{"message":"...","fields":{"name":"problem"}}} (fields only for
// invalid input), with 400 for bad input, 401 for missing, wrong or expired
// credentials, 404 for an unknown patient, 413 for a body or file over the
// limits and 500 for the appliance's own faults.
package instrument

import (
	"log/slog"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Limits on what a client may post.
const (
	MaxBody    = 48 << 20                 // a whole instrumentResults request
	MaxFile    = store.MaxPatientFileSize // one decoded file
	MaxFiles   = 20
	MaxResults = 1000
)

// Deps is what the face needs.
type Deps struct {
	Store *store.Store
	Log   *slog.Logger
}

// Handler serves the instrument integrations API.
type Handler struct {
	store *store.Store
	log   *slog.Logger
}

// New returns the face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Handler{store: d.Store, log: d.Log}
}

// Routes is the face's whole route table (httpx.Register serves it).
func (h *Handler) Routes() []httpx.Route {
	token := h.requireToken
	return []httpx.Route{
		{Method: "POST", Pattern: "/api/v1/integrationAuth", Handler: h.integrationAuth},
		{Method: "GET", Pattern: "/api/v1/instrumentPatients", Guard: token, Handler: h.listPatients},
		{Method: "POST", Pattern: "/api/v1/instrumentResults", Guard: token, Handler: h.submitResults},
	}
}
