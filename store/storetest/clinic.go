package storetest

import (
	"context"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// Clinic is a small demo clinic in one organisation.
type Clinic struct {
	Org *store.Org
	// Users has one active user of each role (store.Roles), by role, each
	// with Password: <role>@<slug>.example.
	Users    map[string]*store.User
	Room     *store.WaitingRoom // open on weekdays, UTC, 15-minute slots
	Patients []*store.Patient   // active, each with an MRN and a national id
}

// Admin, Clinician and FrontDesk are the clinic's users of those roles.
func (c *Clinic) Admin() *store.User     { return c.Users[store.RoleAdmin] }
func (c *Clinic) Clinician() *store.User { return c.Users[store.RoleClinician] }
func (c *Clinic) FrontDesk() *store.User { return c.Users[store.RoleFrontDesk] }

// demoPatients are the clinic's patients; slugs keep the MRNs apart
// between clinics in one store.
var demoPatients = []struct{ first, last, birth, gender, nid string }{
	{"Anna", "Jensen", "1980-02-01", "female", "0102801234"},
	{"Bo", "Berg", "1955-07-14", "male", "1407552345"},
	{"Clara", "Holm", "2012-11-30", "female", "3011123456"},
}

// NewClinic creates the clinic named "Clinic <slug>" with the given slug:
// its users, its room and three patients (MRN <slug>-1, -2, -3).
func NewClinic(t testing.TB, st *store.Store, slug string) *Clinic {
	t.Helper()
	ctx := context.Background()
	c := &Clinic{Org: Org(t, st, "Clinic "+slug, slug), Users: map[string]*store.User{}}
	for _, role := range store.Roles {
		c.Users[role] = User(t, st, c.Org.ID, role+"@"+slug+".example", "Staff "+role+" "+slug, role)
	}
	c.Room = &store.WaitingRoom{Name: "General", ServiceLine: "General practice", ServiceType: "Consultation",
		SlotDuration: 900, Hours: store.WeekdayHours(), Timezone: "UTC", Active: true}
	if err := st.CreateWaitingRoom(ctx, c.Org.ID, c.Room); err != nil {
		t.Fatalf("storetest: room: %v", err)
	}
	for i, p := range demoPatients {
		pat := &store.Patient{MRN: slug + "-" + string(rune('1'+i)), NationalID: p.nid, BirthDate: p.birth, Gender: p.gender,
			Active: true, Names: []store.HumanName{{Use: "official", FirstName: p.first, LastName: p.last}}}
		if err := st.CreatePatient(ctx, c.Org.ID, pat); err != nil {
			t.Fatalf("storetest: patient %s: %v", pat.MRN, err)
		}
		c.Patients = append(c.Patients, pat)
	}
	return c
}
