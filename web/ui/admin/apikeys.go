package admin

import (
	"context"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

func nameField(ctx context.Context, value, errMsg string) layout.Field {
	return layout.Field{Name: "name", Label: i18n.T(ctx, "Adm1KeyFor"), Value: value, Error: errMsg, Required: true,
		Hint: i18n.T(ctx, "Adm1KeyForHint"), TestID: "key-name"}
}

func (h *handlers) keysProps(w http.ResponseWriter, r *http.Request) (APIKeysProps, error) {
	u := auth.UserFrom(r.Context())
	keys, err := h.st.APIKeys(r.Context(), u.OrgID)
	if err != nil {
		return APIKeysProps{}, err
	}
	return APIKeysProps{
		Page: layout.PageProps{Title: text.T(r.Context()).AdminAPIKeys, User: u, Active: layout.NavAdmin, Flash: layout.TakeFlash(w, r)},
		Keys: keys, Name: nameField(r.Context(), "", ""),
	}, nil
}

// apiKeys: GET /admin/integrations/api-keys.
func (h *handlers) apiKeys(w http.ResponseWriter, r *http.Request) {
	p, err := h.keysProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, APIKeysPage(p))
}

// createAPIKey: POST /admin/integrations/api-keys. The new key is shown in
// this response only.
func (h *handlers) createAPIKey(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	k := &store.APIKey{Name: r.PostForm.Get("name")}
	token, err := h.st.CreateAPIKey(r.Context(), orgOf(r), k)
	issued(h, w, r, http.StatusOK, err, func() (APIKeysProps, error) { return h.keysProps(w, r) }, APIKeysPage,
		func(p *APIKeysProps, bad map[string]string) {
			p.Name = nameField(r.Context(), r.PostForm.Get("name"), bad["name"])
		},
		func(p *APIKeysProps) { p.NewKey, p.NewFor = token, k.Name })
}

// revokeAPIKey: POST /admin/integrations/api-keys/{id}/revoke.
func (h *handlers) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	h.revoked(w, r, h.st.RevokeAPIKey(r.Context(), orgOf(r), pathID(r)),
		i18n.T(r.Context(), "Adm1KeyRevoked"), "/admin/integrations/api-keys")
}
