package admin

import (
	"context"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

func clientFields(ctx context.Context, name, scope string, errs map[string]string) (layout.Field, layout.Field) {
	return layout.Field{Name: "name", Label: i18n.T(ctx, "Adm1ClientFor"), Value: name, Error: errs["name"], Required: true,
			Hint: i18n.T(ctx, "Adm1ClientForHint"), TestID: "client-name"},
		layout.Field{Name: "scope", Label: i18n.T(ctx, "Adm1Scopes"), Value: scope, Error: errs["scope"], Required: true,
			Hint:   i18n.T(ctx, "Adm1ScopesHint", "Scopes", "system/*.read, system/Patient.read, system/Observation.write, system/*.*, kv.read, kv.write, reports.read, events.read"),
			TestID: "client-scope"}
}

func (h *handlers) clientsProps(w http.ResponseWriter, r *http.Request) (APIClientsProps, error) {
	u := auth.UserFrom(r.Context())
	cs, err := h.st.OAuthClients(r.Context(), u.OrgID)
	if err != nil {
		return APIClientsProps{}, err
	}
	p := APIClientsProps{Page: layout.PageProps{Title: i18n.T(r.Context(), "Adm1APIClients"), User: u, Active: layout.NavAdmin, Flash: layout.TakeFlash(w, r)}, Clients: cs}
	p.Name, p.Scope = clientFields(r.Context(), "", "system/*.read", nil)
	return p, nil
}

// apiClients: GET /admin/integrations/api-clients.
func (h *handlers) apiClients(w http.ResponseWriter, r *http.Request) {
	p, err := h.clientsProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, APIClientsPage(p))
}

// createAPIClient: POST /admin/integrations/api-clients. The secret is
// shown in this response only.
func (h *handlers) createAPIClient(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	name, scope := r.PostForm.Get("name"), r.PostForm.Get("scope")
	c, secret, err := h.st.CreateOAuthClient(r.Context(), orgOf(r), store.ClientKindFHIR, name, store.ParseScopes(scope))
	issued(h, w, r, http.StatusOK, err, func() (APIClientsProps, error) { return h.clientsProps(w, r) }, APIClientsPage,
		func(p *APIClientsProps, bad map[string]string) {
			p.Name, p.Scope = clientFields(r.Context(), name, scope, bad)
		},
		func(p *APIClientsProps) { p.New, p.NewSecret = c, secret })
}

// revokeAPIClient: POST /admin/integrations/api-clients/{id}/revoke.
func (h *handlers) revokeAPIClient(w http.ResponseWriter, r *http.Request) {
	h.revoked(w, r, h.st.RevokeOAuthClient(r.Context(), orgOf(r), r.PathValue("id")),
		i18n.T(r.Context(), "Adm1ClientRevoked"), "/admin/integrations/api-clients")
}
