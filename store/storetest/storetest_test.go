package storetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// TestClinic: two clinics in one store, each whole and each its own; the
// users sign in with Password; the store runs on the test's clock.
func TestClinic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st := storetest.Open(t, store.WithClock(clk.Now))
	a, b := storetest.NewClinic(t, st, "a"), storetest.NewClinic(t, st, "b")
	for _, c := range []*storetest.Clinic{a, b} {
		if len(c.Users) != len(store.Roles) || c.Admin().Role != store.RoleAdmin || c.Clinician().Role != store.RoleClinician ||
			c.FrontDesk().Role != store.RoleFrontDesk {
			t.Errorf("%s: users %v", c.Org.Slug, c.Users)
		}
		for _, u := range c.Users {
			got, err := st.Authenticate(ctx, u.Email, storetest.Password)
			if err != nil || got.ID != u.ID || got.OrgID != c.Org.ID {
				t.Errorf("%s: sign-in %s: %+v %v", c.Org.Slug, u.Email, got, err)
			}
		}
		pats, _, err := st.Patients(ctx, c.Org.ID, store.PatientFilter{Limit: 10})
		if err != nil || len(pats) != 3 || len(c.Patients) != 3 {
			t.Errorf("%s: patients %d (%d) %v", c.Org.Slug, len(pats), len(c.Patients), err)
		}
		rooms, err := st.WaitingRooms(ctx, c.Org.ID)
		if err != nil || len(rooms) != 1 || rooms[0].ID != c.Room.ID {
			t.Errorf("%s: rooms %+v %v", c.Org.Slug, rooms, err)
		}
	}
	if got, err := st.PatientBy(ctx, b.Org.ID, store.ByID, "1"); err == nil && got.ID == a.Patients[0].ID {
		t.Errorf("clinic b reaches clinic a's patient")
	}
	if !a.Org.CreatedAt.Equal(clk.Now()) {
		t.Errorf("created at %v, want the test clock's %v", a.Org.CreatedAt, clk.Now())
	}
	clk.Advance(time.Hour)
	o := storetest.Org(t, st, "Later", "later")
	if !o.CreatedAt.Equal(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("after Advance: created at %v", o.CreatedAt)
	}
}
