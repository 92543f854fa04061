package telehealth

import (
	"context"
	"testing"

	"github.com/clinicbox/clinicbox/store"
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
