package auth

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/gorilla/securecookie"
)

// The sign-in's second step: after the password, a user with a TOTP factor
// gets a short-lived signed cookie naming them (not a session), and only
// the code turns it into a session.

// PendingCookie names the cookie of a sign-in waiting for its code.
const PendingCookie = "clinicbox_2fa"

// PendingTTL is how long the code may take after the password.
const PendingTTL = 5 * time.Minute

// enrolKey marks a session that may only set up a second factor: an admin
// of an organisation that requires one, who has none yet.
const enrolKey = "enrol_2fa"

// EnrolPath is where such a session is sent.
const EnrolPath = "/account/security"

type pending struct {
	UserID  int64
	Next    string
	Expires int64
}

// SecondFactorPolicy says whether u must give a code at sign-in (has a
// confirmed factor) or must set one up first (an admin of an organisation
// that requires it, without one).
func (a *Auth) SecondFactorPolicy(ctx context.Context, u *store.User) (has, mustEnrol bool, err error) {
	sf, err := a.Store.SecondFactorOf(ctx, u.ID)
	if err != nil {
		return false, false, err
	}
	if sf.Enrolled {
		return true, false, nil
	}
	if u.Role != store.RoleAdmin {
		return false, false, nil
	}
	set, err := a.Store.OrgSettings(ctx, u.OrgID)
	if err != nil {
		return false, false, err
	}
	return false, set.RequireAdminMFA, nil
}

// BeginSecondFactor remembers that u passed the password check.
func (a *Auth) BeginSecondFactor(w http.ResponseWriter, u *store.User, next string) error {
	v, err := securecookie.EncodeMulti(PendingCookie, pending{UserID: u.ID, Next: next, Expires: a.Store.Now().Add(PendingTTL).Unix()}, a.Sessions.codecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: PendingCookie, Value: v, Path: "/signin", MaxAge: int(PendingTTL / time.Second),
		HttpOnly: true, Secure: a.Sessions.opts.Secure, SameSite: http.SameSiteLaxMode})
	return nil
}

// PendingSecondFactor returns the user waiting for their code, if any.
func (a *Auth) PendingSecondFactor(r *http.Request) (userID int64, next string, ok bool) {
	c, err := r.Cookie(PendingCookie)
	if err != nil {
		return 0, "", false
	}
	var p pending
	if securecookie.DecodeMulti(PendingCookie, c.Value, &p, a.Sessions.codecs...) != nil || a.Store.Now().Unix() > p.Expires {
		return 0, "", false
	}
	return p.UserID, p.Next, true
}

// EndSecondFactor forgets the pending sign-in.
func (a *Auth) EndSecondFactor(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: PendingCookie, Value: "", Path: "/signin", MaxAge: -1, HttpOnly: true,
		Secure: a.Sessions.opts.Secure, SameSite: http.SameSiteLaxMode})
}

// SignInToEnrol signs u in with a session that can only set up a second
// factor (Require sends every other page to EnrolPath).
func (a *Auth) SignInToEnrol(w http.ResponseWriter, r *http.Request, u *store.User) error {
	return a.signIn(w, r, u, true)
}

// Enrolled lifts the set-up-only restriction of the request's session.
func (a *Auth) Enrolled(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.Sessions.Get(r, CookieName)
	if err != nil || sess.IsNew {
		return err
	}
	delete(sess.Values, enrolKey)
	return sess.Save(r, w)
}

// mustEnrol reports whether the request's session may only set up a second
// factor, and the path is not part of that.
func (a *Auth) mustEnrol(r *http.Request) bool {
	sess, err := a.Sessions.Get(r, CookieName)
	if err != nil {
		return false
	}
	if v, _ := sess.Values[enrolKey].(bool); !v {
		return false
	}
	return !strings.HasPrefix(r.URL.Path, EnrolPath) && r.URL.Path != "/signout"
}
