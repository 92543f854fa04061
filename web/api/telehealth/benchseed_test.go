package telehealth

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// TestSeedBenchDB seeds the database for the HTTP benchmark in
// BENCH_NOTES.md: set CLINICBOX_BENCH_DATA to a data directory. It creates
// an organisation, a waiting room "Bench room", 100,000 patients with ids
// bench-0 ... bench-99999 (through the same store path as the API, with
// their events and audit rows) and an API key, written to
// $CLINICBOX_BENCH_DATA/apikey.
func TestSeedBenchDB(t *testing.T) {
	dir := os.Getenv("CLINICBOX_BENCH_DATA")
	if dir == "" {
		t.Skip("set CLINICBOX_BENCH_DATA to seed a benchmark database")
	}
	ctx := context.Background()
	st := storetest.OpenFile(t, filepath.Join(dir, "clinicbox.db"))
	org := &store.Org{Name: "Bench Clinic", Slug: "bench"}
	if err := st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWaitingRoom(ctx, org.ID, &store.WaitingRoom{Name: "Bench room", SlotDuration: 900, Timezone: "UTC", Active: true}); err != nil {
		t.Fatal(err)
	}
	const n, workers = 100000, 64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				p := &store.Patient{ExternalID: fmt.Sprintf("bench-%d", i), MRN: fmt.Sprintf("MRN-%d", i), Active: true,
					Names:     []store.HumanName{{Use: "usual", FirstName: "Pat", LastName: fmt.Sprintf("Bench%d", i)}},
					BirthDate: "1980-01-01", Gender: "female",
					Telecom: []store.ContactPoint{{Use: "home", System: "email", Value: fmt.Sprintf("p%d@bench.example", i)}}}
				if err := st.CreatePatient(ctx, org.ID, p); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	key, err := st.CreateAPIKey(ctx, org.ID, &store.APIKey{Name: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "apikey"), []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
}
