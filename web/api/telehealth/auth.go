package telehealth

import (
	"context"
	"errors"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// keyUseInterval is how often a key's last_used_at is refreshed at most.
const keyUseInterval = 60

// apiKey resolves the Api-Key header to an organisation and puts the actor
// "apikey:<name>" in the request context. A missing, unknown or revoked key
// is a 401 in the spec's error shape; the key itself is never logged.
func (h *Handler) apiKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get("Api-Key")
		if token == "" {
			writeError(w, http.StatusUnauthorized, "Missing Api-Key header")
			return
		}
		key, err := h.lookupKey(r.Context(), token)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusUnauthorized, "Invalid or revoked Api-Key")
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.touchKey(r.Context(), key)
		ctx := store.WithActor(r.Context(), store.Actor{
			OrgID: key.OrgID, Name: "apikey:" + key.Name, RemoteAddr: httpx.ClientIP(r),
		})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// touchKey records that a key was used, at most once a minute per key and
// process, so that a busy integration does not turn every read into a write.
func (h *Handler) touchKey(ctx context.Context, key *store.APIKey) {
	now := h.store.Now().Unix()
	if now-key.LastUsedAt.Unix() < keyUseInterval && !key.LastUsedAt.IsZero() {
		return
	}
	if v, ok := h.keyUse.Load(key.ID); ok && now-v.(int64) < keyUseInterval {
		return
	}
	h.keyUse.Store(key.ID, now)
	if err := h.store.TouchAPIKey(context.WithoutCancel(ctx), key.ID); err != nil {
		h.log.Warn("api key last use", "key", key.ID, "err", err)
	}
}

// orgID is the organisation the request's key belongs to.
func orgID(r *http.Request) int64 { return store.ActorFrom(r.Context()).OrgID }

// lookupKey verifies a key against the database on every request: one
// indexed read, so a key revoked anywhere (a page, the command line,
// another node on the same database) stops working at once.
func (h *Handler) lookupKey(ctx context.Context, token string) (*store.APIKey, error) {
	return h.store.APIKeyByToken(ctx, token)
}
