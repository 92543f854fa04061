package admin

import (
	"errors"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

func clientFields(name, scope string, errs map[string]string) (layout.Field, layout.Field) {
	return layout.Field{Name: "name", Label: "What is the client for?", Value: name, Error: errs["name"], Required: true,
			Hint: "For example the EHR that reads results through FHIR.", TestID: "client-name"},
		layout.Field{Name: "scope", Label: "Scopes", Value: scope, Error: errs["scope"], Required: true,
			Hint:   "Space separated: system/*.read, system/Patient.read, system/Observation.write, system/*.*, kv.read, kv.write, reports.read, events.read.",
			TestID: "client-scope"}
}

func (h *handlers) clientsProps(w http.ResponseWriter, r *http.Request) (APIClientsProps, error) {
	u := auth.UserFrom(r.Context())
	cs, err := h.st.OAuthClients(r.Context(), u.OrgID)
	if err != nil {
		return APIClientsProps{}, err
	}
	p := APIClientsProps{Page: layout.PageProps{Title: "API clients", User: u, Active: layout.NavAdmin, Flash: layout.TakeFlash(w, r)}, Clients: cs}
	p.Name, p.Scope = clientFields("", "system/*.read", nil)
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
// shown in this response only (no redirect: it never sits in a URL or a
// cookie).
func (h *handlers) createAPIClient(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	u := auth.UserFrom(r.Context())
	name, scope := r.PostForm.Get("name"), r.PostForm.Get("scope")
	c, secret, err := h.st.CreateOAuthClient(r.Context(), u.OrgID, store.ClientKindFHIR, name, store.ParseScopes(scope))
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		p, perr := h.clientsProps(w, r)
		if perr != nil {
			h.fail(w, r, perr)
			return
		}
		p.Name, p.Scope = clientFields(name, scope, ve.Fields)
		h.render(w, r, http.StatusUnprocessableEntity, APIClientsPage(p))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.clientsProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.New, p.NewSecret = c, secret
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, APIClientsPage(p))
}

// revokeAPIClient: POST /admin/integrations/api-clients/{id}/revoke.
func (h *handlers) revokeAPIClient(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	err := h.st.RevokeOAuthClient(r.Context(), u.OrgID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, "The client was revoked: it gets no more tokens, and its tokens stop working within seconds.")
	http.Redirect(w, r, "/admin/integrations/api-clients", http.StatusSeeOther)
}
