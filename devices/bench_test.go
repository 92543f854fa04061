package devices

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// message50 is an ASTM transcript (ENQ, frames, EOT) carrying 50 results.
func message50() []byte {
	var b strings.Builder
	b.WriteString("H|\\^&|||CX300^2.1.4^SN48213|||||||P|LIS2-A2|20250314093012\r")
	b.WriteString("P|1|PAT-100234||NI-7781234|Mustermann^Erika||19780512|F\r")
	b.WriteString("O|1|S24031401||^^^ALL|R|20250314081500|20250314082000||||N||||SER||||||||||F\r")
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&b, "R|%d|^^^T%02d^Test %d|%d,%d|mmol/L|3,9-5,5|H||F||opA|20250314092001|20250314092155|CX300\r", i, i, i, i, i%10)
	}
	b.WriteString("L|1|N\r")
	raw := []byte{astm.ENQ}
	for _, f := range astm.SplitFrames([]byte(b.String()), 240) {
		raw = astm.AppendFrame(raw, f)
	}
	return append(raw, astm.EOT)
}

// benchStore is a store with a patient and an ASTM device.
func benchStore(b *testing.B) (*store.Store, *store.Device) {
	ctx := context.Background()
	st := storetest.Open(b)
	org := storetest.Org(b, st, "Clinic", "clinic")
	storetest.Must(b, st.CreatePatient(ctx, org.ID, &store.Patient{MRN: "PAT-100234", Active: true}))
	return st, storetest.Device(b, st, org.ID, &store.Device{Name: "CX300", Protocol: "astm", PortPath: "/dev/null"})
}

// BenchmarkIngest50 is a 50-result ASTM message parsed and stored: from
// the raw transcript the link layer stored, parse it, match the patient
// and store the 50 observations with their events, the audit row and the
// message's status in one transaction (one fsync).
func BenchmarkIngest50(b *testing.B) {
	ctx := context.Background()
	st, dev := benchStore(b)
	raw := message50()
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		m := &store.DeviceMessage{DeviceID: dev.ID, Protocol: "astm", Raw: raw}
		if err := st.SaveDeviceMessage(ctx, dev.OrgID, m); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		in, err := ingestStored(ctx, st, dev, m, time.UTC)
		if err != nil || len(in.Observations) != 50 || in.PatientID == 0 {
			b.Fatalf("ingest: %v %+v", err, in)
		}
	}
}

// BenchmarkStoreAndIngest50 adds storing the raw bytes (the write the
// driver makes before acknowledging): two transactions, two fsyncs.
func BenchmarkStoreAndIngest50(b *testing.B) {
	ctx := context.Background()
	st, dev := benchStore(b)
	raw := message50()
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for b.Loop() {
		m := &store.DeviceMessage{DeviceID: dev.ID, Protocol: "astm", Raw: raw}
		if err := st.SaveDeviceMessage(ctx, dev.OrgID, m); err != nil {
			b.Fatal(err)
		}
		in, err := ingestStored(ctx, st, dev, m, time.UTC)
		if err != nil || len(in.Observations) != 50 || in.PatientID == 0 {
			b.Fatalf("ingest: %v %+v", err, in)
		}
	}
}

// BenchmarkParse50 is the parsing and mapping alone (no writes).
func BenchmarkParse50(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b)
	org := storetest.Org(b, st, "Clinic", "clinic")
	dev := &store.Device{ID: 1, OrgID: org.ID, Name: "CX300", Protocol: "astm"}
	raw := message50()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		in, _, err := ingestASTM(ctx, st, dev, raw, time.UTC)
		if err != nil || len(in.Observations) != 50 {
			b.Fatal(err)
		}
	}
}
