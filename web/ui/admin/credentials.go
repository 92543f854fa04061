package admin

import (
	"errors"
	"net/http"

	"github.com/a-h/templ"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// The credential pages (telehealth API keys, OAuth2 API clients,
// instrument API clients, point-of-care tokens) work alike: a list with a
// create form, a secret shown once, a revoke button. These are their
// shared steps.

// issued answers a credential's creation. err is the store's answer: a
// refused form comes back with its field errors (422, refused fills them
// in); otherwise created puts the new secret on the page, which is sent
// uncached with status (200, or 201 where the page has always said so). The secret is on this answer only (no redirect), so it never
// sits in a URL, a cookie or the history.
func issued[P any](h *handlers, w http.ResponseWriter, r *http.Request, status int, err error, props func() (P, error),
	page func(P) templ.Component, refused func(*P, map[string]string), created func(*P)) {
	var ve *store.ValidationError
	if err != nil && !errors.As(err, &ve) {
		h.fail(w, r, err)
		return
	}
	p, perr := props()
	if perr != nil {
		h.fail(w, r, perr)
		return
	}
	if ve != nil {
		refused(&p, layout.LocalFields(r.Context(), ve.Fields))
		h.render(w, r, http.StatusUnprocessableEntity, page(p))
		return
	}
	created(&p)
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, page(p))
}

// revoked answers a credential's revocation: one of another organisation
// (or none) is the 404 page; else the message and back to the list.
func (h *handlers) revoked(w http.ResponseWriter, r *http.Request, err error, msg, list string) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, msg)
	redirect(w, r, list)
}
