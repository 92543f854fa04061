// Package poct is the administration pages of the point-of-care feed: API
// tokens, the live device fleet (across a distributor's clinics), QC with
// Levey-Jennings charts, LIS destinations with their message log and the
// code-mapping table, and the webhook delivery log.
package poct

import (
	"log/slog"
	"net/http"

	"github.com/a-h/templ"

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
	Live  *live.Hub // nil: the fleet page refreshes on a timer only
	Log   *slog.Logger
}

type handlers struct {
	st   *store.Store
	live *live.Hub
	log  *slog.Logger
}

// Handler serves the pages.
type Handler struct {
	h    *handlers
	auth *auth.Auth
}

// New returns the pages.
func New(d Deps) *Handler {
	h := &handlers{st: d.Store, live: d.Live, log: d.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	return &Handler{h: h, auth: d.Auth}
}

// Routes is the pages' route table (httpx.Register serves it): admins only.
func (p *Handler) Routes() []httpx.Route {
	h := p.h
	admin := p.auth.Require(store.RoleAdmin)
	return []httpx.Route{
		{Method: "GET", Pattern: "/admin/poct", Guard: admin, Handler: h.tokens},
		{Method: "POST", Pattern: "/admin/poct/tokens", Guard: admin, Handler: h.createToken},
		{Method: "POST", Pattern: "/admin/poct/tokens/{id}/revoke", Guard: admin, Handler: h.revokeToken},
		{Method: "GET", Pattern: "/admin/poct/fleet", Guard: admin, Handler: h.fleet},
		{Method: "GET", Pattern: "/admin/poct/fleet/events", Guard: admin, Handler: h.fleetEvents},
		{Method: "GET", Pattern: "/admin/poct/qc", Guard: admin, Handler: h.qc},
		{Method: "POST", Pattern: "/admin/poct/qc/targets", Guard: admin, Handler: h.saveTarget},
		{Method: "GET", Pattern: "/admin/poct/lis", Guard: admin, Handler: h.lis},
		{Method: "POST", Pattern: "/admin/poct/lis", Guard: admin, Handler: h.addLIS},
		{Method: "POST", Pattern: "/admin/poct/lis/{name}/remove", Guard: admin, Handler: h.removeLIS},
		{Method: "POST", Pattern: "/admin/poct/lis/messages/{id}/retry", Guard: admin, Handler: h.retryLIS},
		{Method: "POST", Pattern: "/admin/poct/codemap", Guard: admin, Handler: h.publishCodeMap},
		{Method: "GET", Pattern: "/admin/poct/webhooks", Guard: admin, Handler: h.webhooks},
		{Method: "POST", Pattern: "/admin/poct/webhooks/deliveries/{id}/resend", Guard: admin, Handler: h.resend},
	}
}

func (h *handlers) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	if err := layout.Render(w, r, status, c); err != nil {
		h.log.Error("poct page", "err", err)
	}
}

func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("poct page", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func (h *handlers) parse(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
	}
	return true
}

func crumbs(here string) []layout.Crumb {
	return []layout.Crumb{{Label: "Admin", Href: "/admin"}, {Label: "Point of care", Href: "/admin/poct"}, {Label: here}}
}

func pageProps(w http.ResponseWriter, r *http.Request, title string) layout.PageProps {
	return layout.PageProps{Title: title, User: auth.UserFrom(r.Context()), Active: layout.NavAdmin,
		Flash: layout.TakeFlash(w, r), Crumbs: crumbs(title)}
}
