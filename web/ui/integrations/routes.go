// Package integrations is the administration pages for the appliance's
// integrations: telehealth API keys, webhooks and their delivery log, the
// context-aware linking secret, locations and report presets.
package integrations

import (
	"log/slog"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
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

// Register adds the integration pages (admins only) to mux.
func Register(mux *http.ServeMux, d Deps) {
	h := &handlers{st: d.Store, log: d.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	admin := d.Auth.Require(store.RoleAdmin)
	page := func(fn http.HandlerFunc) http.Handler { return admin(fn) }

	// Telehealth API keys.
	mux.Handle("GET /admin/integrations/api-keys", page(h.apiKeys))
	mux.Handle("POST /admin/integrations/api-keys", page(h.createAPIKey))
	mux.Handle("POST /admin/integrations/api-keys/{id}/revoke", page(h.revokeAPIKey))

	// Webhooks, linking, locations and report presets.
	mux.Handle("GET /admin/integrations/webhooks", page(h.webhooks))
	mux.Handle("POST /admin/integrations/webhooks/deliveries/{id}/retry", page(h.retryDelivery))
	mux.Handle("GET /admin/integrations/linking", page(h.linking))
	mux.Handle("POST /admin/integrations/linking/rotate", page(h.rotateLinkingSecret))
	mux.Handle("GET /admin/integrations/locations", page(h.places))
	mux.Handle("POST /admin/integrations/locations", page(h.createLocation))
	mux.Handle("POST /admin/integrations/care-locations", page(h.createCareLocation))
	mux.Handle("POST /admin/integrations/report-presets", page(h.createReportPreset))
}
