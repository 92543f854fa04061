package devices_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/devices/sim"
	"github.com/clinicbox/clinicbox/store"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := sim.Sample(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openPTY(t testing.TB) *sim.PTY {
	t.Helper()
	p, err := sim.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func simulator(t testing.TB, p *sim.PTY, cfg sim.Config) *sim.Instrument {
	t.Helper()
	in := sim.New(p.Master, cfg)
	t.Cleanup(func() { in.Close() })
	return in
}

func send(t testing.TB, in *sim.Instrument, msg []byte) sim.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := in.Send(ctx, msg)
	if err != nil {
		t.Fatalf("simulator send: %v (report %+v)", err, rep)
	}
	return rep
}

// TestASTMOverPTY: simulator → pty → go.bug.st/serial → link → store. A
// frame sent with a corrupted checksum is NAKed, resent, and never becomes
// a result; every value lands verbatim on the patient the P record names.
func TestASTMOverPTY(t *testing.T) {
	e := newEnv(t)
	p := openPTY(t)
	dev := e.addDevice(t, &store.Device{Name: "CX300", Protocol: "astm", PortPath: p.Path, Baud: 9600, Station: "Lab"})
	inst := simulator(t, p, sim.Config{Protocol: sim.ASTM, Framing: sim.FramePerRecord, CorruptFrame: 2})

	rep := send(t, inst, sample(t, "chemistry.astm"))
	if rep.NAKs != 1 || len(rep.Corrupted) == 0 {
		t.Fatalf("the corrupted frame was not NAKed once: %+v", rep)
	}
	waitFor(t, "10 observations", func() bool { return len(e.observations(t, store.ObservationFilter{DeviceID: dev.ID})) == 10 })
	obs := e.observations(t, store.ObservationFilter{DeviceID: dev.ID})
	byCode := map[string]store.Observation{}
	for _, o := range obs {
		byCode[o.Code] = o
		if o.PatientID != e.patient.ID || o.QC {
			t.Fatalf("observation not on the patient: %+v", o)
		}
	}
	hba := byCode["HBA1C"]
	if hba.Value != "7,41" || hba.Unit != "%" || hba.ReferenceRange != "4,0-6,0" || hba.Flags != "H" || hba.Status != "F" ||
		hba.MeasuredAtText != "20250314092255" || hba.MessageID == 0 || hba.Operator != "opA" || hba.Display != "HbA1c" {
		t.Fatalf("HbA1c carried wrong: %+v", hba)
	}
	if crp := byCode["CRP"]; crp.Value != ">200" || crp.Flags != ">" {
		t.Fatalf("CRP: %+v", crp)
	}
	// The damaged transmission is in the raw log, but the text ingested is
	// exactly the message the instrument meant to send.
	ms := e.messages(t, dev.ID)
	if len(ms) != 1 || ms[0].Status != store.MessageIngested || ms[0].Observations != 10 {
		t.Fatalf("stored message: %+v", ms)
	}
	raw := ms[0].Raw
	if raw[0] != astm.ENQ || raw[len(raw)-1] != astm.EOT || !bytes.Contains(raw, rep.Corrupted) {
		t.Fatalf("raw log does not hold the whole transcript with the rejected frame")
	}
	want := strings.TrimRight(string(sample(t, "chemistry.astm")), "\r")
	if got := strings.TrimRight(string(astm.Unframe(raw)), "\r"); got != want {
		t.Fatalf("ingested text differs from what was sent:\n%q\n%q", got, want)
	}
	if s, _ := e.mgr.State(e.org.ID, dev.ID); s.Messages != 1 || s.LastMessageAt.IsZero() || !s.Connected {
		t.Fatalf("live state: %+v", s)
	}
}

// TestASTMReconnect: the cable is pulled mid-message (the pty closed) and a
// new one plugged in at the same configured path (a symlink re-pointed);
// the manager reopens it without a restart and nothing is lost: the
// acknowledged message is stored, the interrupted one arrives again.
func TestASTMReconnect(t *testing.T) {
	e := newEnv(t)
	firstMaster, firstPath := pullablePTY(t)
	port := filepath.Join(t.TempDir(), "ttyANALYSER")
	link(t, port, firstPath)
	dev := e.addDevice(t, &store.Device{Name: "HX-500", Protocol: "astm", PortPath: port, Baud: 115200})

	cable := &cutter{f: firstMaster}
	inst := sim.New(cable, sim.Config{Protocol: sim.ASTM, FrameSize: 64, ReplyTimeout: 2 * time.Second})
	defer inst.Close()
	send(t, inst, sample(t, "chemistry.astm"))
	waitFor(t, "first message", func() bool { return len(e.observations(t, store.ObservationFilter{DeviceID: dev.ID})) == 10 })

	// Start the second message and pull the cable after two frames.
	cable.cutAfter.Store(2)
	if _, err := inst.Send(context.Background(), sample(t, "haematology.astm")); err == nil {
		t.Fatal("the send survived a pulled cable")
	}
	waitFor(t, "disconnect noticed", func() bool { s, _ := e.mgr.State(e.org.ID, dev.ID); return !s.Connected })

	second := openPTY(t)
	link(t, port, second.Path)
	waitFor(t, "reconnected", func() bool { s, _ := e.mgr.State(e.org.ID, dev.ID); return s.Connected })
	inst2 := simulator(t, second, sim.Config{Protocol: sim.ASTM})
	send(t, inst2, sample(t, "haematology.astm"))
	waitFor(t, "second message", func() bool { return len(e.observations(t, store.ObservationFilter{DeviceID: dev.ID})) == 23 })
	for _, m := range e.messages(t, dev.ID) {
		if m.Status != store.MessageIngested {
			t.Fatalf("message %d is %s: %s", m.ID, m.Status, m.Error)
		}
	}
}

// cutter is a cable that can be pulled: after cutAfter more frames it
// closes the instrument's end of the pty.
type cutter struct {
	f        *os.File
	cutAfter atomic.Int32 // 0: never
	frames   int32
}

func (c *cutter) Read(p []byte) (int, error) { return c.f.Read(p) }

func (c *cutter) Write(p []byte) (int, error) {
	if n := c.cutAfter.Load(); n > 0 && len(p) > 0 && p[0] == astm.STX {
		if c.frames++; c.frames > n {
			c.f.Close()
			return 0, errors.New("cable pulled")
		}
	}
	return c.f.Write(p)
}

// sendASTMRaw sends a message as an analyser does, for tests that then
// read the host's reply themselves (the simulator keeps reading its port).
func sendASTMRaw(t *testing.T, rw io.ReadWriter, text []byte) {
	t.Helper()
	reply := func() byte {
		b := make([]byte, 1)
		if _, err := rw.Read(b); err != nil {
			t.Fatal(err)
		}
		return b[0]
	}
	rw.Write([]byte{astm.ENQ})
	if r := reply(); r != astm.ACK {
		t.Fatalf("ENQ answered %q", r)
	}
	for _, f := range astm.SplitFrames(text, 240) {
		rw.Write(astm.AppendFrame(nil, f))
		if r := reply(); r != astm.ACK {
			t.Fatalf("frame answered %q", r)
		}
	}
	rw.Write([]byte{astm.EOT})
}

// receiveASTM plays the instrument's receiving side: it answers the host's
// ENQ and frames with ACK and returns the text once EOT arrives.
func receiveASTM(t *testing.T, r io.ReadWriter) []byte {
	t.Helper()
	var raw []byte
	buf := make([]byte, 1024)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range buf[:n] {
			raw = append(raw, b)
			switch b {
			case astm.ENQ:
				r.Write([]byte{astm.ACK})
			case astm.LF:
				r.Write([]byte{astm.ACK})
			case astm.EOT:
				return astm.Unframe(raw)
			}
		}
	}
	t.Fatal("no answer from the host")
	return nil
}

// TestASTMHostQuery: the analyser asks for the orders of a sample; the host
// answers with the patient and the tests labelled for that sample.
func TestASTMHostQuery(t *testing.T) {
	e := newEnv(t)
	order := &store.SampleOrder{SampleID: "S24031502", PatientID: e.patient.ID, Tests: []string{"GLU", "CRP"}, Priority: "S"}
	if err := e.st.CreateSampleOrder(e.ctx, e.org.ID, order); err != nil {
		t.Fatal(err)
	}
	p := openPTY(t)
	dev := e.addDevice(t, &store.Device{Name: "CX300", Protocol: "astm", PortPath: p.Path})
	sendASTMRaw(t, p.Master, sample(t, "query.astm"))
	text := receiveASTM(t, p.Master)
	ans, err := astm.Parse(text)
	if err != nil {
		t.Fatalf("answer does not parse: %v\n%q", err, text)
	}
	if len(ans.Patients) != 1 || len(ans.Patients[0].Orders) != 1 {
		t.Fatalf("answer: %q", text)
	}
	pat, o := ans.Patients[0], ans.Patients[0].Orders[0]
	if pat.PracticeID != "PAT-100234" || pat.Name.Last != "Mustermann" || pat.Birthdate != "19780512" || pat.Sex != "F" ||
		o.SpecimenID != "S24031502" || len(o.Tests) != 2 || o.Tests[0].Code != "GLU" || o.Priority != "S" {
		t.Fatalf("answer content: %q", text)
	}
	waitFor(t, "reply logged", func() bool { return len(e.messages(t, dev.ID)) == 2 })
	ms := e.messages(t, dev.ID)
	if ms[0].Kind != "query" || ms[1].Direction != "out" || ms[1].Kind != "query-reply" || ms[1].ReplyTo != ms[0].ID {
		t.Fatalf("log: %+v", ms)
	}
}

// TestUnmatchedQCAndReingest: results for a patient we do not know wait in
// the unmatched queue; a QC run is stored as QC, never on a patient; once
// the patient exists, re-running ingestion matches the results.
func TestUnmatchedQCAndReingest(t *testing.T) {
	e := newEnv(t)
	p := openPTY(t)
	dev := e.addDevice(t, &store.Device{Name: "HX-500", Protocol: "astm", PortPath: p.Path, Station: "Lab"})
	// A selected patient must not catch results that name someone else.
	if err := e.st.SelectStationPatient(e.ctx, e.org.ID, "Lab", e.patient.ID); err != nil {
		t.Fatal(err)
	}
	inst := simulator(t, p, sim.Config{Protocol: sim.ASTM})
	send(t, inst, sample(t, "haematology.astm"))
	send(t, inst, sample(t, "qc.astm"))
	waitFor(t, "16 observations", func() bool { return len(e.observations(t, store.ObservationFilter{DeviceID: dev.ID})) == 16 })
	qc := false
	unmatched := e.observations(t, store.ObservationFilter{Unmatched: true, QC: &qc})
	if len(unmatched) != 13 {
		t.Fatalf("want 13 unmatched haematology results, got %d", len(unmatched))
	}
	runs, err := e.st.QCRuns(e.ctx, e.org.ID, dev.ID, 10)
	if err != nil || len(runs) != 1 || len(runs[0].Results) != 3 {
		t.Fatalf("qc runs: %+v %v", runs, err)
	}
	for _, r := range runs[0].Results {
		if r.PatientID != 0 {
			t.Fatalf("QC result on a patient: %+v", r)
		}
	}
	ms := e.messages(t, dev.ID)
	if !strings.Contains(ms[0].PatientRef, "unknown patient") {
		t.Fatalf("patient ref: %q", ms[0].PatientRef)
	}

	jonas := &store.Patient{MRN: "PAT-100987", Active: true, Names: []store.HumanName{{FirstName: "Jonas", LastName: "Beispiel"}}}
	if err := e.st.CreatePatient(e.ctx, e.org.ID, jonas); err != nil {
		t.Fatal(err)
	}
	in, err := devices.Reingest(e.ctx, e.st, e.org.ID, ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if in.PatientID != jonas.ID || len(in.Observations) != 13 {
		t.Fatalf("re-ingestion: patient %d, %d observations", in.PatientID, len(in.Observations))
	}
	if n := len(e.observations(t, store.ObservationFilter{PatientID: jonas.ID})); n != 13 {
		t.Fatalf("after re-ingestion Jonas has %d results", n)
	}
	if n := len(e.observations(t, store.ObservationFilter{DeviceID: dev.ID})); n != 16 {
		t.Fatalf("re-ingestion duplicated results: %d", n)
	}
	if _, err := devices.Reingest(e.ctx, e.st, e.org.ID+1, ms[0].ID); err == nil {
		t.Fatal("another organisation re-ingested the message")
	}
	_ = fmt.Sprint
}

// BenchmarkASTMOverPTY is the whole path for one 10-result message:
// simulator → pty → serial → link (ACK after storing) → ingestion. The
// wire rate it reports (MB/s of ASTM bytes) must exceed 115200 baud, i.e.
// 0.0115 MB/s, for the host to keep up with the fastest serial analysers.
func BenchmarkASTMOverPTY(b *testing.B) {
	e := newEnv(b)
	p := openPTY(b)
	dev := e.addDevice(b, &store.Device{Name: "CX300", Protocol: "astm", PortPath: p.Path, Baud: 115200})
	inst := simulator(b, p, sim.Config{Protocol: sim.ASTM})
	msg := sample(b, "chemistry.astm")
	wire := 0
	for _, f := range astm.SplitFrames(msg, 240) {
		wire += len(astm.AppendFrame(nil, f)) + 1 // and its ACK
	}
	b.SetBytes(int64(wire + 3)) // ENQ, its ACK, EOT
	b.ResetTimer()
	for b.Loop() {
		send(b, inst, msg)
	}
	b.StopTimer()
	waitFor(b, "all ingested", func() bool {
		ms, _ := e.st.DeviceMessages(e.ctx, e.org.ID, store.DeviceMessageFilter{DeviceID: dev.ID, Status: store.MessageReceived})
		return len(ms) == 0
	})
}
