package events

import (
	"log/slog"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
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

// Routes is the face's whole route table (httpx.Register serves it).
func (h *Handler) Routes() []httpx.Route {
	token := h.oauth.Scope("events.read", h.fail)
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/events/v1/stream", Guard: token, Handler: h.stream, Summary: "Server-sent events (?topic=; resumes after Last-Event-ID or ?after=)"},
		{Method: "GET", Pattern: "/api/events/v1/events", Guard: token, Handler: h.poll, Summary: "Long-poll: events after ?after= (?topic=&wait=&limit=)"},
		{Method: "GET", Pattern: "/api/events/v1/topics", Guard: token, Handler: h.topics, Summary: "The topics events can be filtered by"},
	}
}
