package admin

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// The organisation's settings: its default language and its outgoing mail
// server.

type orgSettingsProps struct {
	Page     layout.PageProps
	Language string
	Mail     store.MailSettings
	Errors   layout.Errors
}

func (h *handlers) adminSettings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgID := user(r).OrgID
	org, err := h.st.Org(ctx, orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	mail, err := h.st.MailSettings(ctx, orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := orgSettingsProps{Language: org.Language, Mail: *mail}
	h.renderSettings(w, r, http.StatusOK, p)
}

func (h *handlers) renderSettings(w http.ResponseWriter, r *http.Request, status int, p orgSettingsProps) {
	ctx := r.Context()
	p.Page = h.props(w, r, i18n.T(ctx, "AdminSettings"), layout.NavAdmin)
	p.Page.Crumbs = adminCrumbs(ctx, i18n.T(ctx, "AdminSettings"))
	p.Mail.Password = "" // never shown again
	h.render(w, r, status, orgSettingsPage(p))
}

func (h *handlers) saveAdminSettings(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	ctx := r.Context()
	orgID := user(r).OrgID
	pf := r.PostForm
	p := orgSettingsProps{Language: pf.Get("language"), Errors: layout.Errors{}}
	p.Mail = store.MailSettings{Host: strings.TrimSpace(pf.Get("host")), Username: pf.Get("username"),
		Password: pf.Get("password"), From: strings.TrimSpace(pf.Get("from"))}
	if port := strings.TrimSpace(pf.Get("port")); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil {
			p.Errors["port"] = i18n.T(ctx, "PortInvalid")
		}
		p.Mail.Port = n
	}
	if !store.ValidLanguage(p.Language) {
		p.Errors["language"] = i18n.T(ctx, "LanguageInvalid")
	}
	if len(p.Errors) == 0 {
		if err := p.Mail.Validate(); err != nil {
			for k, v := range layout.LocalErrors(ctx, err) {
				p.Errors[k] = v
			}
		}
	}
	if len(p.Errors) > 0 {
		h.renderSettings(w, r, http.StatusUnprocessableEntity, p)
		return
	}
	if err := h.st.SetOrgLanguage(ctx, orgID, p.Language); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.st.SaveMailSettings(ctx, orgID, &p.Mail); err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(ctx, "SettingsSaved"))
	redirect(w, r, "/admin/settings")
}

func languageOptions(ctx context.Context, withDefault string) []layout.Option {
	var opts []layout.Option
	if withDefault != "" {
		opts = append(opts, layout.Option{Value: "", Label: withDefault})
	}
	return append(opts, layout.Option{Value: "da", Label: "Dansk"}, layout.Option{Value: "en", Label: "English"})
}

// adminCrumbs is the trail of an admin sub-page: Administration › page.
func adminCrumbs(ctx context.Context, page string) []layout.Crumb {
	return []layout.Crumb{{Label: text.T(ctx).AdminTitle, Href: "/admin"}, {Label: page}}
}
