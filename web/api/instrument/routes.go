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
	// MaxFields bounds the request without its files' data, which is read
	// into memory (the data streams to disk): 1000 results of 10000
	// characters fit.
	MaxFields = 12 << 20
)

// Deps is what the face needs.
type Deps struct {
	Store *store.Store
	Log   *slog.Logger
	// Uploads caps the large uploads read at once, shared with the other
	// faces; nil: no cap.
	Uploads *httpx.UploadGate
}

// Handler serves the instrument integrations API.
type Handler struct {
	store   *store.Store
	log     *slog.Logger
	uploads *httpx.UploadGate
}

// New returns the face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Handler{store: d.Store, log: d.Log, uploads: d.Uploads}
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
