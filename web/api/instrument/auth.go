package instrument

import (
	"context"
	"net/http"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type authRequest struct {
	ClientID     string `json:"clientID"`
	ClientSecret string `json:"clientSecret"`
}

// integrationAuth exchanges client credentials for an access token valid
// for 10 minutes.
func (h *Handler) integrationAuth(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := httpx.DecodeJSON(w, r, &req, 16<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	var v store.Validator
	v.Check(req.ClientID != "", "clientID", "is required")
	v.Check(req.ClientSecret != "", "clientSecret", "is required")
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	token, _, _, err := h.store.IssueInstrumentToken(r.Context(), req.ClientID, req.ClientSecret)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, map[string]any{"data": map[string]string{"accessToken": token}})
}

type clientKey struct{}

// clientFrom returns the authenticated client put in ctx by requireToken.
func clientFrom(ctx context.Context) *store.InstrumentClient {
	c, _ := ctx.Value(clientKey{}).(*store.InstrumentClient)
	return c
}

// requireToken lets a request through with a valid access token in the
// Authorization header (sent raw, as the spec says; a "Bearer " prefix is
// tolerated), scoping it to the client's organisation.
func (h *Handler) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimSpace(r.Header.Get("Authorization"))
		if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
			token = strings.TrimSpace(token[7:])
		}
		c, err := h.store.InstrumentClientByToken(r.Context(), token)
		if err != nil {
			if err == store.ErrBadClientCredentials {
				h.fail(w, r, errUnauthorized)
				return
			}
			h.fail(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), clientKey{}, c)
		ctx = store.WithActor(ctx, store.Actor{OrgID: c.OrgID, Name: "instrument-client:" + c.Name, RemoteAddr: httpx.ClientIP(r)})
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
