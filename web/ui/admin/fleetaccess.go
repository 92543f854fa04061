package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// Fleet access: an admin lets a distributor (an admin of another
// organisation who serves this clinic's analysers) see this organisation's
// devices on their fleet page, and takes it back. Each grant and revocation
// is in the audit log; the CLI's `org grant-fleet` does the same.

// FleetAccessProps is the fleet access page.
type FleetAccessProps struct {
	Page   layout.PageProps
	Grants []store.FleetGrant
	Email  layout.Field
}

func (h *handlers) fleetAccessProps(w http.ResponseWriter, r *http.Request) (FleetAccessProps, error) {
	gs, err := h.st.FleetGrants(r.Context(), orgOf(r))
	return FleetAccessProps{Page: poctPageProps(w, r, i18n.T(r.Context(), "FleetAccessTitle")), Grants: gs,
		Email: layout.Field{Name: "email", Label: i18n.T(r.Context(), "FleetAccessEmail"), Type: "email", Required: true, Autocomplete: "off",
			Hint: i18n.T(r.Context(), "FleetAccessEmailHint"), TestID: "grant-email"}}, err
}

// fleetAccess: GET /admin/poct/access.
func (h *handlers) fleetAccess(w http.ResponseWriter, r *http.Request) {
	p, err := h.fleetAccessProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, FleetAccessPage(p))
}

// grantFleetAccess: POST /admin/poct/access (email).
func (h *handlers) grantFleetAccess(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	err := h.st.GrantFleetByEmail(r.Context(), email, orgOf(r))
	var ve *store.ValidationError
	if err != nil && !errors.As(err, &ve) {
		h.fail(w, r, err)
		return
	}
	if ve != nil {
		p, perr := h.fleetAccessProps(w, r)
		if perr != nil {
			h.fail(w, r, perr)
			return
		}
		p.Email.Value, p.Email.Error = email, layout.Message(r.Context(), ve.Fields["email"])
		if p.Email.Error == "" { // a rule of the grant itself (GrantFleet's "user")
			for _, msg := range ve.Fields {
				p.Email.Error = layout.Message(r.Context(), msg)
			}
		}
		h.render(w, r, http.StatusUnprocessableEntity, FleetAccessPage(p))
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "FleetAccessGranted", "Email", email))
	redirect(w, r, "/admin/poct/access")
}

// revokeFleetAccess: POST /admin/poct/access/{user}/revoke. Only this
// organisation's grants can be revoked: another's answer as not found.
func (h *handlers) revokeFleetAccess(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, store.ErrNotFound)
		return
	}
	if err := h.st.RevokeFleet(r.Context(), orgOf(r), id); err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "FleetAccessRevoked"))
	redirect(w, r, "/admin/poct/access")
}
