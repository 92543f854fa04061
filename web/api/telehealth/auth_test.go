package telehealth

import (
	"context"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

func TestAPIKeyRevocationAndLastUse(t *testing.T) {
	e := newTestEnv(t)
	e.h.keys.ttl = 200 * time.Millisecond
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
	// A verified key is trusted for the cache's lifetime, then refused.
	deadline := time.Now().Add(2 * time.Second)
	for get() != 401 {
		if time.Now().After(deadline) {
			t.Fatal("revoked key still accepted after the cache lifetime")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Another organisation's key cannot be used to revoke or see this one.
	if err := e.st.RevokeAPIKey(ctx, e.orgB.ID, k.ID); err == nil {
		t.Fatal("org B revoked org A's key")
	}
}
