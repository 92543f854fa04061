package devices

import (
	"context"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/sim"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// FuzzIngest feeds arbitrary bytes, as each protocol, through the mapping
// from parsed messages to observations (with the patient lookups): it must
// never panic, and whatever it produces must be storable or be reported as
// failed, never half-stored.
func FuzzIngest(f *testing.F) {
	for _, s := range sim.Samples() {
		b, err := sim.Sample(s.Name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x05\x021H|\\^&\rP|1|X\rO|1|S1||^^^A|||||||Q\rR|1|^^^A|1\rL|1\r\x0300\r\n\x04"))
	ctx := context.Background()
	st := storetest.Open(f)
	org := storetest.Org(f, st, "C", "c")
	devs := map[string]*store.Device{}
	for _, p := range store.DeviceProtocols {
		devs[p] = storetest.Device(f, st, org.ID, &store.Device{Name: p, Protocol: p, PortPath: "/dev/null", Station: "Lab"})
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, p := range store.DeviceProtocols {
			m := &store.DeviceMessage{DeviceID: devs[p].ID, Protocol: p, Raw: raw}
			if err := st.SaveDeviceMessage(ctx, org.ID, m); err != nil {
				t.Fatal(err)
			}
			in, err := ingestStored(ctx, st, devs[p], m, time.UTC)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			got, err := st.DeviceMessage(ctx, org.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != in.Status || got.Status == store.MessageReceived {
				t.Fatalf("%s: stored status %q, ingestion said %q", p, got.Status, in.Status)
			}
			if got.Status == store.MessageFailed && got.Observations != 0 {
				t.Fatalf("%s: a failed message kept %d observations", p, got.Observations)
			}
		}
	})
}
