package poct

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// https refuses plain-HTTP requests when the appliance serves HTTPS: a
// bearer token must not cross the network in clear.
func (h *Handler) https(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.requireTLS && r.TLS == nil && r.Header.Get("X-Forwarded-Proto") != "https" {
			writeError(w, http.StatusForbidden, "https_required", "this API is served over HTTPS only")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer resolves "Authorization: Bearer <token>" to the token's
// organisation. Every store call of the request is scoped to it, so a
// token never reaches another organisation's data.
func (h *Handler) bearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="poct"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer <token>")
			return
		}
		t, err := h.store.PoctTokenByToken(r.Context(), strings.TrimSpace(token))
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="poct", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "the token is unknown or revoked")
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.touch(r.Context(), t)
		ctx := store.WithActor(r.Context(), store.Actor{OrgID: t.OrgID, Name: "poct:" + t.Name, RemoteAddr: httpx.ClientIP(r)})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// touch records a token's use at most once a minute per process.
func (h *Handler) touch(ctx context.Context, t *store.PoctToken) {
	now := h.store.Now().Unix()
	if !t.LastUsedAt.IsZero() && now-t.LastUsedAt.Unix() < 60 {
		return
	}
	if v, ok := h.touched.Load(t.ID); ok && now-v.(int64) < 60 {
		return
	}
	h.touched.Store(t.ID, now)
	if err := h.store.TouchPoctToken(context.WithoutCancel(ctx), t.ID); err != nil {
		h.log.Warn("poct token last use", "token", t.ID, "err", err)
	}
}

func orgID(r *http.Request) int64 { return store.ActorFrom(r.Context()).OrgID }
