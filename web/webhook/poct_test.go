package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/webhook"
)

// poctReceiver checks every request's signature with its own HMAC code (not
// the worker's) and records the bodies.
type poctReceiver struct {
	t      *testing.T
	secret atomic.Value
	down   atomic.Bool
	srv    *httptest.Server

	mu     sync.Mutex
	bodies []map[string]any
	bad    int
	tries  int
}

func newPoctReceiver(t *testing.T) *poctReceiver {
	rc := &poctReceiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.tries++
		if rc.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		ts := r.Header.Get("X-Clinicbox-Timestamp")
		mac := hmac.New(sha256.New, []byte(rc.secret.Load().(string)))
		mac.Write([]byte(ts + "." + string(body)))
		if r.Header.Get("X-Clinicbox-Signature") != "v1="+hex.EncodeToString(mac.Sum(nil)) {
			rc.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			rc.bad++
			return
		}
		if m["event"] != r.Header.Get("X-Clinicbox-Event") {
			rc.bad++
		}
		rc.bodies = append(rc.bodies, m)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *poctReceiver) got() []map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]map[string]any(nil), rc.bodies...)
}

func TestPoctWebhooksSignedAndRetried(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := storetest.NewClock(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC))
	st := storetest.Open(t, store.WithClock(clock.Now))
	org, other := storetest.Org(t, st, "A", "a"), storetest.Org(t, st, "B", "b")
	dev := &store.Device{Name: "i-STAT", Protocol: "astm", PortPath: "/dev/ttyS0"}
	devB := &store.Device{Name: "i-STAT", Protocol: "astm", PortPath: "/dev/ttyS0"}
	st.CreateDevice(ctx, org.ID, dev)
	st.CreateDevice(ctx, other.ID, devB)
	rc := newPoctReceiver(t)
	wh := &store.PoctWebhook{URL: rc.srv.URL + "/hook", Events: []string{"result.created", "result.updated", "device.status_changed", "qc.failed"}}
	if err := st.CreatePoctWebhook(ctx, org.ID, wh); err != nil {
		t.Fatal(err)
	}
	rc.secret.Store(wh.Secret)

	w := webhook.NewPoct(webhook.PoctConfig{Store: st, Poll: 50 * time.Millisecond,
		Backoff: webhook.Backoff{Base: time.Second, Max: time.Second, GiveUpAfter: time.Hour}})
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	ingest := func(orgID int64, d *store.Device, raw string) {
		m := &store.DeviceMessage{DeviceID: d.ID, Protocol: "astm", Raw: []byte(raw)}
		if err := st.SaveDeviceMessage(ctx, orgID, m); err != nil {
			t.Fatal(err)
		}
		if _, err := devices.Reingest(ctx, st, orgID, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	msg := "H|\\^&|||i-STAT\rP|1||P-1\rO|1|S-1||^^^GLU\rR|1|^^^GLU|<0,5|mmol/L|3.9-6.1|LL||F\rL|1|N\r"
	ingest(org.ID, dev, msg)
	ingest(other.ID, devB, msg) // another clinic's result never reaches this webhook
	waitFor(t, func() bool { return len(rc.got()) == 1 })
	b := rc.got()[0]
	res := b["result"].(map[string]any)
	if b["event"] != "result.created" || res["value"] != "<0,5" || res["unit"] != "mmol/L" || res["status"] != "F" ||
		res["flags"] != "LL" || res["device_ref"] != dev.UUID || res["analyte"] != "GLU" || res["id"] == "" {
		t.Errorf("body %v", b)
	}
	if _, ok := res["encounter_ref"]; !ok {
		t.Errorf("no encounter_ref in %v", res)
	}

	// The receiver goes down; a correction and a device status change wait
	// and arrive, in order, once it is back. Nothing is sent twice.
	rc.down.Store(true)
	if _, err := st.CorrectResult(ctx, org.ID, res["id"].(string), store.Correction{Value: "0,6"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetDeviceState(ctx, org.ID, dev.ID, store.DeviceDisconnected, "", "cable pulled"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { rc.mu.Lock(); defer rc.mu.Unlock(); return rc.tries >= 3 })
	// The receiver has refused both, but the worker records a refusal (and
	// when to try again, by the store's clock) after the answer: move the
	// clock only once both refusals are recorded, or a retry is set 1 s past
	// the moved clock and never comes due.
	waitFor(t, func() bool {
		ds, err := st.PoctDeliveries(ctx, org.ID, 10)
		if err != nil || len(ds) != 3 {
			return false
		}
		for _, d := range ds {
			if d.Status != store.DeliveryDelivered && d.LastStatus != http.StatusServiceUnavailable {
				return false
			}
		}
		return true
	})
	rc.down.Store(false)
	clock.Advance(2 * time.Second) // past the 1 s backoff
	w.Wake()
	waitFor(t, func() bool { return len(rc.got()) == 3 })
	got := rc.got()
	if got[1]["event"] != "result.updated" || got[1]["result"].(map[string]any)["value"] != "0,6" ||
		got[1]["result"].(map[string]any)["version"] != float64(2) {
		t.Errorf("correction body %v", got[1])
	}
	if got[2]["event"] != "device.status_changed" || got[2]["device"].(map[string]any)["state"] != "disconnected" ||
		got[2]["device"].(map[string]any)["last_error"] != "cable pulled" {
		t.Errorf("device body %v", got[2])
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(rc.got()); n != 3 || rc.bad != 0 {
		t.Errorf("%d bodies (want 3), %d bad", n, rc.bad)
	}
	ds, _ := st.PoctDeliveries(ctx, org.ID, 10)
	if len(ds) != 3 || ds[0].Status != store.DeliveryDelivered || ds[1].Attempts < 2 {
		t.Errorf("delivery log %+v", ds)
	}
	// Re-send from the log: the same body again.
	if err := st.ResendPoctDelivery(ctx, org.ID, ds[2].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(rc.got()) == 4 })
	if rc.got()[3]["id"] != got[0]["id"] {
		t.Errorf("re-sent %v, want the first event again", rc.got()[3]["id"])
	}
	if err := st.ResendPoctDelivery(ctx, other.ID, ds[2].ID); err == nil {
		t.Error("another clinic re-sent this clinic's delivery")
	}
}

func TestVerifyPoct(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event":"result.created","result":{"value":"<0,5"}}`)
	now := time.Unix(1764662400, 0)
	sig := webhook.SignPoct("whsec_test", now.Unix(), body)
	// The signature is HMAC-SHA256 over "timestamp.body", as documented.
	mac := hmac.New(sha256.New, []byte("whsec_test"))
	mac.Write([]byte(strconv.FormatInt(now.Unix(), 10) + "." + string(body)))
	if sig != "v1="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("signature %s does not follow the documented construction", sig)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	cases := []struct {
		name    string
		secret  string
		ts, sig string
		body    []byte
		at      time.Time
		ok      bool
	}{
		{"valid", "whsec_test", ts, sig, body, now.Add(time.Minute), true},
		{"tampered body", "whsec_test", ts, sig, []byte(`{"event":"result.created","result":{"value":"0,5"}}`), now, false},
		{"other secret", "whsec_other", ts, sig, body, now, false},
		{"replayed later", "whsec_test", ts, sig, body, now.Add(10 * time.Minute), false},
		{"timestamp moved", "whsec_test", strconv.FormatInt(now.Unix()+1, 10), sig, body, now, false},
		{"no timestamp", "whsec_test", "", sig, body, now, false},
	}
	for _, c := range cases {
		err := webhook.VerifyPoct(c.secret, c.ts, c.sig, c.body, c.at, 5*time.Minute)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v", c.name, err)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
