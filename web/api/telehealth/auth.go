package telehealth

import (
	"context"
	"errors"
	"net/http"
	"strconv"

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

// lookupKey finds the key in the face's cache, or verifies it against the
// database and caches it under its tag. A revoked key is dropped from the
// cache by the revocation's outbox event (invalidate) before the revoke is
// answered, so it is refused from the next request on; a revocation by
// another process on the same database (the command line, another node)
// reaches the cache through the store's event poll, within a second.
// Unknown keys are not cached: they cannot fill the cache.
func (h *Handler) lookupKey(ctx context.Context, token string) (*store.APIKey, error) {
	if h.cache == nil {
		return h.store.APIKeyByToken(ctx, token)
	}
	v, err := h.cache.Get("apikey\x00"+token, func() (any, int, []string, error) {
		k, err := h.store.APIKeyByToken(ctx, token)
		if err != nil {
			return nil, 0, nil, err
		}
		return k, 256 + len(token) + len(k.Name), []string{apiKeyTag(k.ID)}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*store.APIKey), nil
}

func apiKeyTag(id int64) string { return "apikey:" + strconv.FormatInt(id, 10) }
