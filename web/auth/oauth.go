package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// OAuth serves the OAuth2 client-credentials token endpoint (RFC 6749 §4.4,
// SMART backend services with client_secret_basic or client_secret_post)
// and checks the bearer tokens it issues. The FHIR, key-value, reporting and
// event APIs share it: one client, one token, a scope per API.
type OAuth struct {
	Store *store.Store

	watch sync.Once
	mu    sync.Mutex
	cache map[string]cachedGrant
	// revokes counts the revocations seen: a grant read before one is not
	// cached after it (its client may be the one revoked meanwhile).
	revokes uint64
}

type cachedGrant struct {
	g       *store.OAuthGrant
	checked time.Time
}

// grantCacheTTL bounds how long a verified token is trusted without asking
// the database again. A revoked client's tokens are dropped from the cache
// by the revocation's outbox event (forget), before the revoke is
// answered; the TTL is only a backstop for a store that polls no outbox
// (store.WithEventPoll(0)) while another process revokes.
const grantCacheTTL = 5 * time.Second

type grantKey struct{}

// GrantFrom returns the grant put in ctx by Require (nil if none).
func GrantFrom(ctx context.Context) *store.OAuthGrant {
	g, _ := ctx.Value(grantKey{}).(*store.OAuthGrant)
	return g
}

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// tokenError is RFC 6749 §5.2.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeTokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="clinicbox"`)
	}
	httpx.JSON(w, status, tokenError{code, desc})
}

// Token is the token endpoint: POST application/x-www-form-urlencoded with
// grant_type=client_credentials, an optional scope, and the client's
// credentials either in HTTP Basic (client_secret_basic) or in the form
// (client_secret_post).
func (o *OAuth) Token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ct := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0])
	if !strings.EqualFold(ct, "application/x-www-form-urlencoded") {
		writeTokenError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeTokenError(w, http.StatusBadRequest, "invalid_request", "the body is not a valid form")
		return
	}
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			writeTokenError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		} else {
			writeTokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only grant_type=client_credentials is supported")
		}
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic && (f.Has("client_id") && f.Get("client_id") != id || f.Has("client_secret")) {
		writeTokenError(w, http.StatusBadRequest, "invalid_request", "send the client credentials one way: HTTP Basic or the form, not both")
		return
	}
	if !basic {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if id == "" || secret == "" {
		writeTokenError(w, http.StatusUnauthorized, "invalid_client", "client_id and client_secret are required (HTTP Basic or form)")
		return
	}
	var requested []string
	for _, s := range store.ParseScopes(f.Get("scope")) {
		if !store.ValidScope(s) {
			writeTokenError(w, http.StatusBadRequest, "invalid_scope", "unknown scope "+s)
			return
		}
		requested = append(requested, s)
	}
	ctx := store.WithActor(r.Context(), store.Actor{Name: "oauth-client:" + id, RemoteAddr: httpx.ClientIP(r)})
	token, g, err := o.Store.IssueOAuthToken(ctx, id, secret, requested)
	switch {
	case errors.Is(err, store.ErrBadClientCredentials):
		writeTokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client, wrong secret or revoked client")
		return
	case errors.Is(err, store.ErrInvalidScope):
		writeTokenError(w, http.StatusBadRequest, "invalid_scope", "the client was not issued "+strings.TrimPrefix(err.Error(), store.ErrInvalidScope.Error()+": "))
		return
	case err != nil:
		writeTokenError(w, http.StatusInternalServerError, "server_error", "the token could not be issued")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	httpx.JSON(w, http.StatusOK, tokenResponse{AccessToken: token, TokenType: "bearer",
		ExpiresIn: int(g.ExpiresAt.Sub(o.Store.Now()).Round(time.Second).Seconds()), Scope: strings.Join(g.Scopes, " ")})
}

// AuthError is why Require refused a request; each face renders it in its
// own error shape.
type AuthError struct {
	Status int    // 401 or 403
	Code   string // invalid_token, insufficient_scope
	Msg    string
}

func (e *AuthError) Error() string { return e.Msg }

// Coded makes an AuthError an httpx.CodedError: the OAuth2 faces answer
// its status and code as they are.
func (e *AuthError) Coded() (int, string) { return e.Status, e.Code }

// Scope is Require as a route's guard (httpx.Route.Guard): the one way
// the OAuth2 faces (FHIR, key-value, reports, events) wrap a route with a
// scope check.
func (o *OAuth) Scope(scope string, fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return o.Require(scope, fail, next) }
}

// Require lets a request through with a valid bearer token that allows
// scope, scoping it to the client's organisation. fail renders refusals
// (a 401 or 403 AuthError) and store errors in the face's error shape.
func (o *OAuth) Require(scope string, fail func(http.ResponseWriter, *http.Request, error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, err := o.Verify(r.Context(), r)
		if err != nil {
			var ae *AuthError
			if errors.As(err, &ae) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="clinicbox", error="invalid_token"`)
			}
			fail(w, r, err)
			return
		}
		if scope != "" && !g.Allows(scope) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="clinicbox", error="insufficient_scope", scope="`+scope+`"`)
			fail(w, r, &AuthError{http.StatusForbidden, "insufficient_scope", "the access token does not grant " + scope})
			return
		}
		next.ServeHTTP(w, r.WithContext(WithGrant(r.Context(), g, httpx.ClientIP(r))))
	})
}

// WithGrant puts a grant and its actor in ctx (handlers that check scopes
// per request, such as FHIR's, call Verify and then this).
func WithGrant(ctx context.Context, g *store.OAuthGrant, remote string) context.Context {
	ctx = context.WithValue(ctx, grantKey{}, g)
	return store.WithActor(ctx, store.Actor{OrgID: g.Client.OrgID, Name: "oauth-client:" + g.Client.Name, RemoteAddr: remote})
}

// Verify checks the request's bearer token.
func (o *OAuth) Verify(ctx context.Context, r *http.Request) (*store.OAuthGrant, error) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return nil, &AuthError{http.StatusUnauthorized, "invalid_token", "an access token is required: Authorization: Bearer TOKEN"}
	}
	token := strings.TrimSpace(h[7:])
	// Watch before the first grant is cached: no entry can then miss the
	// revocation of its client. Lazily, because OAuth is a plain struct.
	o.watch.Do(func() { o.Store.WatchEvents(o.forget) })
	now := time.Now()
	o.mu.Lock()
	c, ok := o.cache[token]
	seen := o.revokes
	o.mu.Unlock()
	if ok && now.Sub(c.checked) < grantCacheTTL && o.Store.Now().Before(c.g.ExpiresAt) {
		return c.g, nil
	}
	g, err := o.Store.OAuthGrantByToken(ctx, token)
	if errors.Is(err, store.ErrBadClientCredentials) {
		return nil, &AuthError{http.StatusUnauthorized, "invalid_token", "the access token is unknown, expired or revoked"}
	}
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	if o.cache == nil || len(o.cache) > 10000 {
		o.cache = map[string]cachedGrant{} // drop stale entries wholesale
	}
	if o.revokes == seen {
		o.cache[token] = cachedGrant{g, now}
	}
	o.mu.Unlock()
	return g, nil
}

// forget drops the cached grants of revoked clients. It runs in the
// store's writer (WatchEvents): quick, and it never touches the store.
func (o *OAuth) forget(evs []store.Event) {
	var revoked []int64
	for _, e := range evs {
		if e.Type == store.EventCredentialRevoked && e.SubjectType == store.CredentialOAuthClient {
			revoked = append(revoked, e.SubjectID)
		}
	}
	if len(revoked) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.revokes++
	for token, c := range o.cache {
		if slices.Contains(revoked, c.g.Client.ID) {
			delete(o.cache, token)
		}
	}
}
