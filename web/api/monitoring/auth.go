package monitoring

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/golang-jwt/jwt/v5"
)

// Token lifetimes, as the spec documents them.
const (
	AccessTTL  = 15 * time.Minute
	RefreshTTL = 7 * 24 * time.Hour
	MFATTL     = 5 * time.Minute
)

const (
	audienceAccess = "clinicbox-monitoring"
	audienceMFA    = "clinicbox-monitoring-mfa"
	issuer         = "clinicbox"
)

// claims of an access token: sub is the user's wire id, sid the sign-in
// (token family), org the organisation's wire id.
type claims struct {
	jwt.RegisteredClaims
	SID string `json:"sid"`
	Org string `json:"org,omitempty"`
}

type loginRequest struct {
	Email    string `json:"email" bound:"shortText" format:"email"`
	Password string `json:"password" bound:"password"`
}

type tokenResponse struct {
	AccessToken  string   `json:"accessToken"`
	RefreshToken string   `json:"refreshToken"`
	TokenType    string   `json:"tokenType"`
	ExpiresIn    int      `json:"expiresIn"`
	User         wireUser `json:"user"`
}

type wireUser struct {
	ID             string `json:"id"`
	Email          string `json:"email"`
	Name           string `json:"name"`
	Role           string `json:"role"`
	OrganizationID string `json:"organizationId"`
}

type mfaRequired struct {
	MFARequired bool   `json:"mfaRequired"`
	MFAToken    string `json:"mfaToken"`
	ExpiresIn   int    `json:"expiresIn"`
}

// login: POST /api/auth/login.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := httpx.DecodeJSON(w, r, &req, 16<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	if strings.TrimSpace(req.Email) == "" || req.Password == "" {
		h.fail(w, r, &store.ValidationError{Fields: map[string]string{"email": "and password are required"}})
		return
	}
	if err := tooLong("email", req.Email, store.MaxShortText, "password", req.Password, store.MaxPassword); err != nil {
		h.fail(w, r, err)
		return
	}
	if !h.allowLogin(w, r) {
		return
	}
	u, err := h.store.Authenticate(r.Context(), req.Email, req.Password)
	if !h.authFailed(w, r, err) {
		return
	}
	sf, err := h.store.SecondFactorOf(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if sf.Enrolled {
		tok, err := h.sign(claims{RegisteredClaims: h.stdClaims(prefixUser+u.UUID, audienceMFA, MFATTL), SID: strconv.FormatInt(u.ID, 10)})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		httpx.JSON(w, http.StatusOK, mfaRequired{MFARequired: true, MFAToken: tok, ExpiresIn: int(MFATTL / time.Second)})
		return
	}
	if u.Role == store.RoleAdmin {
		set, err := h.store.OrgSettings(r.Context(), u.OrgID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if set.RequireAdminMFA {
			writeError(w, http.StatusForbidden, codeMFAEnrol, "your organisation requires administrators to use a second factor: set it up on your profile page first")
			return
		}
	}
	h.issue(w, r, u)
}

// authFailed answers a failed password or code check; it reports whether
// the caller may go on.
func (h *Handler) authFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	var locked *store.LockedError
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrBadCredentials):
		h.logins.fail(auth.ClientKey(r))
		writeError(w, http.StatusUnauthorized, codeBadCredentials, "wrong email or password")
	case errors.Is(err, store.ErrBadSecondFactor):
		h.logins.fail(auth.ClientKey(r))
		writeError(w, http.StatusUnauthorized, codeBadMFA, "the code is not valid (wrong, expired or already used)")
	case errors.As(err, &locked):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(locked.Until.Sub(h.now()).Seconds()))))
		writeError(w, http.StatusTooManyRequests, codeLocked, "too many failed attempts; try again later")
	default:
		h.fail(w, r, err)
	}
	return false
}

type mfaVerifyRequest struct {
	MFAToken string `json:"mfaToken" bound:"jwt"`
	Code     string `json:"code" bound:"code"` // six digits, or a recovery code
}

// verifyMFA: POST /api/auth/mfa/verify.
func (h *Handler) verifyMFA(w http.ResponseWriter, r *http.Request) {
	var req mfaVerifyRequest
	if err := httpx.DecodeJSON(w, r, &req, 16<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.MFAToken == "" || strings.TrimSpace(req.Code) == "" {
		h.fail(w, r, &store.ValidationError{Fields: map[string]string{"mfaToken": "and code are required"}})
		return
	}
	if err := tooLong("mfaToken", req.MFAToken, store.MaxJWT, "code", req.Code, store.MaxCode); err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.parse(req.MFAToken, audienceMFA)
	if err != nil {
		writeError(w, http.StatusUnauthorized, tokenErrorCode(err), "the MFA token is not valid or has expired; sign in again")
		return
	}
	userID, err := strconv.ParseInt(c.SID, 10, 64)
	if err != nil {
		writeError(w, http.StatusUnauthorized, codeUnauthorized, "the MFA token is not valid")
		return
	}
	if !h.allowLogin(w, r) {
		return
	}
	err = h.store.VerifySecondFactor(r.Context(), userID, req.Code, auth.TOTPCheck(req.Code, h.now()))
	if !h.authFailed(w, r, err) {
		return
	}
	u, err := h.store.UserByID(r.Context(), userID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.issue(w, r, u)
}

// issue starts a token family for u and answers its first tokens.
func (h *Handler) issue(w http.ResponseWriter, r *http.Request, u *store.User) {
	refresh := store.NewToken(32)
	fam, err := h.store.StartTokenFamily(r.Context(), u.OrgID, u.ID, refresh, RefreshTTL)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	si, err := h.store.LiveSignIn(r.Context(), fam.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.answerTokens(w, r, si, refresh, u.Name)
}

func (h *Handler) answerTokens(w http.ResponseWriter, r *http.Request, si *store.SignIn, refresh, name string) {
	access, err := h.sign(claims{RegisteredClaims: h.stdClaims(prefixUser+si.UserUUID, audienceAccess, AccessTTL),
		SID: si.FamilyID, Org: prefixOrg + si.OrgUUID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, tokenResponse{
		AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(AccessTTL / time.Second),
		User: wireUser{ID: prefixUser + si.UserUUID, Email: si.UserEmail, Name: name, Role: si.UserRole, OrganizationID: prefixOrg + si.OrgUUID},
	})
}

type refreshRequest struct {
	RefreshToken string `json:"refreshToken" bound:"token"`
}

// refresh: POST /api/auth/refresh.
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := httpx.DecodeJSON(w, r, &req, 16<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.RefreshToken == "" {
		h.fail(w, r, &store.ValidationError{Fields: map[string]string{"refreshToken": "is required"}})
		return
	}
	if err := tooLong("refreshToken", req.RefreshToken, store.MaxToken); err != nil {
		h.fail(w, r, err)
		return
	}
	next := store.NewToken(32)
	fam, err := h.store.RotateRefreshToken(r.Context(), req.RefreshToken, next, RefreshTTL)
	switch {
	case errors.Is(err, store.ErrTokenReuse):
		writeError(w, http.StatusUnauthorized, codeTokenReused, "this refresh token was already used; the sign-in has been revoked: sign in again")
		return
	case errors.Is(err, store.ErrTokenInvalid):
		writeError(w, http.StatusUnauthorized, codeUnauthorized, "the refresh token is not valid, has expired or was revoked")
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.signIns.drop(fam.ID) // a reuse elsewhere may just have revoked it
	si, err := h.store.LiveSignIn(r.Context(), fam.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.store.User(r.Context(), si.OrgID, si.UserID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.answerTokens(w, r, si, next, u.Name)
}

// logout: POST /api/auth/logout (Bearer).
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	si := signInFrom(r.Context())
	if err := h.store.RevokeTokenFamily(r.Context(), si.OrgID, si.FamilyID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.signIns.drop(si.FamilyID)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) stdClaims(subject, audience string, ttl time.Duration) jwt.RegisteredClaims {
	now := h.now()
	return jwt.RegisteredClaims{
		Issuer: issuer, Subject: subject, Audience: jwt.ClaimStrings{audience},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: store.NewToken(12),
	}
}

func (h *Handler) sign(c claims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(h.key)
}

// parse verifies a token's signature, algorithm, issuer, audience and
// expiry on the store's clock.
func (h *Handler) parse(tok, audience string) (*claims, error) {
	var c claims
	_, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return h.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(issuer),
		jwt.WithAudience(audience), jwt.WithExpirationRequired(), jwt.WithTimeFunc(h.now))
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func tokenErrorCode(err error) string {
	if errors.Is(err, jwt.ErrTokenExpired) {
		return codeTokenExpired
	}
	return codeUnauthorized
}

type signInKey struct{}

func signInFrom(ctx context.Context) *store.SignIn { return ctx.Value(signInKey{}).(*store.SignIn) }

// orgID is the organisation the request acts in.
func orgID(r *http.Request) int64 { return signInFrom(r.Context()).OrgID }

// bearer checks the access token and, with withOrg, the X-Organization-ID
// header and the organisation's rate limit, then runs next as that user in
// that organisation.
func (h *Handler) bearer(next http.Handler, withOrg bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="clinicbox"`)
			writeError(w, http.StatusUnauthorized, codeUnauthorized, "missing Authorization: Bearer access token")
			return
		}
		c, err := h.parse(tok, audienceAccess)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="clinicbox", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, tokenErrorCode(err), "the access token is not valid or has expired")
			return
		}
		si, err := h.signIns.get(r.Context(), h.store, c.SID, h.now())
		if errors.Is(err, store.ErrTokenInvalid) {
			writeError(w, http.StatusUnauthorized, codeUnauthorized, "the sign-in has ended; sign in again")
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if withOrg {
			hdr := r.Header.Get("X-Organization-ID")
			if hdr == "" {
				writeError(w, http.StatusBadRequest, codeMissingOrg, "the X-Organization-ID header is required")
				return
			}
			if hdr != prefixOrg+si.OrgUUID {
				writeError(w, http.StatusForbidden, codeOrgForbidden, "you are not a member of that organisation")
				return
			}
			if !h.rateLimit(w, r, si) {
				return
			}
		}
		ctx := context.WithValue(r.Context(), signInKey{}, si)
		ctx = store.WithActor(ctx, store.Actor{OrgID: si.OrgID, UserID: si.UserID, Name: si.UserEmail, RemoteAddr: httpx.ClientIP(r)})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// rateLimit applies the organisation's plan; it reports whether the
// request may go on. The headers follow the IETF RateLimit fields draft.
func (h *Handler) rateLimit(w http.ResponseWriter, r *http.Request, si *store.SignIn) bool {
	perMinute, err := h.plans.get(r.Context(), h.store, si.OrgID, h.now())
	if err != nil {
		h.fail(w, r, err)
		return false
	}
	d := h.limiter.Allow(prefixOrg+si.OrgUUID, perMinute)
	hd := w.Header()
	hd.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	hd.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	hd.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil(d.Reset.Seconds()))))
	hd.Set("RateLimit-Policy", strconv.Itoa(d.Limit)+";w=60")
	if !d.Allowed {
		hd.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.RetryAfter.Seconds())))))
		writeError(w, http.StatusTooManyRequests, codeRateLimited, "rate limit of "+strconv.Itoa(d.Limit)+" requests per minute exceeded")
		return false
	}
	return true
}

// signInCache keeps live sign-ins for a moment so that a busy client does
// not cost a database read per request. An ended sign-in (sign-out, a
// reused refresh token, here or on another node) is dropped by its outbox
// event (forget) before the ending write is answered, and so are all of a
// user's when the account is deactivated, its role changed or its password
// replaced; signInTTL bounds what no event tells (another node's cache
// between its event polls).
const signInTTL = 2 * time.Second

type signInCache struct {
	mu sync.Mutex
	m  map[string]cachedSignIn
	// ended counts the sign-ins ended: one read before an end is not
	// cached after it (it may be the one that ended meanwhile).
	ended uint64
}

type cachedSignIn struct {
	si      *store.SignIn
	expires time.Time
}

func (c *signInCache) get(ctx context.Context, st *store.Store, sid string, now time.Time) (*store.SignIn, error) {
	c.mu.Lock()
	e, ok := c.m[sid]
	seen := c.ended
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.si, nil
	}
	si, err := st.LiveSignIn(ctx, sid)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedSignIn{}
	}
	if c.ended == seen {
		c.m[sid] = cachedSignIn{si: si, expires: now.Add(signInTTL)}
	}
	c.mu.Unlock()
	return si, nil
}

func (c *signInCache) drop(sid string) {
	c.mu.Lock()
	delete(c.m, sid)
	c.mu.Unlock()
}

// forget drops the sign-ins that the outbox says ended. It runs in the
// store's writer (WatchEvents): quick, and it never touches the store.
func (c *signInCache) forget(evs []store.Event) {
	for _, e := range evs {
		if sid, ok := store.EndedSignIn(e); ok {
			c.mu.Lock()
			c.ended++
			delete(c.m, sid)
			c.mu.Unlock()
		}
		if uid, ok := store.EndedUser(e); ok {
			c.mu.Lock()
			c.ended++
			for sid, cs := range c.m {
				if cs.si.UserID == uid {
					delete(c.m, sid)
				}
			}
			c.mu.Unlock()
		}
	}
}

// planCache keeps each organisation's request rate for a few seconds (the
// plan changes in the admin pages, rarely).
type planCache struct {
	mu sync.Mutex
	m  map[int64]cachedPlan
}

type cachedPlan struct {
	perMinute int
	expires   time.Time
}

func (c *planCache) get(ctx context.Context, st *store.Store, orgID int64, now time.Time) (int, error) {
	c.mu.Lock()
	e, ok := c.m[orgID]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.perMinute, nil
	}
	set, err := st.OrgSettings(ctx, orgID)
	if err != nil {
		return 0, err
	}
	n := StandardPerMinute
	if set.APIPlan == store.PlanEnterprise {
		n = EnterprisePerMinute
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[int64]cachedPlan{}
	}
	c.m[orgID] = cachedPlan{perMinute: n, expires: now.Add(5 * time.Second)}
	c.mu.Unlock()
	return n, nil
}

// loginLimiter slows password and code guessing from one address across
// accounts (accounts lock on their own in the store).
type loginLimiter struct {
	l *MemoryLimiter
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{l: NewMemoryLimiter(now)}
}

// Failures from one address: 20 a minute, refilled at that rate.
const loginFailuresPerMinute = 20

func (l *loginLimiter) fail(addr string) { l.l.Allow("fail:"+addr, loginFailuresPerMinute) }

func (h *Handler) allowLogin(w http.ResponseWriter, r *http.Request) bool {
	// Peek: a bucket with no token left refuses; success costs nothing.
	d := h.logins.l.peek("fail:"+auth.ClientKey(r), loginFailuresPerMinute)
	if d.Allowed {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.RetryAfter.Seconds())))))
	writeError(w, http.StatusTooManyRequests, codeRateLimited, "too many failed sign-in attempts from this address; try again later")
	return false
}

// tooLong checks sign-in inputs against their documented limits (field,
// value, limit triples), before any look-up: a longer value is invalid
// input (400), never a failed sign-in that counts towards a lock-out.
func tooLong(args ...any) error {
	var v store.Validator
	for i := 0; i+2 < len(args); i += 3 {
		field, s, max := args[i].(string), args[i+1].(string), args[i+2].(int)
		v.Check(utf8.RuneCountInString(s) <= max, field, fmt.Sprintf("must be at most %d characters", max))
	}
	return v.Err()
}
