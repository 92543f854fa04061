package kv

import (
	"log/slog"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Deps is what the face needs.
type Deps struct {
	Store *store.Store
	OAuth *auth.OAuth
	Log   *slog.Logger
}

// Handler serves the key-value API.
type Handler struct {
	store *store.Store
	oauth *auth.OAuth
	log   *slog.Logger
}

// New returns the face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Handler{store: d.Store, oauth: d.OAuth, log: d.Log}
}

// Routes is the face's whole route table (httpx.Register serves it).
func (h *Handler) Routes() []httpx.Route {
	read, write := h.oauth.Scope("kv.read", h.fail), h.oauth.Scope("kv.write", h.fail)
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/kv/v1/{namespace}", Guard: read, Handler: h.list, Summary: "List keys (?prefix=&after=&limit=)"},
		{Method: "GET", Pattern: "/api/kv/v1/{namespace}/{key...}", Guard: read, Handler: h.get, Summary: "Get a value (ETag = its version)"},
		{Method: "PUT", Pattern: "/api/kv/v1/{namespace}/{key...}", Guard: write, Handler: h.put, Summary: "Set a value (If-Match / If-None-Match: *)"},
		{Method: "DELETE", Pattern: "/api/kv/v1/{namespace}/{key...}", Guard: write, Handler: h.delete, Summary: "Delete a value (If-Match)"},
	}
}
