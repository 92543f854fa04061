package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// TestBearerCredentials: the telehealth API keys and the POCT tokens are
// one mechanism: each kind is issued once in its own format, found only by
// itself (a key is not a token), refused when tampered with or revoked,
// listed and revoked within its organisation only.
func TestBearerCredentials(t *testing.T) {
	ctx := store.WithActor(context.Background(), store.Actor{Name: "admin@a"})
	st := storetest.Open(t)
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

// TestRevocationsReachWatchers: every way a credential stops working
// appends one EventCredentialRevoked naming it, and a watcher has it
// before the revoking call returns; revoking again tells nothing new.
func TestRevocationsReachWatchers(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	f := newFixture(t, st, "rv")
	org := f.org.ID
	var mu sync.Mutex
	var seen []store.Event
	stop := st.WatchEvents(func(evs []store.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			if e.Type == store.EventCredentialRevoked {
				seen = append(seen, e)
			}
		}
	})
	defer stop()

	key := &store.APIKey{Name: "ehr"}
	if _, err := st.CreateAPIKey(ctx, org, key); err != nil {
		t.Fatal(err)
	}
	poct := &store.PoctToken{Name: "poct"}
	if _, err := st.CreatePoctToken(ctx, org, poct); err != nil {
		t.Fatal(err)
	}
	oc, _, err := st.CreateOAuthClient(ctx, org, store.ClientKindFHIR, "fhir", []string{"system/*.read"})
	if err != nil {
		t.Fatal(err)
	}
	ic, _, err := st.CreateInstrumentClient(ctx, org, "analyser")
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.StartTokenFamily(ctx, org, f.user.ID, "refresh-out", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	reuse, err := st.StartTokenFamily(ctx, org, f.user.ID, "refresh-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RotateRefreshToken(ctx, "refresh-1", "refresh-2", time.Hour); err != nil {
		t.Fatal(err)
	}

	// Changes to a staff account end every sign-in of it at once.
	staff := &store.User{Email: "staff@rv.example", Name: "Staff", Role: store.RoleClinician}
	if err := st.CreateUser(ctx, org, staff, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	staffFamily, err := st.StartTokenFamily(ctx, org, staff.ID, "refresh-staff", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	update := func(change func(u *store.User)) func() error {
		return func() error {
			u, err := st.User(ctx, org, staff.ID)
			if err != nil {
				return err
			}
			change(u)
			return st.UpdateUser(ctx, org, u)
		}
	}

	tests := []struct {
		name    string
		revoke  func() error
		kind    string
		id      int64
		family  string
		wantErr error
		again   bool // doing it again is a new revocation too
	}{
		{"api key", func() error { return st.RevokeAPIKey(ctx, org, key.ID) }, store.CredentialAPIKey, key.ID, "", nil, false},
		{"poct token", func() error { return st.RevokePoctToken(ctx, org, poct.ID) }, store.CredentialPoctToken, poct.ID, "", nil, false},
		{"oauth client", func() error { return st.RevokeOAuthClient(ctx, org, oc.ClientID) }, store.CredentialOAuthClient, oc.ID, "", nil, false},
		{"instrument client", func() error { return st.RevokeInstrumentClient(ctx, org, ic.ClientID) }, store.CredentialInstrumentClient, ic.ID, "", nil, false},
		{"sign-out", func() error { return st.RevokeTokenFamily(ctx, org, out.ID) }, store.CredentialSignIn, f.user.ID, out.ID, nil, false},
		{"refresh token reused", func() error {
			_, err := st.RotateRefreshToken(ctx, "refresh-1", "refresh-3", time.Hour)
			return err
		}, store.CredentialSignIn, f.user.ID, reuse.ID, store.ErrTokenReuse, false},
		{"role changed", update(func(u *store.User) { u.Role = store.RoleFrontDesk }), store.CredentialUser, staff.ID, "", nil, false},
		{"password replaced", func() error { return st.SetPassword(ctx, org, staff.ID, "another horse battery") }, store.CredentialUser, staff.ID, "", nil, true},
		{"account deactivated", update(func(u *store.User) { u.Active = false }), store.CredentialUser, staff.ID, "", nil, false},
	}
	for _, tt := range tests {
		for round := range 2 {
			mu.Lock()
			seen = nil
			mu.Unlock()
			err := tt.revoke()
			if round == 1 && !tt.again {
				// The second time: a repeated revoke, or a sign-in already ended.
				mu.Lock()
				n := len(seen)
				mu.Unlock()
				if n != 0 {
					t.Errorf("%s revoked again: %d events", tt.name, n)
				}
				continue
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%s: %v, want %v", tt.name, err, tt.wantErr)
			}
			mu.Lock()
			got := seen
			mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("%s: %d revocation events when the call returned, want 1", tt.name, len(got))
			}
			e := got[0]
			if e.OrgID != org || e.SubjectType != tt.kind || e.SubjectID != tt.id {
				t.Errorf("%s: event org %d %s %d, want %d %s %d", tt.name, e.OrgID, e.SubjectType, e.SubjectID, org, tt.kind, tt.id)
			}
			fam, ok := store.EndedSignIn(e)
			if fam != tt.family || ok != (tt.family != "") {
				t.Errorf("%s: EndedSignIn = %q %v, want %q", tt.name, fam, ok, tt.family)
			}
			uid, ok := store.EndedUser(e)
			if want := tt.kind == store.CredentialUser; ok != want || (want && uid != staff.ID) {
				t.Errorf("%s: EndedUser = %d %v", tt.name, uid, ok)
			}
		}
	}
	// The password change ended the staff member's monitoring sign-in for
	// good, and a change that grants nothing new tells nothing.
	if _, err := st.LiveSignIn(ctx, staffFamily.ID); !errors.Is(err, store.ErrTokenInvalid) {
		t.Errorf("sign-in after the password change: %v, want ErrTokenInvalid", err)
	}
	mu.Lock()
	seen = nil
	mu.Unlock()
	if err := update(func(u *store.User) { u.Name = "Staff renamed" })(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 0 {
		t.Errorf("a rename revoked: %d events", len(seen))
	}
}
