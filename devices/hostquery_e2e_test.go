package devices_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/devices/sim"
	"github.com/clinicbox/clinicbox/store"
)

// TestASTMHostQueryCreatesOrder: an analyser asks about a sample nobody
// labelled. The host answers "no information" (I) and records the request
// as an order (requested, host-query, no patient yet). The analyser then
// measures the sample; the results go to the patient selected at the
// station and the order follows them: it takes that patient and their
// walk-in encounter and becomes resulted. All over a real pty: the queries
// and answers by hand (the simulator only sends), the results by the
// simulator.
func TestASTMHostQueryCreatesOrder(t *testing.T) {
	e := newEnv(t)
	p := openPTY(t)
	dev := e.addDevice(t, &store.Device{Name: "CX300", Protocol: "astm", PortPath: p.Path, Station: "Lab"})

	sendASTMRaw(t, p.Master, sample(t, "query.astm"))
	ans, err := astm.Parse(receiveASTM(t, p.Master))
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Patients) != 0 || ans.TerminationCode != "I" {
		t.Fatalf("answer for an unknown sample: %d patients, termination %q", len(ans.Patients), ans.TerminationCode)
	}
	order := func() store.OrderRow {
		t.Helper()
		os, err := e.st.Orders(e.ctx, e.org.ID, store.OrderFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(os) != 1 {
			t.Fatalf("%d orders, want 1: %+v", len(os), os)
		}
		return os[0]
	}
	o := order()
	if o.SampleID != "S24031502" || o.State != store.OrderRequested || o.Source != "host-query" || o.PatientID != 0 ||
		o.PatientUUID != "" || o.Station != "Lab" || len(o.Tests) != 0 {
		t.Fatalf("requested order: %+v", o)
	}
	waitFor(t, "query and reply logged", func() bool { return len(e.messages(t, dev.ID)) == 2 })

	// A second query for the same sample finds the same order.
	sendASTMRaw(t, p.Master, sample(t, "query.astm"))
	receiveASTM(t, p.Master)
	if again := order(); again.ID != o.ID {
		t.Fatalf("second query made another order: %+v", again)
	}

	// The clinician opens a walk-in for the patient at the station; the
	// analyser's results name only the sample.
	walkIn, err := e.st.CreateWalkIn(e.ctx, e.org.ID, e.patient.ID, "Lab")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SelectStationPatient(e.ctx, e.org.ID, "Lab", e.patient.ID); err != nil {
		t.Fatal(err)
	}
	inst := simulator(t, p, sim.Config{Protocol: sim.ASTM})
	results := strings.Join([]string{
		`H|\^&|||CX300^2.1.4^SN48213|||||CLINICBOX||P|LIS2-A2|20250314093512`,
		`P|1`,
		`O|1|S24031502||^^^GLU\^^^CRP|R|20250314093000|||||N||||SER||||||||||F`,
		`R|1|^^^GLU^Glucose|5,8|mmol/L|3,9-5,5|H||F||opA|20250314093100|20250314093155|CX300`,
		`R|2|^^^CRP^C-reactive protein|<5|mg/L|0-5|N||F||opA|20250314093100|20250314093255|CX300`,
		`L|1|N`,
	}, "\r") + "\r"
	send(t, inst, []byte(results))
	deadline := time.Now().Add(10 * time.Second)
	for len(e.observations(t, store.ObservationFilter{DeviceID: dev.ID})) != 2 {
		if time.Now().After(deadline) {
			for _, m := range e.messages(t, dev.ID) {
				t.Logf("message %d %s %s %s %s: %q", m.ID, m.Direction, m.Kind, m.Status, m.Error, m.Raw)
			}
			t.Fatal("timed out waiting for two results")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, r := range e.observations(t, store.ObservationFilter{DeviceID: dev.ID}) {
		if r.PatientID != e.patient.ID || r.AppointmentID != walkIn.ID || r.SpecimenID != "S24031502" {
			t.Fatalf("result: patient %d encounter %d sample %q", r.PatientID, r.AppointmentID, r.SpecimenID)
		}
	}
	o = order()
	if o.State != store.OrderResulted || o.PatientID != e.patient.ID || o.AppointmentID != walkIn.ID ||
		o.PatientUUID != e.patient.UUID || o.EncounterUUID != walkIn.UUID || o.Source != "host-query" {
		t.Fatalf("order after its results: %+v", o)
	}
}
