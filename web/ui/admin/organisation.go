package admin

import (
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// OrgProps is the organisation settings page.
type OrgProps struct {
	Page     layout.PageProps
	Org      *store.Org
	Settings *store.OrgSettings
}

// orgSettings: GET /admin/organisation.
func (h *handlers) orgSettings(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	o, err := h.st.Org(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	set, err := h.st.OrgSettings(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, orgPage(OrgProps{Page: layout.PageProps{Title: i18n.T(r.Context(), "AdminOrganisation"), User: u, Active: layout.NavAdmin,
		Flash: layout.TakeFlash(w, r), Crumbs: []layout.Crumb{{Label: i18n.T(r.Context(), "Administration"), Href: "/admin"}, {Label: i18n.T(r.Context(), "AdminOrganisation")}}}, Org: o, Settings: set}))
}

// saveOrgSettings: POST /admin/organisation.
func (h *handlers) saveOrgSettings(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	u := user(r)
	set := &store.OrgSettings{OrgID: u.OrgID, APIPlan: r.PostForm.Get("plan"), RequireAdminMFA: r.PostForm.Get("require_admin_mfa") == "on"}
	if err := h.st.SetOrgSettings(r.Context(), set); err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "Adm1OrgSaved"))
	redirect(w, r, "/admin/organisation")
}
