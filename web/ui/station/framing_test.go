package station_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/sim"
	"github.com/clinicbox/clinicbox/store"
)

// TestDeviceFramingRulesAndWarnings: the framing rules are chosen on the add
// form, shown and changed on the edit form; a transfer whose frame numbers
// restart is accepted by the tolerant device and its deviation is a warning
// on the device list and in the raw log.
func TestDeviceFramingRulesAndWarnings(t *testing.T) {
	e := newEnv(t)
	p, err := sim.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer p.Close()
	admin := e.signIn("admin@c.example")
	ctx := context.Background()
	form := url.Values{"name": {"H500"}, "protocol": {"astm"}, "port_path": {p.Path}, "baud": {"9600"},
		"data_bits": {"8"}, "parity": {"none"}, "stop_bits": {"1"}, "station": {"Lab"}, "framing_rules": {"strict"}}

	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("framing_rules", "lenient")
	if r := admin.post("/admin/devices", bad); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be tolerant or strict") {
		t.Fatalf("unknown framing rules: %d", r.status)
	}
	if r := admin.post("/admin/devices", form); r.status != http.StatusSeeOther {
		t.Fatalf("add device: %d %s", r.status, r.body)
	}
	devs, _ := e.st.Devices(ctx, e.org.ID, store.DeviceFilter{})
	if len(devs) != 1 || !devs[0].StrictFraming {
		t.Fatalf("stored %+v, want one strict device", devs)
	}
	id := devs[0].ID
	edit := admin.get(fmt.Sprintf("/admin/devices/%d", id))
	if edit.status != 200 || !strings.Contains(edit.body, `<option value="strict" selected>`) || !strings.Contains(edit.body, `value="H500"`) {
		t.Fatalf("edit page: %d, strict not selected", edit.status)
	}
	if r := admin.get("/admin/devices/99999"); r.status != http.StatusNotFound {
		t.Fatalf("edit unknown device: %d", r.status)
	}
	form.Set("framing_rules", "tolerant")
	form.Set("baud", "sixty")
	if r := admin.post(fmt.Sprintf("/admin/devices/%d", id), form); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be a number") {
		t.Fatalf("bad edit: %d", r.status)
	}
	if d, _ := e.st.Device(ctx, e.org.ID, id); !d.StrictFraming || d.Baud != 9600 {
		t.Fatalf("a refused edit changed the device: %+v", d)
	}
	form.Set("baud", "115200")
	edited := time.Now()
	if r := admin.post(fmt.Sprintf("/admin/devices/%d", id), form); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	if d, _ := e.st.Device(ctx, e.org.ID, id); d.StrictFraming || d.Baud != 115200 || d.Name != "H500" || d.Station != "Lab" {
		t.Fatalf("after edit: %+v", d)
	}
	// The runner restarts with the new settings: wait for the new one.
	waitFor(t, "device reconnected", func() bool {
		s, ok := e.mgr.State(e.org.ID, id)
		return ok && s.Connected && s.Since.After(edited)
	})

	inst := sim.New(p.Master, sim.Config{Protocol: sim.ASTM, Framing: sim.FramePerRecord, RestartNumbering: "R", ReplyTimeout: 3 * time.Second})
	defer inst.Close()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// A bid sent while the port is being reopened goes unanswered; like a
	// real instrument, bid again.
	var rep sim.Report
	for range 3 {
		if rep, err = inst.Send(sctx, sample(t, "chemistry.astm")); err == nil {
			break
		}
	}
	if err != nil || rep.NAKs != 0 {
		t.Fatalf("send: %v, %d NAKs", err, rep.NAKs)
	}
	waitFor(t, "the warning on the device list", func() bool {
		return strings.Contains(admin.get("/admin/devices").body, `data-testid="warnings"`)
	})
	list := admin.get("/admin/devices").body
	if !strings.Contains(list, "framing deviation(s) accepted since start") || !strings.Contains(list, "where") {
		t.Fatal("device list lacks the warning text")
	}
	logPage := admin.get(fmt.Sprintf("/admin/devices/%d/log", id)).body
	if !strings.Contains(logPage, `<ul class="warning" data-testid="warnings"`) || !strings.Contains(logPage, "accepted (checksum right)</li>") {
		t.Fatal("raw log lacks the per-message warnings")
	}
}
