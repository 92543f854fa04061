package storetest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Password is the password of every user NewClinic and User create.
const Password = "correct horse battery"

// Open opens a store on a new SQLite file in t.TempDir(), migrated, and
// closes it when the test ends (after the test's own later cleanups, so a
// worker stopped in a cleanup still has its store).
func Open(t testing.TB, opts ...store.Option) *store.Store {
	t.Helper()
	return OpenFile(t, filepath.Join(t.TempDir(), "test.db"), opts...)
}

// OpenFile opens a store on the SQLite file at path, migrated, and closes
// it when the test ends. It is for the tests about the file itself: a
// second handle on a file another store has open (a second process), or
// the same file again after its store was closed (what survives a restart).
// Closing a store twice is harmless, so a test may close either one early.
func OpenFile(t testing.TB, path string, opts ...store.Option) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Reopen closes st and opens its file again with opts, as a restart does:
// what st wrote in batches (read audits) is flushed by the close.
func Reopen(t testing.TB, st *store.Store, opts ...store.Option) *store.Store {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatalf("storetest: close before reopening: %v", err)
	}
	return OpenFile(t, st.Path(), opts...)
}

// Clock is a clock a test sets and moves; pass its Now to store.WithClock.
// Safe for concurrent use (the store's writer reads it).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Org creates an organisation.
func Org(t testing.TB, st *store.Store, name, slug string) *store.Org {
	t.Helper()
	o := &store.Org{Name: name, Slug: slug}
	if err := st.CreateOrg(context.Background(), o); err != nil {
		t.Fatalf("storetest: organisation %s: %v", slug, err)
	}
	return o
}

// User creates an active user of the organisation with Password.
func User(t testing.TB, st *store.Store, orgID int64, email, name, role string) *store.User {
	t.Helper()
	u := &store.User{Email: email, Name: name, Role: role, Active: true}
	if err := st.CreateUser(context.Background(), orgID, u, Password); err != nil {
		t.Fatalf("storetest: user %s: %v", email, err)
	}
	return u
}

// Must fails the test on err (for the fixture's callers' own seeding).
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Device creates d (an instrument) in the organisation and returns it.
func Device(t testing.TB, st *store.Store, orgID int64, d *store.Device) *store.Device {
	t.Helper()
	if err := st.CreateDevice(context.Background(), orgID, d); err != nil {
		t.Fatalf("storetest: device %s: %v", d.Name, err)
	}
	return d
}

// APIKey creates a telehealth API key named name in the organisation and
// returns its token (shown once, as the admin page shows it).
func APIKey(t testing.TB, st *store.Store, orgID int64, name string) string {
	t.Helper()
	token, err := st.CreateAPIKey(context.Background(), orgID, &store.APIKey{Name: name})
	if err != nil {
		t.Fatalf("storetest: api key %s: %v", name, err)
	}
	return token
}
