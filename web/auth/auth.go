package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
)

const userKey = "user_id"

// Auth resolves the signed-in user of a request.
type Auth struct {
	Store    *store.Store
	Sessions *SessionStore
	// Limiter slows down password guessing from one address across
	// accounts (the store locks each account on its own).
	Limiter Limiter
	// Forbidden answers a signed-in user whose role may not open a page
	// (the pages set it to their 403 page); nil is a plain 403.
	Forbidden http.Handler
}

type ctxKey struct{}

// UserFrom returns the signed-in user put in ctx by Require (nil if none).
func UserFrom(ctx context.Context) *store.User {
	u, _ := ctx.Value(ctxKey{}).(*store.User)
	return u
}

// CurrentUser returns the request's signed-in user, or nil.
func (a *Auth) CurrentUser(w http.ResponseWriter, r *http.Request) (*store.User, error) {
	sess, err := a.Sessions.Get(r, CookieName)
	if err != nil {
		return nil, err
	}
	id, ok := sess.Values[userKey].(int64)
	if !ok || sess.IsNew {
		return nil, nil
	}
	u, err := a.Store.UserByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, nil
	}
	// Refresh the idle timer at most once a minute, not on every request.
	if last, ok := sess.Values[lastSeenKey].(int64); ok && a.Store.Now().Sub(time.Unix(last, 0)) > time.Minute {
		if err := sess.Save(r, w); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// Require lets a request through only for a signed-in user with one of the
// roles (any role when none are given). Pages redirect to the sign-in page;
// other requests get 401. The user and the audit actor go into the context.
func (a *Auth) Require(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, err := a.CurrentUser(w, r)
			if err != nil {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			if u == nil {
				if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" {
					http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			if a.mustEnrol(r) {
				// An admin who must set up a second factor first.
				http.Redirect(w, r, EnrolPath, http.StatusSeeOther)
				return
			}
			ctx := a.WithUser(r.Context(), u)
			if len(roles) > 0 && !slices.Contains(roles, u.Role) {
				if a.Forbidden != nil {
					a.Forbidden.ServeHTTP(w, r.WithContext(ctx))
					return
				}
				http.Error(w, "your role may not do this", http.StatusForbidden)
				return
			}
			ctx = store.WithActor(ctx, store.Actor{OrgID: u.OrgID, UserID: u.ID, Name: u.Email, RemoteAddr: clientIP(r)})
			w.Header().Set("Cache-Control", "no-store")
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// WithUser returns ctx carrying u and u's page language, as Require sets
// them (for a page outside Require that shows the signed-in user).
func (a *Auth) WithUser(ctx context.Context, u *store.User) context.Context {
	ctx = context.WithValue(ctx, ctxKey{}, u)
	return i18n.WithLang(ctx, a.language(ctx, u))
}

// language is the user's page language: their own choice, else their
// organisation's.
func (a *Auth) language(ctx context.Context, u *store.User) string {
	if u.Language != "" {
		return u.Language
	}
	if o, err := a.Store.Org(ctx, u.OrgID); err == nil && o.Language != "" {
		return o.Language
	}
	return i18n.English
}

// SignIn starts a fresh session for u (a new id, so a session fixed before
// sign-in is worthless).
func (a *Auth) SignIn(w http.ResponseWriter, r *http.Request, u *store.User) error {
	return a.signIn(w, r, u, false)
}

func (a *Auth) signIn(w http.ResponseWriter, r *http.Request, u *store.User, enrolOnly bool) error {
	old, err := a.Sessions.Get(r, CookieName)
	if err == nil && !old.IsNew {
		old.Options.MaxAge = -1
		old.Save(r, w)
	}
	sess, err := a.Sessions.New(&http.Request{Header: http.Header{}}, CookieName)
	if err != nil {
		return err
	}
	sess.Values[userKey] = u.ID
	if enrolOnly {
		sess.Values[enrolKey] = true
	}
	return a.Sessions.Save(r, w, sess)
}

// SignOut ends the request's session.
func (a *Auth) SignOut(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.Sessions.Get(r, CookieName)
	if err != nil {
		return err
	}
	sess.Options.MaxAge = -1
	return sess.Save(r, w)
}

// ClientKey is the key a Limiter counts a request's attempts under.
func ClientKey(r *http.Request) string { return clientIP(r) }

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
