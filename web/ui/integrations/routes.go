package integrations

import (
	"log/slog"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Deps is what the integration pages need.
type Deps struct {
	Store *store.Store
	Auth  *auth.Auth
	Log   *slog.Logger
}

type handlers struct {
	st  *store.Store
	log *slog.Logger
}

// Handler serves the integration pages.
type Handler struct {
	h    *handlers
	auth *auth.Auth
}

// New returns the integration pages.
func New(d Deps) *Handler {
	h := &handlers{st: d.Store, log: d.Log}
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
		// Telehealth API keys.
		{Method: "GET", Pattern: "/admin/integrations/api-keys", Guard: admin, Handler: h.apiKeys},
		{Method: "POST", Pattern: "/admin/integrations/api-keys", Guard: admin, Handler: h.createAPIKey},
		{Method: "POST", Pattern: "/admin/integrations/api-keys/{id}/revoke", Guard: admin, Handler: h.revokeAPIKey},

		// OAuth2 clients of the FHIR, key-value, reporting and event APIs.
		{Method: "GET", Pattern: "/admin/integrations/api-clients", Guard: admin, Handler: h.apiClients},
		{Method: "POST", Pattern: "/admin/integrations/api-clients", Guard: admin, Handler: h.createAPIClient},
		{Method: "POST", Pattern: "/admin/integrations/api-clients/{id}/revoke", Guard: admin, Handler: h.revokeAPIClient},

		// Webhooks, linking, locations and report presets.
		{Method: "GET", Pattern: "/admin/integrations/webhooks", Guard: admin, Handler: h.webhooks},
		{Method: "POST", Pattern: "/admin/integrations/webhooks/deliveries/{id}/retry", Guard: admin, Handler: h.retryDelivery},
		{Method: "GET", Pattern: "/admin/integrations/linking", Guard: admin, Handler: h.linking},
		{Method: "POST", Pattern: "/admin/integrations/linking/rotate", Guard: admin, Handler: h.rotateLinkingSecret},
		{Method: "GET", Pattern: "/admin/integrations/locations", Guard: admin, Handler: h.places},
		{Method: "POST", Pattern: "/admin/integrations/locations", Guard: admin, Handler: h.createLocation},
		{Method: "POST", Pattern: "/admin/integrations/care-locations", Guard: admin, Handler: h.createCareLocation},
		{Method: "POST", Pattern: "/admin/integrations/report-presets", Guard: admin, Handler: h.createReportPreset},
	}
}
