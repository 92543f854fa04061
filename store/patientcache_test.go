package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

func mrnOf(p *store.Patient) ([]byte, error) { return []byte(p.MRN), nil }

// A read that starts after a write returned sees the write, even while
// other readers keep filling the cache with what they read before it.
func TestPatientCacheCoherentWithWrites(t *testing.T) {
	st, _ := newStore(t)
	f := newFixture(t, st, "a")
	ctx := context.Background()
	c := st.NewPatientCache(1 << 20)
	ext := f.patient.ExternalID

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 { // readers racing the writer to fill the cache
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := c.Get(ctx, "mrn", f.org.ID, store.ByExternalID, ext, mrnOf); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 200 {
		want := "MRN-" + strconv.Itoa(i)
		if _, err := st.UpdatePatient(ctx, f.org.ID, store.ByExternalID, ext, func(p *store.Patient) error {
			p.MRN = want
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, key := range []struct {
			k store.PatientKey
			v string
		}{{store.ByExternalID, ext}, {store.ByID, strconv.FormatInt(f.patient.ID, 10)}, {store.ByUUID, f.patient.UUID}} {
			got, id, err := c.Get(ctx, "mrn", f.org.ID, key.k, key.v, mrnOf)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want || id != f.patient.ID {
				t.Fatalf("after update %d, by %s: got %q (patient %d), want %q (patient %d)", i, key.k, got, id, want, f.patient.ID)
			}
		}
	}
	close(stop)
	wg.Wait()
}

func TestPatientCacheScopeAndBudget(t *testing.T) {
	st, _ := newStore(t)
	a, b := newFixture(t, st, "a"), newFixture(t, st, "b")
	ctx := context.Background()
	c := st.NewPatientCache(1 << 20)

	// Another organisation's patient is not found, cached or not.
	for range 2 {
		_, _, err := c.Get(ctx, "mrn", b.org.ID, store.ByID, strconv.FormatInt(a.patient.ID, 10), mrnOf)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("patient of org a read as org b: err = %v", err)
		}
		if _, _, err := c.Get(ctx, "mrn", a.org.ID, store.ByID, strconv.FormatInt(a.patient.ID, 10), mrnOf); err != nil {
			t.Fatal(err)
		}
	}
	// Another view is another entry; keys that need not be
	// unique (MRN) are never cached.
	if _, _, err := c.Get(ctx, "other", a.org.ID, store.ByExternalID, a.patient.ExternalID, mrnOf); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(ctx, "mrn", a.org.ID, store.ByMRN, a.patient.MRN, mrnOf); err != nil {
		t.Fatal(err)
	}
	if n := c.Len(); n != 2 {
		t.Errorf("entries = %d, want 2 (by id, and another view by the client's id)", n)
	}

	// A small budget holds a few entries and never more.
	small := st.NewPatientCache(600)
	for i := range 20 {
		p := &store.Patient{ExternalID: fmt.Sprintf("x%d", i), Names: []store.HumanName{{FirstName: "X", LastName: "Y"}}, MRN: "M"}
		if err := st.CreatePatient(ctx, a.org.ID, p); err != nil {
			t.Fatal(err)
		}
		if _, _, err := small.Get(ctx, "mrn", a.org.ID, store.ByExternalID, p.ExternalID, mrnOf); err != nil {
			t.Fatal(err)
		}
		if n := small.Len(); n < 1 || n > 5 {
			t.Fatalf("after %d fills, entries = %d, want 1..5 within 600 bytes", i+1, n)
		}
	}
	off := st.NewPatientCache(0)
	if _, _, err := off.Get(ctx, "mrn", a.org.ID, store.ByExternalID, a.patient.ExternalID, mrnOf); err != nil || off.Len() != 0 {
		t.Errorf("disabled cache: err %v, entries %d", err, off.Len())
	}
}
