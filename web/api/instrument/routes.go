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
	"net/http"

	"github.com/clinicbox/clinicbox/store"
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

// Register adds the face's whole route table to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/integrationAuth", h.integrationAuth)
	mux.HandleFunc("GET /api/v1/instrumentPatients", h.requireToken(h.listPatients))
	mux.HandleFunc("POST /api/v1/instrumentResults", h.requireToken(h.submitResults))
}
