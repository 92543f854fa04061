package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// watched collects what a watcher was given.
type watched struct {
	mu  sync.Mutex
	evs []store.Event
}

func (w *watched) add(evs []store.Event) {
	w.mu.Lock()
	w.evs = append(w.evs, evs...)
	w.mu.Unlock()
}

// count is how many times an event of typ about subject was delivered.
func (w *watched) count(typ string, subject int64) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.evs {
		if e.Type == typ && e.SubjectID == subject {
			n++
		}
	}
	return n
}

// A write's events reach the watchers before the write returns: a cache
// that drops what they name is never stale for a reader that starts after
// the write's answer.
func TestWatchEventsBeforeTheWriteReturns(t *testing.T) {
	st, _ := newStore(t)
	f := newFixture(t, st, "a")
	ctx := context.Background()
	var w watched
	stop := st.WatchEvents(w.add)
	for i := range 20 {
		if _, err := st.UpdatePatient(ctx, f.org.ID, store.ByID, fmt.Sprint(f.patient.ID), func(p *store.Patient) error {
			p.MRN = fmt.Sprint("M", i)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n := w.count(store.EventPatientUpdated, f.patient.ID); n != i+1 {
			t.Fatalf("after update %d returned, the watcher saw %d updates", i, n)
		}
	}
	// Concurrent writes share a commit; each still reaches the watcher
	// before it returns, with its payload and id.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &store.Patient{ExternalID: fmt.Sprint("c", i), Active: true}
			if err := st.CreatePatient(ctx, f.org.ID, p); err != nil {
				errs <- err
				return
			}
			if w.count(store.EventPatientCreated, p.ID) != 1 {
				errs <- fmt.Errorf("patient %d created, its event not delivered", p.ID)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	w.mu.Lock()
	last := w.evs[len(w.evs)-1]
	w.mu.Unlock()
	var payload struct {
		PatientID int64 `json:"patientId"`
	}
	if err := json.Unmarshal(last.Payload, &payload); err != nil || payload.PatientID != last.SubjectID || last.ID == 0 || last.OrgID != f.org.ID {
		t.Errorf("delivered event %+v (payload %s)", last, last.Payload)
	}
	stored, err := st.EventsAfter(ctx, 0, last.ID-1, 1)
	if err != nil || len(stored) != 1 || stored[0].Type != last.Type || stored[0].SubjectID != last.SubjectID {
		t.Errorf("delivered event %d is not the stored one: %+v (%v)", last.ID, stored, err)
	}

	// A failed write may still be delivered (watchers only ever drop state
	// on an event, so a spare one costs a refill); after stop, nothing is.
	before := w.count(store.EventPatientUpdated, f.patient.ID)
	boom := errors.New("boom")
	err = st.Write(ctx, func(tx *store.Tx) error {
		// The same event a real update writes, then a failure.
		if err := tx.Event(f.org.ID, store.EventPatientUpdated, "patient", f.patient.ID, nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing write: %v", err)
	}
	stop()
	if _, err := st.UpdatePatient(ctx, f.org.ID, store.ByID, fmt.Sprint(f.patient.ID), func(p *store.Patient) error {
		p.MRN = "after stop"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The failed write may be delivered (a watcher only drops state on an
	// event); the one after stop must not be.
	if n := w.count(store.EventPatientUpdated, f.patient.ID); n > before+1 {
		t.Errorf("after stop: %d updates delivered, want at most %d", n, before+1)
	}
}

// Another process writing the same database (a second node) reaches the
// watchers through the poller; this process's own events are not
// delivered a second time by it.
func TestWatchEventsOfAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	ctx := context.Background()
	a := storetest.OpenFile(t, path, store.WithEventPoll(20*time.Millisecond))
	org := &store.Org{Name: "Shared", Slug: "shared"}
	if err := a.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	b := storetest.OpenFile(t, path, store.WithEventPoll(0))

	var w watched
	a.WatchEvents(w.add)
	mine := &store.Patient{ExternalID: "mine", Active: true}
	if err := a.CreatePatient(ctx, org.ID, mine); err != nil {
		t.Fatal(err)
	}
	theirs := &store.Patient{ExternalID: "theirs", Active: true}
	if err := b.CreatePatient(ctx, org.ID, theirs); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.count(store.EventPatientCreated, theirs.ID) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if w.count(store.EventPatientCreated, theirs.ID) != 1 {
		t.Fatalf("the other process's event was delivered %d times", w.count(store.EventPatientCreated, theirs.ID))
	}
	time.Sleep(100 * time.Millisecond) // a few more polls
	// Delivered once from the writer; the poller may only have read it in
	// the instant between its commit and that delivery.
	if n := w.count(store.EventPatientCreated, mine.ID); n < 1 || n > 2 {
		t.Errorf("this process's event delivered %d times", n)
	}
}
