package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

func nameField(value, errMsg string) layout.Field {
	return layout.Field{Name: "name", Label: "What is the key for?", Value: value, Error: errMsg, Required: true,
		Hint: "For example the EHR or scheduling system that will use it.", TestID: "key-name"}
}

func (h *handlers) keysProps(w http.ResponseWriter, r *http.Request) (APIKeysProps, error) {
	u := auth.UserFrom(r.Context())
	keys, err := h.st.APIKeys(r.Context(), u.OrgID)
	if err != nil {
		return APIKeysProps{}, err
	}
	return APIKeysProps{
		Page: layout.PageProps{Title: text.T(r.Context()).AdminAPIKeys, User: u, Active: layout.NavAdmin, Flash: layout.TakeFlash(w, r)},
		Keys: keys, Name: nameField("", ""),
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
// this response only (no redirect, so it never sits in a URL or a cookie).
func (h *handlers) createAPIKey(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	u := auth.UserFrom(r.Context())
	k := &store.APIKey{Name: r.PostForm.Get("name")}
	token, err := h.st.CreateAPIKey(r.Context(), u.OrgID, k)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		p, perr := h.keysProps(w, r)
		if perr != nil {
			h.fail(w, r, perr)
			return
		}
		p.Name = nameField(r.PostForm.Get("name"), ve.Fields["name"])
		h.render(w, r, http.StatusUnprocessableEntity, APIKeysPage(p))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.keysProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.NewKey, p.NewFor = token, k.Name
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, APIKeysPage(p))
}

// revokeAPIKey: POST /admin/integrations/api-keys/{id}/revoke.
func (h *handlers) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	u := auth.UserFrom(r.Context())
	err = h.st.RevokeAPIKey(r.Context(), u.OrgID, id)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, "The key was revoked: requests with it are now refused.")
	http.Redirect(w, r, "/admin/integrations/api-keys", http.StatusSeeOther)
}
