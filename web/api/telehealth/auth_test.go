package telehealth

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/cache"
	"github.com/clinicbox/clinicbox/web/httpx"
)

func TestAPIKeyRevocationAndLastUse(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	k := &store.APIKey{Name: "short-lived"}
	token, err := e.st.CreateAPIKey(ctx, e.orgA.ID, k)
	if err != nil {
		t.Fatal(err)
	}
	get := func() int {
		status, _, _ := e.do("GET", "/qapi/v1/waiting-rooms", token, "", nil)
		return status
	}
	if s := get(); s != 200 {
		t.Fatalf("fresh key: %d", s)
	}
	keys, _ := e.st.APIKeys(ctx, e.orgA.ID)
	for _, kk := range keys {
		if kk.ID == k.ID && !kk.LastUsedAt.Equal(testNow) {
			t.Errorf("last_used_at = %v, want %v", kk.LastUsedAt, testNow)
		}
	}
	if err := e.st.RevokeAPIKey(ctx, e.orgA.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	// Refused at once: the very next request.
	if s := get(); s != 401 {
		t.Fatalf("revoked key: %d, want 401 on the next request", s)
	}
	// Another organisation's key cannot be used to revoke or see this one.
	if err := e.st.RevokeAPIKey(ctx, e.orgB.ID, k.ID); err == nil {
		t.Fatal("org B revoked org A's key")
	}
}

// A key revoked by another process on the same database (the command line,
// another node) is refused once this server's event poll has read the
// revocation: the cached key is dropped by the outbox, not kept until it
// ages out.
func TestAPIKeyRevokedByAnotherProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "clinicbox.db")
	st := storetest.OpenFile(t, path, store.WithEventPoll(50*time.Millisecond))
	org := storetest.Org(t, st, "Alpha Clinic", "alpha")
	k := &store.APIKey{Name: "integration"}
	token, err := st.CreateAPIKey(ctx, org.ID, k)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	httpx.Register(mux, New(Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Cache: cache.New(1 << 20)}).Routes())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func() int {
		req, _ := http.NewRequest("GET", srv.URL+"/qapi/v1/waiting-rooms", nil)
		req.Header.Set("Api-Key", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for range 3 { // cached from the first on
		if s := get(); s != 200 {
			t.Fatalf("fresh key: %d", s)
		}
	}
	other := storetest.OpenFile(t, path)
	if err := other.RevokeAPIKey(ctx, org.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for get() != 401 {
		if time.Since(revoked) > 5*time.Second {
			t.Fatal("a key revoked by another process still works after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("refused %v after another process revoked it (event poll 50 ms)", time.Since(revoked).Round(time.Millisecond))
}
