// Package kv is the key-value store API (/api/kv/v1): configuration that
// does not fit the clinical model, per organisation and namespace, with
// entity tags for optimistic concurrency. Clients use the OAuth2 tokens of
// the FHIR face with the scopes kv.read and kv.write.
package kv

import (
	"log/slog"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
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

// Route is one line of the route table.
type Route struct {
	Method  string
	Pattern string
	Scope   string
	Summary string
	Handler http.HandlerFunc
}

// Routes is the whole route table of the face.
func (h *Handler) Routes() []Route {
	return []Route{
		{"GET", "/api/kv/v1/{namespace}", "kv.read", "List keys (?prefix=&after=&limit=)", h.list},
		{"GET", "/api/kv/v1/{namespace}/{key...}", "kv.read", "Get a value (ETag = its version)", h.get},
		{"PUT", "/api/kv/v1/{namespace}/{key...}", "kv.write", "Set a value (If-Match / If-None-Match: *)", h.put},
		{"DELETE", "/api/kv/v1/{namespace}/{key...}", "kv.write", "Delete a value (If-Match)", h.delete},
	}
}

// Register adds the routes to mux, each behind the token check of its scope.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, rt := range h.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, h.oauth.Require(rt.Scope, h.fail, rt.Handler))
	}
}
