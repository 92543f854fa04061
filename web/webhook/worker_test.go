package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/envelope/envelopetest"
)

// receiver is an httptest webhook endpoint that decrypts every body the way
// the spec's PHP snippet does (via openssl) and records the payloads.
type receiver struct {
	t    *testing.T
	key  atomic.Value // the encryption key to decrypt with
	srv  *httptest.Server
	mode atomic.Value // "ok", "fail", "hang"

	mu       sync.Mutex
	got      []wirePayload
	plain    []string
	requests int
	bad      []string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.mode.Store("ok")
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.requests++
		rc.mu.Unlock()
		switch rc.mode.Load().(string) {
		case "fail":
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		case "hang":
			<-r.Context().Done()
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			rc.fail(fmt.Sprintf("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type")))
		}
		key, _ := rc.key.Load().(string)
		plain := envelopetest.PHPDecrypt(t, key, string(body))
		// Decoded into the receiver's own type, not Payload, so a change of
		// the server's shape fails here: event must be a JSON string.
		var p wirePayload
		dec := json.NewDecoder(bytesReader(plain))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			rc.fail(fmt.Sprintf("payload %q: %v", plain, err))
		}
		rc.mu.Lock()
		rc.got = append(rc.got, p)
		rc.plain = append(rc.plain, string(plain))
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// wirePayload is the decrypted body as the spec's "Payload Schemas" define
// it: {"event": string, "data": {...}}.
type wirePayload struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

func (rc *receiver) fail(msg string) {
	rc.mu.Lock()
	rc.bad = append(rc.bad, msg)
	rc.mu.Unlock()
}

func (rc *receiver) plaintexts() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.plain)
}

func (rc *receiver) payloads() []wirePayload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type fixture struct {
	st      *store.Store
	org     *store.Org
	other   *store.Org
	room    *store.WaitingRoom
	patient *store.Patient
}

// storeOpts are the fixture's store options: a quiet log and, when c is
// set, the test's clock.
func storeOpts(c *storetest.Clock) []store.Option {
	opts := []store.Option{store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
	if c != nil {
		opts = append(opts, store.WithClock(c.Now))
	}
	return opts
}

// newFixture's store is closed after the workers a test starts have
// stopped (it is opened first; cleanups run last-in, first-out).
func newFixture(t *testing.T, c *storetest.Clock) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: storetest.Open(t, storeOpts(c)...)}
	f.org = storetest.Org(t, f.st, "Alpha", "alpha")
	f.other = storetest.Org(t, f.st, "Beta", "beta")
	f.room = &store.WaitingRoom{Name: "room", SlotDuration: 900, Timezone: "UTC", Active: true}
	if err := f.st.CreateWaitingRoom(ctx, f.org.ID, f.room); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) webhook(t *testing.T, orgID int64, endpoint string, events ...string) *store.Webhook {
	t.Helper()
	w := &store.Webhook{Endpoint: endpoint, Events: events}
	if err := f.st.CreateWebhook(context.Background(), orgID, w); err != nil {
		t.Fatal(err)
	}
	return w
}

func (f *fixture) appointment(t *testing.T, patientID int64) *store.Appointment {
	t.Helper()
	a := &store.Appointment{PatientID: patientID, WaitingRoomID: f.room.ID, Start: f.st.Now().Add(time.Hour)}
	if err := f.st.CreateAppointment(context.Background(), f.org.ID, a); err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) setAppt(t *testing.T, id int64, change func(*store.Appointment)) {
	t.Helper()
	if _, err := f.st.UpdateAppointment(context.Background(), f.org.ID, id, func(a *store.Appointment) error {
		change(a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func startWorker(t *testing.T, cfg Config) (*Worker, func()) {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Poll == 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	w := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("worker did not stop")
		}
	}
	t.Cleanup(stop)
	return w, stop
}

// TestDeliversEveryEventType causes every documented event and checks that
// a webhook subscribed to all of them receives each one, encrypted so that
// the spec's PHP recipe decrypts it, with the documented data.
func TestDeliversEveryEventType(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	all := newReceiver(t)
	only := newReceiver(t)
	beta := newReceiver(t)
	hookAll := f.webhook(t, f.org.ID, all.srv.URL+"/all", store.WebhookEvents...)
	hookOnly := f.webhook(t, f.org.ID, only.srv.URL+"/only", store.EventPatientCreated)
	hookBeta := f.webhook(t, f.other.ID, beta.srv.URL, store.WebhookEvents...)
	all.key.Store(hookAll.EncryptionKey)
	only.key.Store(hookOnly.EncryptionKey)
	beta.key.Store(hookBeta.EncryptionKey)
	_, stop := startWorker(t, Config{Store: f.st})

	p := &store.Patient{MRN: "MRN-1", Names: []store.HumanName{{FirstName: "Ann", LastName: "Lee"}}, Active: true}
	if err := f.st.CreatePatient(ctx, f.org.ID, p); err != nil { // patient:created
		t.Fatal(err)
	}
	update := func(change func(*store.Patient)) {
		if _, err := f.st.UpdatePatient(ctx, f.org.ID, store.ByID, fmt.Sprint(p.ID), func(q *store.Patient) error { change(q); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	update(func(q *store.Patient) { q.MRN = "MRN-2" })                                   // patient:updated
	a1 := f.appointment(t, p.ID)                                                         // appointment:scheduled
	f.setAppt(t, a1.ID, func(a *store.Appointment) { a.Start = a.Start.Add(time.Hour) }) // rescheduled
	a2 := f.appointment(t, p.ID)
	f.setAppt(t, a2.ID, func(a *store.Appointment) { a.Status = store.StatusCancelled })
	a3 := f.appointment(t, p.ID)
	f.setAppt(t, a3.ID, func(a *store.Appointment) { a.Status = store.StatusCompleted })
	a4 := f.appointment(t, p.ID)
	f.setAppt(t, a4.ID, func(a *store.Appointment) { a.Status = store.StatusNoShow })
	a5 := f.appointment(t, p.ID)
	f.setAppt(t, a5.ID, func(a *store.Appointment) { a.VideoStatus = "LWBS" })
	a6 := f.appointment(t, p.ID)
	f.setAppt(t, a6.ID, func(a *store.Appointment) { a.VideoStatus = "incomplete" })
	ep := &store.Episode{PatientID: p.ID, Name: "covid care", Type: "covid", From: "2024-01-01", Status: "active"}
	if err := f.st.CreateEpisode(ctx, f.org.ID, ep); err != nil { // episode:created
		t.Fatal(err)
	}
	if _, err := f.st.UpdateEpisode(ctx, f.org.ID, ep.UUID, func(e *store.Episode) error { e.Status = "finished"; return nil }); err != nil {
		t.Fatal(err)
	}
	update(func(q *store.Patient) { q.Active = false }) // patient:deactivated

	waitFor(t, "every event type", func() bool {
		seen := map[string]bool{}
		for _, pl := range all.payloads() {
			seen[pl.Event] = true
		}
		return len(seen) == len(store.WebhookEvents)
	})
	waitFor(t, "the patient:created-only webhook", func() bool { return len(only.payloads()) == 1 })
	// The worker records an attempt after the receiver has answered: wait
	// for that before stopping it, since stopping releases a delivery
	// whose answer is not recorded yet (it is sent again after a restart).
	waitFor(t, "attempts recorded", func() bool {
		ds, err := f.st.WebhookDeliveries(ctx, f.org.ID, store.DeliveryFilter{WebhookID: hookAll.ID, Status: store.DeliveryPending})
		return err == nil && len(ds) == 0
	})
	stop()

	if len(all.bad)+len(only.bad) > 0 {
		t.Fatalf("receiver complaints: %v %v", all.bad, only.bad)
	}
	got := map[string][]string{}
	for _, pl := range all.payloads() {
		got[pl.Event] = append(got[pl.Event], string(pl.Data))
	}
	pid := fmt.Sprint(p.ID)
	want := map[string][]string{
		store.EventPatientCreated:         {`{"patientId":` + pid + `}`},
		store.EventPatientUpdated:         {`{"patientId":` + pid + `}`},
		store.EventPatientDeactivated:     {`{"patientId":` + pid + `}`},
		store.EventAppointmentScheduled:   nil, // six of them, checked below
		store.EventAppointmentRescheduled: {fmt.Sprintf(`{"appointmentId":%d}`, a1.ID)},
		store.EventAppointmentCancelled:   {fmt.Sprintf(`{"appointmentId":%d}`, a2.ID)},
		store.EventAppointmentCompleted:   {fmt.Sprintf(`{"appointmentId":%d}`, a3.ID)},
		store.EventAppointmentNoShow:      {fmt.Sprintf(`{"appointmentId":%d}`, a4.ID)},
		store.EventAppointmentLWBS:        {fmt.Sprintf(`{"appointmentId":%d}`, a5.ID)},
		store.EventAppointmentIncompleted: {fmt.Sprintf(`{"appointmentId":%d}`, a6.ID)},
		store.EventEpisodeCreated:         {fmt.Sprintf(`{"episodeId":%q,"patientId":%d}`, ep.UUID, p.ID)},
		store.EventEpisodeUpdated:         {fmt.Sprintf(`{"episodeId":%q,"patientId":%d}`, ep.UUID, p.ID)},
	}
	for typ, w := range want {
		if typ == store.EventAppointmentScheduled {
			var ids []string
			for _, a := range []*store.Appointment{a1, a2, a3, a4, a5, a6} {
				ids = append(ids, fmt.Sprintf(`{"appointmentId":%d}`, a.ID))
			}
			sort.Strings(ids)
			g := slices.Clone(got[typ])
			sort.Strings(g)
			if !slices.Equal(g, ids) {
				t.Errorf("%s: got %v, want %v", typ, g, ids)
			}
			continue
		}
		if !slices.Equal(got[typ], w) {
			t.Errorf("%s: got %v, want %v", typ, got[typ], w)
		}
	}
	if pl := only.payloads(); pl[0].Event != store.EventPatientCreated {
		t.Errorf("patient:created-only webhook got %s", pl[0].Event)
	}
	// The whole plaintext, byte for byte, as an integrator's receiver sees it.
	if got, want := only.plaintexts()[0], `{"event":"patient:created","data":{"patientId":`+pid+`}}`; got != want {
		t.Errorf("plaintext = %s, want %s", got, want)
	}
	if n := beta.count(); n != 0 {
		t.Errorf("the other organisation's webhook got %d requests", n)
	}
	ds, err := f.st.WebhookDeliveries(ctx, f.org.ID, store.DeliveryFilter{WebhookID: hookAll.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Status != store.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != 204 || d.DeliveredAt.IsZero() {
			t.Errorf("delivery %d: status %s, attempts %d, last status %d", d.ID, d.Status, d.Attempts, d.LastStatus)
		}
	}
}

// TestRetryWithBackoff: the receiver fails twice, then succeeds; the store
// clock moves instead of the test sleeping.
func TestRetryWithBackoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	f := newFixture(t, c)
	rc := newReceiver(t)
	hook := f.webhook(t, f.org.ID, rc.srv.URL, store.EventPatientCreated)
	rc.key.Store(hook.EncryptionKey)
	rc.mode.Store("fail")
	w, _ := startWorker(t, Config{Store: f.st, Poll: time.Hour})
	p := &store.Patient{MRN: "1", Active: true}
	if err := f.st.CreatePatient(ctx, f.org.ID, p); err != nil {
		t.Fatal(err)
	}
	delivery := func() store.WebhookDelivery { return onlyDelivery(t, f.st, f.org.ID) }
	waitFor(t, "first attempt", func() bool { return rc.count() == 1 && delivery().Attempts == 1 })
	d := delivery()
	wait := d.NextAttemptAt.Sub(c.Now())
	if d.Status != store.DeliveryPending || d.LastStatus != 503 || d.LastError == "" || wait < 23*time.Second || wait > 37*time.Second {
		t.Fatalf("after 1st failure: status %s, last %d %q, next in %v (want ~30s)", d.Status, d.LastStatus, d.LastError, wait)
	}
	// Nothing happens before the retry is due.
	c.Advance(10 * time.Second)
	w.Wake()
	time.Sleep(100 * time.Millisecond)
	if rc.count() != 1 {
		t.Fatalf("retried before due: %d requests", rc.count())
	}
	c.Advance(40 * time.Second)
	w.Wake()
	waitFor(t, "second attempt", func() bool { return delivery().Attempts == 2 })
	d = delivery()
	wait = d.NextAttemptAt.Sub(c.Now())
	if d.Status != store.DeliveryPending || wait < 47*time.Second || wait > 73*time.Second {
		t.Fatalf("after 2nd failure: status %s, next in %v (want ~60s)", d.Status, wait)
	}
	rc.mode.Store("ok")
	c.Advance(80 * time.Second)
	w.Wake()
	waitFor(t, "delivery", func() bool { return delivery().Status == store.DeliveryDelivered })
	d = delivery()
	if d.Attempts != 3 || d.LastStatus != 204 || d.LastError != "" || rc.count() != 3 || len(rc.payloads()) != 1 {
		t.Errorf("delivered after %d attempts (last %d %q), receiver saw %d requests", d.Attempts, d.LastStatus, d.LastError, rc.count())
	}
}

// TestGiveUpAndRetryNow: a delivery that fails for the whole retry period is
// marked failed; the admin's "retry now" makes it pending again.
func TestGiveUpAndRetryNow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	f := newFixture(t, c)
	rc := newReceiver(t)
	hook := f.webhook(t, f.org.ID, rc.srv.URL, store.EventPatientCreated)
	rc.key.Store(hook.EncryptionKey)
	rc.mode.Store("fail")
	w, _ := startWorker(t, Config{Store: f.st, Poll: time.Hour,
		Backoff: Backoff{Base: 30 * time.Second, Max: 30 * time.Second, GiveUpAfter: time.Minute}})
	if err := f.st.CreatePatient(ctx, f.org.ID, &store.Patient{MRN: "1", Active: true}); err != nil {
		t.Fatal(err)
	}
	delivery := func() store.WebhookDelivery { return onlyDelivery(t, f.st, f.org.ID) }
	for i := 1; i <= 3; i++ {
		waitFor(t, fmt.Sprintf("attempt %d", i), func() bool { return delivery().Attempts == i })
		c.Advance(31 * time.Second)
		w.Wake()
	}
	if d := delivery(); d.Status != store.DeliveryFailed || d.Attempts != 3 {
		t.Fatalf("status %s after %d attempts, want failed after 3", d.Status, d.Attempts)
	}
	rc.mode.Store("ok")
	if err := f.st.RetryDelivery(ctx, f.other.ID, delivery().ID); err == nil {
		t.Error("another organisation could retry the delivery")
	}
	if err := f.st.RetryDelivery(ctx, f.org.ID, delivery().ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after retry now", func() bool { return delivery().Status == store.DeliveryDelivered })
	if d := delivery(); d.Attempts != 1 {
		t.Errorf("attempts after retry now = %d, want 1 (counted afresh)", d.Attempts)
	}
}

// TestRestartResumes: a delivery that was failing, one that was in flight
// when the worker stopped, and events written while no worker ran are all
// delivered by a new worker on the reopened database.
func TestRestartResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	f := newFixture(t, c)
	failing := newReceiver(t)
	hanging := newReceiver(t)
	hookF := f.webhook(t, f.org.ID, failing.srv.URL, store.EventPatientCreated)
	hookH := f.webhook(t, f.org.ID, hanging.srv.URL, store.EventPatientUpdated)
	failing.key.Store(hookF.EncryptionKey)
	hanging.key.Store(hookH.EncryptionKey)
	failing.mode.Store("fail")
	hanging.mode.Store("hang")
	_, stop := startWorker(t, Config{Store: f.st, Poll: time.Hour})
	p := &store.Patient{MRN: "1", Active: true}
	if err := f.st.CreatePatient(ctx, f.org.ID, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.UpdatePatient(ctx, f.org.ID, store.ByID, fmt.Sprint(p.ID), func(q *store.Patient) error { q.MRN = "2"; return nil }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first attempts", func() bool { return failing.count() == 1 && hanging.count() == 1 })
	stop() // the hanging delivery is in flight
	// Written while no worker runs:
	if _, err := f.st.UpdatePatient(ctx, f.org.ID, store.ByID, fmt.Sprint(p.ID), func(q *store.Patient) error { q.MRN = "3"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}

	// "Restart": a new store and a new worker on the same file.
	st := storetest.OpenFile(t, f.st.Path(), storeOpts(c)...)
	failing.mode.Store("ok")
	hanging.mode.Store("ok")
	c.Advance(time.Minute) // the failed one's retry is due
	_, stop2 := startWorker(t, Config{Store: st, Poll: 50 * time.Millisecond})
	waitFor(t, "deliveries after restart", func() bool { return len(failing.payloads()) == 1 && len(hanging.payloads()) == 2 })
	// The worker records an attempt after the receiver has answered.
	waitFor(t, "attempts recorded", func() bool {
		ds, err := st.WebhookDeliveries(ctx, f.org.ID, store.DeliveryFilter{Status: store.DeliveryPending})
		return err == nil && len(ds) == 0
	})
	stop2()
	ds, err := st.WebhookDeliveries(ctx, f.org.ID, store.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3", len(ds))
	}
	for _, d := range ds {
		if d.Status != store.DeliveryDelivered {
			t.Errorf("delivery %d (%s to %s): %s", d.ID, d.EventType, d.WebhookUUID, d.Status)
		}
		// The interrupted attempt was released, not counted.
		if d.WebhookID == hookH.ID && d.Attempts != 1 {
			t.Errorf("in-flight delivery %d: %d attempts, want 1", d.ID, d.Attempts)
		}
	}
	if failing.count() != 2 {
		t.Errorf("failing receiver saw %d requests, want 2", failing.count())
	}
}

// TestDeactivatedWebhookGetsNothing: after DELETE (deactivation) no new
// deliveries are made and pending ones are given up.
func TestDeactivatedWebhookGetsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	f := newFixture(t, c)
	rc := newReceiver(t)
	hook := f.webhook(t, f.org.ID, rc.srv.URL, store.EventPatientCreated)
	if err := f.st.DeactivateWebhook(ctx, f.org.ID, hook.UUID); err != nil {
		t.Fatal(err)
	}
	w, stop := startWorker(t, Config{Store: f.st})
	if err := f.st.CreatePatient(ctx, f.org.ID, &store.Patient{MRN: "1", Active: true}); err != nil {
		t.Fatal(err)
	}
	// The event gives no delivery: the worker stores its cursor past it
	// once it has trailed for CursorLagAge.
	waitFor(t, "the cursor to pass the event", func() bool {
		c.Advance(store.CursorLagAge)
		w.Wake()
		cur, _ := f.st.Cursor(ctx, Consumer)
		last, _ := f.st.LastEventID(ctx)
		return cur == last
	})
	stop()
	if rc.count() != 0 {
		t.Errorf("deactivated webhook got %d requests", rc.count())
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// onlyDelivery is the organisation's one delivery (a zero value while there
// is none yet).
func onlyDelivery(t *testing.T, st *store.Store, orgID int64) store.WebhookDelivery {
	t.Helper()
	ds, err := st.WebhookDeliveries(context.Background(), orgID, store.DeliveryFilter{})
	if err != nil || len(ds) > 1 {
		t.Fatalf("deliveries: %v %v", ds, err)
	}
	if len(ds) == 0 {
		return store.WebhookDelivery{}
	}
	return ds[0]
}
