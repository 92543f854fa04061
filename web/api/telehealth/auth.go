package telehealth

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

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

// keyCacheTTL is how long a verified key is trusted without asking the
// database again. It bounds how long a revoked key keeps working (the
// command line revokes from another process, so the cache cannot simply be
// told); it saves one query on every request of a busy integration.
const keyCacheTTL = 5 * time.Second

// keyCache holds recently verified keys. Only keys that verified are
// cached, so its size is bounded by the number of issued keys; entries are
// keyed by the key itself (already in this process's memory while a
// request is served) and never logged.
type keyCache struct {
	mu  sync.Mutex
	m   map[string]cachedKey
	ttl time.Duration // 0: keyCacheTTL; negative: no caching (tests)
}

type cachedKey struct {
	key     *store.APIKey
	expires time.Time
}

func (c *keyCache) get(token string, now time.Time) (*store.APIKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[token]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.key, true
}

func (c *keyCache) put(token string, k *store.APIKey, now time.Time) {
	ttl := c.ttl
	if ttl == 0 {
		ttl = keyCacheTTL
	}
	if ttl < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedKey{} // drop stale entries wholesale; keys are few
	}
	c.m[token] = cachedKey{key: k, expires: now.Add(ttl)}
}

// lookupKey verifies a key, from the cache when it was verified recently.
func (h *Handler) lookupKey(ctx context.Context, token string) (*store.APIKey, error) {
	now := time.Now() // the cache lifetime is wall time; revocation will evict at once (issue 8)
	if k, ok := h.keys.get(token, now); ok {
		return k, nil
	}
	k, err := h.store.APIKeyByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	h.keys.put(token, k, now)
	return k, nil
}
