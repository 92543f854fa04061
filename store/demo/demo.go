package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Login is the demo admin's credentials.
type Login struct {
	Email    string
	Password string
}

// Options tunes the seed (tests and benchmarks).
type Options struct {
	Patients int       // default 30
	Day      time.Time // default today
}

var firstNames = []string{"Anna", "Mads", "Sofie", "Lars", "Ida", "Jens", "Freja", "Mikkel", "Emma", "Rasmus",
	"Clara", "Oliver", "Laura", "Frederik", "Maja", "Emil", "Karen", "Niels", "Astrid", "Søren"}
var lastNames = []string{"Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
	"Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Poulsen"}
var reasons = []string{"Follow-up", "Blood pressure check", "Diabetes control", "Cough", "Annual check-up",
	"Spirometry", "ECG", "Medication review", "Headache", "Vaccination"}

// Seed fills an empty database with the demo clinic and returns the admin's
// login. On a database that already has an organisation it does nothing and
// returns nil.
func Seed(ctx context.Context, st *store.Store, opt Options) (*Login, error) {
	orgs, err := st.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	if len(orgs) > 0 {
		return nil, nil
	}
	if opt.Patients == 0 {
		opt.Patients = 30
	}
	if opt.Day.IsZero() {
		opt.Day = st.Now()
	}
	rng := rand.New(rand.NewPCG(42, 7))
	org := &store.Org{Name: "Nordhavn Clinic", Slug: "demo"}
	if err := st.CreateOrg(ctx, org); err != nil {
		return nil, err
	}
	login := &Login{Email: "admin@clinic.example", Password: store.NewToken(12)}
	staff := []struct {
		email, name, role string
	}{
		{login.Email, "Clinic Administrator", store.RoleAdmin},
		{"hanne.berg@clinic.example", "Dr. Hanne Berg", store.RoleClinician},
		{"peter.holm@clinic.example", "Dr. Peter Holm", store.RoleClinician},
		{"lise.dahl@clinic.example", "Nurse Lise Dahl", store.RoleClinician},
		{"front@clinic.example", "Front Desk", store.RoleFrontDesk},
	}
	var clinicians []int64
	for i, s := range staff {
		pw := login.Password
		if i > 0 {
			pw = store.NewToken(12) // staff sign in after an admin sets their password
		}
		u := &store.User{Email: s.email, Name: s.name, Role: s.role}
		if err := st.CreateUser(ctx, org.ID, u, pw); err != nil {
			return nil, fmt.Errorf("demo user %s: %w", s.email, err)
		}
		if s.role == store.RoleClinician {
			clinicians = append(clinicians, u.ID)
		}
	}
	// The demo is a Danish clinic: its rooms keep Danish time wherever the
	// appliance runs.
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		loc = time.UTC
	}
	rooms := []*store.WaitingRoom{
		{Name: "General Practice", ServiceLine: "Primary care", ServiceType: "In person", SlotDuration: 900, Timezone: loc.String(), Active: true},
		{Name: "Video Consultations", ServiceLine: "Telehealth", ServiceType: "Video", SlotDuration: 1200, Timezone: loc.String(), Active: true},
	}
	for _, r := range rooms {
		if r.Timezone == "Local" || r.Timezone == "" {
			r.Timezone = "UTC"
		}
		if err := st.CreateWaitingRoom(ctx, org.ID, r); err != nil {
			return nil, fmt.Errorf("demo waiting room: %w", err)
		}
	}
	patients, err := Patients(ctx, st, org.ID, opt.Patients, rng)
	if err != nil {
		return nil, err
	}
	day := time.Date(opt.Day.Year(), opt.Day.Month(), opt.Day.Day(), 8, 0, 0, 0, loc)
	// A morning that has happened and an afternoon still to come: every status
	// appears at least once.
	statuses := []string{store.StatusCompleted, store.StatusCompleted, store.StatusSignOff, store.StatusNoShow,
		store.StatusCancelled, store.StatusDischargeReady, store.StatusExamProgress, store.StatusExamReady,
		store.StatusIntakeProgress, store.StatusIntakeReady, store.StatusArrived, store.StatusArrived,
		store.StatusDischargeActive, store.StatusScheduled, store.StatusScheduled, store.StatusScheduled,
		store.StatusScheduled, store.StatusScheduled, store.StatusScheduled, store.StatusScheduled}
	for i, status := range statuses {
		room := rooms[i%2]
		a := &store.Appointment{
			PatientID:     patients[i%len(patients)],
			WaitingRoomID: room.ID,
			ProviderID:    clinicians[i%len(clinicians)],
			Start:         day.Add(time.Duration(i) * 25 * time.Minute),
			Duration:      room.SlotDuration,
			Reasons:       []string{reasons[rng.IntN(len(reasons))]},
		}
		if err := st.CreateAppointment(ctx, org.ID, a); err != nil {
			return nil, fmt.Errorf("demo appointment: %w", err)
		}
		if status != store.StatusScheduled {
			if _, err := st.UpdateAppointment(ctx, org.ID, a.ID, func(a *store.Appointment) error {
				a.Status = status
				return nil
			}); err != nil {
				return nil, fmt.Errorf("demo appointment status: %w", err)
			}
		}
	}
	return login, nil
}

// Patients creates n demo patients in the organisation and returns their ids.
func Patients(ctx context.Context, st *store.Store, orgID int64, n int, rng *rand.Rand) ([]int64, error) {
	ids := make([]int64, 0, n)
	for i := range n {
		p := RandomPatient(rng, i)
		if err := st.CreatePatient(ctx, orgID, p); err != nil {
			return nil, fmt.Errorf("demo patient: %w", err)
		}
		ids = append(ids, p.ID)
	}
	return ids, nil
}

// RandomPatient makes a plausible fake patient; i makes its identifiers unique.
func RandomPatient(rng *rand.Rand, i int) *store.Patient {
	first := firstNames[rng.IntN(len(firstNames))]
	last := lastNames[rng.IntN(len(lastNames))]
	birth := time.Date(1935+rng.IntN(85), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	gender := []string{"female", "male"}[rng.IntN(2)]
	return &store.Patient{
		MRN:        fmt.Sprintf("MRN-%06d", 1000+i),
		NationalID: fmt.Sprintf("%s-%04d", birth.Format("020106"), rng.IntN(10000)),
		Names:      []store.HumanName{{Use: "usual", FirstName: first, LastName: last, Family: last}},
		BirthDate:  birth.Format("2006-01-02"),
		Gender:     gender,
		Telecom: []store.ContactPoint{
			{Use: "mobile", System: "phone", Value: fmt.Sprintf("+45 %02d %02d %02d %02d", 20+rng.IntN(70), rng.IntN(100), rng.IntN(100), rng.IntN(100))},
			{Use: "home", System: "email", Value: fmt.Sprintf("patient%d@example.org", 1000+i)},
		},
		Addresses:         []store.Address{{Use: "home", Line: []string{fmt.Sprintf("Strandvejen %d", 1+rng.IntN(200))}, City: "København", PostalCode: fmt.Sprintf("2%03d", rng.IntN(1000)), Country: "DK"}},
		PreferredLanguage: "Danish",
		Active:            true,
	}
}
