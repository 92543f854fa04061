package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// TestBearerCredentials: the telehealth API keys and the POCT tokens are
// one mechanism: each kind is issued once in its own format, found only by
// itself (a key is not a token), refused when tampered with or revoked,
// listed and revoked within its organisation only.
func TestBearerCredentials(t *testing.T) {
	ctx := store.WithActor(context.Background(), store.Actor{Name: "admin@a"})
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, b := &store.Org{Name: "A", Slug: "a"}, &store.Org{Name: "B", Slug: "b"}
	for _, o := range []*store.Org{a, b} {
		if err := st.CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	type kind struct {
		name    string
		scheme  string
		create  func(orgID int64, t *store.BearerToken) (string, error)
		lookup  func(token string) (*store.BearerToken, error)
		list    func(orgID int64) ([]store.BearerToken, error)
		revoke  func(orgID, id int64) error
		touch   func(id int64) error
		creator string
	}
	kinds := []kind{
		{"api key", "cbk_", func(o int64, t *store.BearerToken) (string, error) { return st.CreateAPIKey(ctx, o, t) },
			func(s string) (*store.BearerToken, error) { return st.APIKeyByToken(ctx, s) },
			func(o int64) ([]store.BearerToken, error) { return st.APIKeys(ctx, o) },
			func(o, id int64) error { return st.RevokeAPIKey(ctx, o, id) },
			func(id int64) error { return st.TouchAPIKey(ctx, id) }, ""},
		{"poct token", "cbp_", func(o int64, t *store.BearerToken) (string, error) { return st.CreatePoctToken(ctx, o, t) },
			func(s string) (*store.BearerToken, error) { return st.PoctTokenByToken(ctx, s) },
			func(o int64) ([]store.BearerToken, error) { return st.PoctTokens(ctx, o) },
			func(o, id int64) error { return st.RevokePoctToken(ctx, o, id) },
			func(id int64) error { return st.TouchPoctToken(ctx, id) }, "admin@a"},
	}
	issued := map[string]string{}
	for _, k := range kinds {
		for _, bad := range []string{"", "   ", strings.Repeat("x", 101), "tab\tname"} {
			if _, err := k.create(a.ID, &store.BearerToken{Name: bad}); err == nil {
				t.Errorf("%s: name %q accepted", k.name, bad)
			}
		}
		if _, err := k.create(a.ID+b.ID+10, &store.BearerToken{Name: "nowhere"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s for an unknown organisation: %v", k.name, err)
		}
		tok := &store.BearerToken{Name: "Integration"}
		secret, err := k.create(a.ID, tok)
		if err != nil {
			t.Fatal(err)
		}
		issued[k.name] = secret
		if !strings.HasPrefix(secret, k.scheme) || len(secret) != 4+16+1+43 || !strings.HasPrefix(secret, tok.Prefix+"_") {
			t.Errorf("%s format: %q (prefix %q)", k.name, secret, tok.Prefix)
		}
		got, err := k.lookup(secret)
		if err != nil || got.ID != tok.ID || got.OrgID != a.ID || got.CreatedBy != k.creator {
			t.Fatalf("%s lookup: %+v %v", k.name, got, err)
		}
		tampered := secret[:len(secret)-1] + "A"
		if secret[len(secret)-1] == 'A' {
			tampered = secret[:len(secret)-1] + "B"
		}
		for _, wrong := range []string{tampered, tok.Prefix, tok.Prefix + "_", "", secret + "x"} {
			if _, err := k.lookup(wrong); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %q found: %v", k.name, wrong, err)
			}
		}
		if err := k.touch(tok.ID); err != nil {
			t.Fatal(err)
		}
		if l, _ := k.list(a.ID); len(l) != 1 || l[0].LastUsedAt.IsZero() || l[0].Name != "Integration" {
			t.Errorf("%s list: %+v", k.name, l)
		}
		if l, _ := k.list(b.ID); len(l) != 0 {
			t.Errorf("%s: another organisation lists %d", k.name, len(l))
		}
		if err := k.revoke(b.ID, tok.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s revoked by another organisation: %v", k.name, err)
		}
		if _, err := k.lookup(secret); err != nil {
			t.Fatalf("%s stopped working after a refused revoke: %v", k.name, err)
		}
		if err := k.revoke(a.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := k.revoke(a.ID, tok.ID); err != nil {
			t.Errorf("%s: revoking twice: %v", k.name, err)
		}
		if _, err := k.lookup(secret); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s still works after revoke: %v", k.name, err)
		}
	}
	// A key is not a token, nor the other way round.
	if _, err := st.PoctTokenByToken(ctx, issued["api key"]); !errors.Is(err, store.ErrNotFound) {
		t.Error("an API key works as a POCT token")
	}
	if _, err := st.APIKeyByToken(ctx, issued["poct token"]); !errors.Is(err, store.ErrNotFound) {
		t.Error("a POCT token works as an API key")
	}
}
