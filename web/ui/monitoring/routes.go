package monitoring

import (
	"log/slog"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/live"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// Deps is what the monitoring pages need.
type Deps struct {
	Store *store.Store
	Auth  *auth.Auth
	Live  *live.Hub
	Log   *slog.Logger
}

type handlers struct {
	st   *store.Store
	auth *auth.Auth
	live *live.Hub
	log  *slog.Logger
}

// Handler serves the monitoring pages.
type Handler struct{ h *handlers }

// New returns the monitoring pages.
func New(d Deps) *Handler {
	h := &handlers{st: d.Store, auth: d.Auth, live: d.Live, log: d.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	return &Handler{h}
}

// Routes is the pages' route table (httpx.Register serves it).
func (p *Handler) Routes() []httpx.Route {
	h := p.h
	clinical := h.auth.Require(store.RoleAdmin, store.RoleClinician)
	staff := h.auth.Require(store.RoleAdmin, store.RoleClinician, store.RoleFrontDesk)
	return layout.BoundForms([]httpx.Route{
		{Method: "GET", Pattern: "/monitoring", Guard: clinical, Handler: h.worklist},
		{Method: "GET", Pattern: "/monitoring/events", Guard: clinical, Handler: h.worklistEvents},
		{Method: "POST", Pattern: "/monitoring/alerts/{id}/resolve", Guard: clinical, Handler: h.resolveAlert},
		{Method: "POST", Pattern: "/patients/{id}/enrollments", Guard: clinical, Handler: h.enroll},
		{Method: "GET", Pattern: "/monitoring/enrollments/{id}", Guard: clinical, Handler: h.enrollment},
		{Method: "POST", Pattern: "/monitoring/enrollments/{id}/time", Guard: clinical, Handler: h.logTime},
		{Method: "GET", Pattern: "/monitoring/billing", Guard: clinical, Handler: h.billing},
		{Method: "GET", Pattern: "/monitoring/billing/{month}/export.csv", Guard: clinical, Handler: h.billingCSV},

		// The staff member's own second factor, and the sign-in step that asks for it.
		{Method: "GET", Pattern: "/account/security", Guard: staff, Handler: h.security},
		{Method: "POST", Pattern: "/account/security/totp", Guard: staff, Handler: h.startTOTP},
		{Method: "GET", Pattern: "/account/security/totp/qr.png", Guard: staff, Handler: h.totpQR},
		{Method: "POST", Pattern: "/account/security/totp/confirm", Guard: staff, Handler: h.confirmTOTP},
		{Method: "POST", Pattern: "/account/security/totp/remove", Guard: staff, Handler: h.removeTOTP},
		{Method: "GET", Pattern: "/signin/code", Handler: h.codeForm},
		{Method: "POST", Pattern: "/signin/code", Handler: h.code},
	}, 64<<10)
}
