package station

import (
	"log/slog"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/live"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// Deps is what the pages need.
type Deps struct {
	Store *store.Store
	Auth  *auth.Auth
	Live  *live.Hub
	Log   *slog.Logger
}

type handlers struct {
	st   *store.Store
	live *live.Hub
	log  *slog.Logger
}

// Handler serves the station pages.
type Handler struct {
	h    *handlers
	auth *auth.Auth
}

// New returns the station pages.
func New(d Deps) *Handler {
	h := &handlers{st: d.Store, live: d.Live, log: d.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	return &Handler{h: h, auth: d.Auth}
}

// Routes is the pages' route table (httpx.Register serves it).
func (p *Handler) Routes() []httpx.Route {
	h := p.h
	staff := p.auth.Require(store.RoleAdmin, store.RoleClinician)
	return layout.BoundForms([]httpx.Route{
		{Method: "GET", Pattern: "/stations", Guard: staff, Handler: h.stations},
		{Method: "GET", Pattern: "/stations/{station}", Guard: staff, Handler: h.station},
		{Method: "GET", Pattern: "/stations/{station}/events", Guard: staff, Handler: h.stationEvents},
		{Method: "POST", Pattern: "/stations/{station}/select", Guard: staff, Handler: h.selectPatient},
		{Method: "POST", Pattern: "/stations/{station}/assign", Guard: staff, Handler: h.assign},
		{Method: "POST", Pattern: "/stations/{station}/walk-in", Guard: staff, Handler: h.walkIn},
		{Method: "POST", Pattern: "/stations/{station}/samples", Guard: staff, Handler: h.labelSample},

		{Method: "GET", Pattern: "/patient-files/{id}", Guard: staff, Handler: h.patientFile},
	}, 64<<10)
}
