package devices_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/devices/sim"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// sendHL7 writes one MLLP message and returns the acknowledgement code.
func sendHL7(t *testing.T, rw io.ReadWriter, msg []byte) hl7.AckCode {
	t.Helper()
	if err := hl7.WriteMLLP(rw, msg); err != nil {
		t.Fatal(err)
	}
	raw, err := hl7.NewMLLPReader(rw, 0).ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	ack, err := hl7.Parse(raw)
	if err != nil {
		t.Fatalf("ACK does not parse: %v: %q", err, raw)
	}
	code, _, ok := hl7.AckOf(ack)
	if !ok {
		t.Fatalf("ACK without MSA: %q", raw)
	}
	return code
}

func TestHL7OverTCP(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dev := e.addDevice(t, &store.Device{Name: "Glucoscan", Protocol: "hl7", TCPAddr: addr, Station: "Ward 3"})
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))

	if code := sendHL7(t, conn, sample(t, "poct-glucose-oru.hl7")); code != hl7.AA {
		t.Fatalf("ACK code %s, want AA", code)
	}
	obs := e.observations(t, store.ObservationFilter{DeviceID: dev.ID})
	if len(obs) != 2 {
		t.Fatalf("want 2 observations, got %d", len(obs))
	}
	var glu store.Observation
	for _, o := range obs {
		if o.Code == "15074-8" {
			glu = o
		}
	}
	if glu.Value != "7.2" || glu.Unit != "mmol/L" || glu.CodeSystem != "LN" || glu.ReferenceRange != "3.9-7.8" || glu.Flags != "N" ||
		glu.Status != "F" || glu.PatientID != e.patient.ID || glu.MeasuredAtText != "20250314101200+0100" || glu.Operator != "OP-0815" {
		t.Fatalf("glucose carried wrong: %+v", glu)
	}
	// The ACK was stored too, as our reply to the message.
	ms := e.messages(t, dev.ID)
	if len(ms) != 2 || ms[0].Direction != "in" || ms[1].Direction != "out" || ms[1].ReplyTo != ms[0].ID {
		t.Fatalf("messages: %+v", ms)
	}
	// Garbage is stored, rejected with AR and kept as failed.
	if code := sendHL7(t, conn, []byte("this is not HL7\r")); code != hl7.AR {
		t.Fatalf("garbage acknowledged with %s", code)
	}
	ms = e.messages(t, dev.ID)
	if got := ms[2]; got.Status != store.MessageFailed || string(got.Raw) != "this is not HL7\r" {
		t.Fatalf("garbage message: %+v", got)
	}
}

func TestHL7AndLineOverPTY(t *testing.T) {
	e := newEnv(t)
	spiro := openPTY(t)
	master := spiro.Master
	dev := e.addDevice(t, &store.Device{Name: "Spiro", Protocol: "hl7", PortPath: spiro.Path, Baud: 115200})
	if code := sendHL7(t, master, sample(t, "spirometry-oru.hl7")); code != hl7.AA {
		t.Fatalf("ACK %s", code)
	}
	if n := len(e.observations(t, store.ObservationFilter{DeviceID: dev.ID})); n == 0 {
		t.Fatal("no spirometry observations")
	}

	// A scale at a station where a clinician selected the patient.
	if err := e.st.SelectStationPatient(e.ctx, e.org.ID, "Room 1", e.patient.ID); err != nil {
		t.Fatal(err)
	}
	sp := openPTY(t)
	scale := e.addDevice(t, &store.Device{Name: "Scale", Protocol: "line", PortPath: sp.Path, Station: "Room 1"})
	send(t, simulator(t, sp, sim.Config{Protocol: sim.Line}), sample(t, "scale.txt"))
	waitFor(t, "4 readings", func() bool { return len(e.observations(t, store.ObservationFilter{DeviceID: scale.ID})) == 4 })
	obs := e.observations(t, store.ObservationFilter{DeviceID: scale.ID})
	codes := []string{}
	for _, o := range obs {
		if o.PatientID != e.patient.ID {
			t.Fatalf("reading not on the selected patient: %+v", o)
		}
		codes = append(codes, o.Code+"="+o.Value+o.Unit)
	}
	got := strings.Join(codes, " ")
	for _, want := range []string{"WT=72.4kg", "WT=72.6kg", "HT=172cm", "BMI=24.5kg/m2"} {
		if !strings.Contains(got, want) {
			t.Fatalf("readings %q lack %s", got, want)
		}
	}
	// The banner lines are kept in the log as ignored, not dropped.
	ignored := 0
	for _, m := range e.messages(t, scale.ID) {
		if m.Status == store.MessageIgnored {
			ignored++
		}
	}
	if ignored != 2 {
		t.Fatalf("want the 2 banner lines ignored, got %d", ignored)
	}
}

// TestDevicesFromAnotherProcess: a device added through another handle on
// the database (as `clinicbox device add` does while the server runs) is
// picked up without a restart or a Reload call, and a device whose port
// does not exist reports its error without stopping the others.
func TestDevicesFromAnotherProcess(t *testing.T) {
	e := newEnv(t)
	other := storetest.OpenFile(t, e.st.Path()) // a second handle, as another process has
	broken := &store.Device{Name: "Unplugged", Protocol: "astm", PortPath: "/dev/does-not-exist"}
	if err := other.CreateDevice(e.ctx, e.org.ID, broken); err != nil {
		t.Fatal(err)
	}
	p := openPTY(t)
	good := &store.Device{Name: "Scale", Protocol: "line", PortPath: p.Path}
	if err := other.CreateDevice(e.ctx, e.org.ID, good); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both devices running", func() bool {
		b, ok1 := e.mgr.State(e.org.ID, broken.ID)
		g, ok2 := e.mgr.State(e.org.ID, good.ID)
		return ok1 && ok2 && g.Connected && !b.Connected && strings.Contains(b.LastError, "does-not-exist")
	})
	send(t, simulator(t, p, sim.Config{Protocol: sim.Line}), []byte("WT 80.1 kg\n"))
	waitFor(t, "the good device's reading", func() bool { return len(e.observations(t, store.ObservationFilter{DeviceID: good.ID})) == 1 })
	// Removing a device stops it.
	if err := other.RemoveDevice(e.ctx, e.org.ID, broken.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "removed device stopped", func() bool { _, ok := e.mgr.State(e.org.ID, broken.ID); return !ok })
}
