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
