package ui

import (
	"context"
	"net/http"

	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// The signed-in user's own settings (their language). The organisation's
// (its default language, its outgoing mail server) are in package admin.

type accountProps struct {
	Page     layout.PageProps
	Language string // "" = the organisation's
	OrgLang  string
}

func languageOptions(ctx context.Context, withDefault string) []layout.Option {
	var opts []layout.Option
	if withDefault != "" {
		opts = append(opts, layout.Option{Value: "", Label: withDefault})
	}
	return append(opts, layout.Option{Value: "da", Label: "Dansk"}, layout.Option{Value: "en", Label: "English"})
}

func (h *handlers) account(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := user(r)
	org, err := h.st.Org(ctx, u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := accountProps{Language: u.Language, OrgLang: org.Language}
	p.Page = h.props(w, r, i18n.T(ctx, "AccountTitle"), "")
	h.render(w, r, http.StatusOK, accountPage(p))
}

func (h *handlers) saveAccount(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	u := user(r)
	lang := r.PostForm.Get("language")
	if err := h.st.SetUserLanguage(r.Context(), u.OrgID, u.ID, lang); err != nil {
		if layout.FieldErrors(err) != nil {
			layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "LanguageInvalid"))
			redirect(w, r, "/account")
			return
		}
		h.fail(w, r, err)
		return
	}
	// The message is in the language just chosen.
	if lang == "" {
		if org, err := h.st.Org(r.Context(), u.OrgID); err == nil {
			lang = org.Language
		}
	}
	layout.SetFlash(w, layout.FlashOK, i18n.In(lang, "SettingsSaved"))
	redirect(w, r, "/account")
}

// langName is a language code in words, in the page's language.
func langName(ctx context.Context, code string) string { return i18n.T(ctx, "LanguageName."+code) }
