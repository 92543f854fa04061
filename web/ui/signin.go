package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

func (h *handlers) signInForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"), "/board")
	if u, err := h.auth.CurrentUser(w, r); err == nil && u != nil {
		redirect(w, r, next)
		return
	}
	p := signInProps{Page: layout.PageProps{Title: text.T(r.Context()).SignInTitle, Flash: layout.TakeFlash(w, r)}, Next: next}
	h.render(w, r, http.StatusOK, signInPage(p))
}

func (h *handlers) signIn(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	email, password := r.PostForm.Get("email"), r.PostForm.Get("password")
	next := localPath(r.PostForm.Get("next"), "/board")
	p := signInProps{Page: layout.PageProps{Title: text.T(r.Context()).SignInTitle}, Email: email, Next: next}
	// Attempts are counted per account (the e-mail as typed, known or not)
	// and per client address, and answered alike for an unknown e-mail and
	// a real account: same status, same wait, same time spent.
	start := time.Now()
	keys := []string{auth.AccountKey(email), auth.AddressKey(r)}
	if ok, wait := h.auth.Allow(keys...); !ok {
		secs := int(wait.Round(time.Second).Seconds())
		p.Error = text.T(r.Context()).SignInWait(max(secs, 1))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		h.render(w, r, http.StatusTooManyRequests, signInPage(p))
		return
	}
	u, err := h.st.Authenticate(r.Context(), email, password)
	switch {
	case errors.Is(err, store.ErrBadCredentials):
		h.auth.Fail(keys...)
		auth.Equalise(start)
		p.Error = text.T(r.Context()).BadCredentials
		h.render(w, r, http.StatusUnauthorized, signInPage(p))
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.auth.Succeed(keys[0])
	has, mustEnrol, err := h.auth.SecondFactorPolicy(r.Context(), u)
	switch {
	case err != nil:
		h.fail(w, r, err)
	case has:
		// The password was right; the code decides (/signin/code).
		if err := h.auth.BeginSecondFactor(w, u, next); err != nil {
			h.fail(w, r, err)
			return
		}
		redirect(w, r, "/signin/code")
	case mustEnrol:
		if err := h.auth.SignInToEnrol(w, r, u); err != nil {
			h.fail(w, r, err)
			return
		}
		redirect(w, r, auth.EnrolPath)
	default:
		if err := h.auth.SignIn(w, r, u); err != nil {
			h.fail(w, r, err)
			return
		}
		redirect(w, r, next)
	}
}

func (h *handlers) signOut(w http.ResponseWriter, r *http.Request) {
	if err := h.auth.SignOut(w, r); err != nil {
		h.log.Warn("sign out", "err", err)
	}
	layout.SetFlash(w, layout.FlashInfo, text.T(r.Context()).SignedOut)
	redirect(w, r, "/signin")
}

func (h *handlers) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	if !confirmed(r) {
		ctx := r.Context()
		p := confirmProps{Title: text.T(ctx).SignOutEverywhere, Question: i18n.T(ctx, "ConfirmSignOutAll"),
			Action: "/account/signout-all", Fields: []layout.KV{{Name: "confirm", Value: "yes"}},
			Confirm: text.T(ctx).SignOutEverywhere, Back: localPath(r.Referer(), "/board"), TestID: "confirm-signout-all"}
		if u, err := url.Parse(r.Referer()); err == nil && u.Path != "" {
			p.Back = localPath(u.RequestURI(), "/board")
		}
		p.Page = h.props(w, r, p.Title, "")
		h.render(w, r, http.StatusOK, confirmPage(p))
		return
	}
	u := user(r)
	if err := h.st.DeleteUserSessions(r.Context(), u.OrgID, u.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.auth.SignOut(w, r) // the row is gone already; this clears the cookie
	layout.SetFlash(w, layout.FlashInfo, text.T(r.Context()).SignedOutEverywhere)
	redirect(w, r, "/signin")
}
