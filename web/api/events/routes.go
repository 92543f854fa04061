// Package events is the event message API (/api/events/v1): the domain
// events of the outbox, as a server-sent event stream that resumes from
// Last-Event-ID, or by long-poll. Each organisation sees its own events; the
// payload of an event is the body the webhooks deliver. Clients use the
// OAuth2 tokens of the FHIR face with the scope events.read.
package events

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
)

// Deps is what the face needs.
type Deps struct {
	Store *store.Store
	OAuth *auth.OAuth
	Log   *slog.Logger
	// Heartbeat is how often an idle stream sends a comment, so that
	// proxies keep it open (default 15 s).
	Heartbeat time.Duration
}

// Handler serves the event API.
type Handler struct {
	store     *store.Store
	oauth     *auth.OAuth
	log       *slog.Logger
	heartbeat time.Duration
}

// New returns the face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Heartbeat <= 0 {
		d.Heartbeat = 15 * time.Second
	}
	return &Handler{store: d.Store, oauth: d.OAuth, log: d.Log, heartbeat: d.Heartbeat}
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
		{"GET", "/api/events/v1/stream", "events.read", "Server-sent events (?topic=; resumes after Last-Event-ID or ?after=)", h.stream},
		{"GET", "/api/events/v1/events", "events.read", "Long-poll: events after ?after= (?topic=&wait=&limit=)", h.poll},
		{"GET", "/api/events/v1/topics", "events.read", "The topics events can be filtered by", h.topics},
	}
}

// Register adds the routes to mux, each behind the token check of its scope.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, rt := range h.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, h.oauth.Require(rt.Scope, h.fail, rt.Handler))
	}
}
