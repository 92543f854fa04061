package lis_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/devices/lis"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// --- A test LIS with its own minimal HL7 reader (not devices/hl7). ---

// lisMsg is a received message: segments split into fields, components
// split and unescaped by this file's own code.
type lisMsg struct {
	raw  string
	segs [][]string // segs[i][0] is the segment name; MSH fields are shifted to match the standard's numbering
}

// parseHL7 is an independent reader for the standard separators |^~\&.
func parseHL7(raw string) lisMsg {
	m := lisMsg{raw: raw}
	for _, line := range strings.Split(raw, "\r") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if f[0] == "MSH" {
			f = append([]string{"MSH", "|"}, f[1:]...)
		}
		m.segs = append(m.segs, f)
	}
	return m
}

// unescape decodes \F\ \S\ \T\ \R\ \E\.
func unescape(s string) string {
	r := strings.NewReplacer(`\F\`, "|", `\S\`, "^", `\T\`, "&", `\R\`, "~", `\E\`, `\`)
	return r.Replace(s)
}

// get returns field f, component c (1-based, 0 = whole field raw) of the
// n-th segment called name, unescaped.
func (m lisMsg) get(name string, n, f, c int) string {
	k := 0
	for _, s := range m.segs {
		if s[0] != name {
			continue
		}
		if k++; k < n {
			continue
		}
		if f >= len(s) {
			return ""
		}
		if c == 0 {
			return s[f]
		}
		comps := strings.Split(s[f], "^")
		if c > len(comps) {
			return ""
		}
		return unescape(comps[c-1])
	}
	return ""
}

func (m lisMsg) count(name string) int {
	n := 0
	for _, s := range m.segs {
		if s[0] == name {
			n++
		}
	}
	return n
}

// testLIS is an MLLP listener that answers each message with an ACK. mode
// decides the answer: "AA", "AE" (once per control id, then AA), "silent"
// (no answer once per control id, then AA).
type testLIS struct {
	t    *testing.T
	addr string
	mode atomic.Value
	tls  *tls.Config // MLLP over TLS when set

	mu       sync.Mutex
	ln       net.Listener
	accepted []lisMsg // answered AA
	received int
	tried    map[string]bool
}

func newTestLIS(t *testing.T) *testLIS {
	l := &testLIS{t: t, tried: map[string]bool{}}
	l.mode.Store("AA")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.addr = ln.Addr().String()
	l.serve(ln)
	t.Cleanup(l.stop)
	return l
}

func (l *testLIS) serve(ln net.Listener) {
	if l.tls != nil {
		ln = tls.NewListener(ln, l.tls)
	}
	l.mu.Lock()
	l.ln = ln
	l.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go l.conn(c)
		}
	}()
}

// stop takes the LIS down: no listener, so connections are refused.
func (l *testLIS) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		l.ln.Close()
		l.ln = nil
	}
}

// start brings it back on the same address.
func (l *testLIS) start() {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		l.t.Fatal(err)
	}
	l.serve(ln)
}

func (l *testLIS) conn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		if _, err := br.ReadBytes(0x0b); err != nil {
			return
		}
		body, err := br.ReadBytes(0x1c)
		if err != nil {
			return
		}
		br.ReadByte() // CR
		m := parseHL7(string(body[:len(body)-1]))
		ctrl := m.get("MSH", 1, 10, 0)
		l.mu.Lock()
		l.received++
		code := "AA"
		switch l.mode.Load().(string) {
		case "AE":
			if !l.tried[ctrl] {
				code = "AE"
			}
		case "silent":
			if !l.tried[ctrl] {
				code = ""
			}
		}
		l.tried[ctrl] = true
		if code == "AA" {
			l.accepted = append(l.accepted, m)
		}
		l.mu.Unlock()
		if code == "" {
			continue // no answer: the sender must time out
		}
		ack := "MSH|^~\\&|LIS|LAB|CLINICBOX|a|20261202080000||ACK^R01^ACK|A" + ctrl + "|P|2.5.1\rMSA|" + code + "|" + ctrl + "|checked\r"
		c.Write([]byte("\x0b" + ack + "\x1c\r"))
	}
}

func (l *testLIS) got() []lisMsg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]lisMsg(nil), l.accepted...)
}

// --- The scenario. ---

type fixture struct {
	ctx context.Context
	st  *store.Store
	org *store.Org
	dev *store.Device
	pat *store.Patient
	w   *lis.Worker
}

func newFixture(t *testing.T, opts ...func(*lis.Config)) *fixture {
	ctx, cancel := context.WithCancel(context.Background())
	st := storetest.Open(t) // closed after the worker has stopped
	f := &fixture{ctx: ctx, st: st, org: storetest.Org(t, st, "Clinic", "clinic")}
	f.dev = storetest.Device(t, st, f.org.ID, &store.Device{Name: "Yumizen", Protocol: "astm", PortPath: "/dev/ttyUSB1", Station: "Lab"})
	f.pat = &store.Patient{MRN: "MRN-1", NationalID: "0101801234", BirthDate: "1980-01-01", Gender: "female", Active: true,
		Names: []store.HumanName{{FirstName: "Anna", LastName: "Jensen"}}}
	if err := st.CreatePatient(ctx, f.org.ID, f.pat); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PublishCodeMap(ctx, f.org.ID, []store.CodeMapEntry{
		{DeviceCode: "WBC", System: "LOINC", Code: "6690-2", Display: "Leukocytes [#/volume] in Blood"},
		{DeviceCode: "WBC", System: "NPU", Code: "NPU02593", Display: "B-Leukocytes; num.c."},
	}, "first table"); err != nil {
		t.Fatal(err)
	}
	cfg := lis.Config{Store: st, Poll: 30 * time.Millisecond, MinBackoff: 30 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, AckTimeout: 300 * time.Millisecond, DialTimeout: time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	f.w = lis.New(cfg)
	done := make(chan struct{})
	go func() { f.w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

func (f *fixture) addLIS(t *testing.T, l *testLIS, name string, d store.LISDestination) {
	host, port, _ := net.SplitHostPort(l.addr)
	d.Name, d.Host = name, host
	fmt.Sscan(port, &d.Port)
	if err := f.st.AddLISDestination(f.ctx, f.org.ID, &d); err != nil {
		t.Fatal(err)
	}
}

// ingest stores an ASTM message as the port manager does and ingests it.
func (f *fixture) ingest(t *testing.T, raw string) {
	m := &store.DeviceMessage{DeviceID: f.dev.ID, Protocol: "astm", Raw: []byte(raw)}
	if err := f.st.SaveDeviceMessage(f.ctx, f.org.ID, m); err != nil {
		t.Fatal(err)
	}
	if _, err := devices.Reingest(f.ctx, f.st, f.org.ID, m.ID); err != nil {
		t.Fatal(err)
	}
}

func astm(patient, name, sample, results string) string {
	return "H|\\^&|||Yumizen^2.1^YZ-55||||||P|LIS2-A2|20261202075500\r" +
		"P|1||" + patient + "||" + name + "||19750505|M\r" +
		"O|1|" + sample + "||^^^WBC\r" + results + "L|1|N\r"
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestORUToLIS(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := newTestLIS(t)
	f.addLIS(t, l, "main-lis", store.LISDestination{ReceivingApp: "LABSYS", ReceivingFacility: "LAB1"})

	// A matched result: values and units byte for byte as the analyser sent them.
	f.ingest(t, astm("MRN-1", "Jensen^Anna", "S-1",
		"R|1|^^^WBC|<0,5|10*3/uL|3.5-10.0|L||F||op1||20261202075400\r"+
			"R|2|^^^HGB|7,41|mmol/L|7.3-9.5|N||F||op1||20261202075400\r"))
	waitFor(t, "two ORUs", func() bool { return len(l.got()) == 2 })
	m := l.got()[0]
	checks := []struct {
		name      string
		got, want string
	}{
		{"MSH-9", m.get("MSH", 1, 9, 0), "ORU^R01^ORU_R01"},
		{"MSH-5", m.get("MSH", 1, 5, 0), "LABSYS"},
		{"MSH-12", m.get("MSH", 1, 12, 0), "2.5.1"},
		{"PID-3 MRN", m.get("PID", 1, 3, 1), "MRN-1"},
		{"PID-5 family", m.get("PID", 1, 5, 1), "Jensen"},
		{"PID-7", m.get("PID", 1, 7, 0), "19800101"},
		{"OBR-2 specimen", m.get("OBR", 1, 2, 1), "S-1"},
		{"OBX-2", m.get("OBX", 1, 2, 0), "ST"},
		{"OBX-3 device code", m.get("OBX", 1, 3, 1), "WBC"},
		{"OBX-3 LOINC", m.get("OBX", 1, 3, 4), "6690-2"},
		{"OBX-3 LOINC system", m.get("OBX", 1, 3, 6), "LN"},
		{"OBX-3 NPU", m.get("OBX", 1, 3, 10), "NPU02593"},
		{"OBX-5 value", unescape(m.get("OBX", 1, 5, 0)), "<0,5"},
		{"OBX-6 units", m.get("OBX", 1, 6, 1), "10*3/uL"},
		{"OBX-7 range", unescape(m.get("OBX", 1, 7, 0)), "3.5-10.0"},
		{"OBX-8 flags", m.get("OBX", 1, 8, 0), "L"},
		{"OBX-11 status", m.get("OBX", 1, 11, 0), "F"},
		{"OBX-14 time", m.get("OBX", 1, 14, 0), "20261202075400"},
		{"OBX-16 operator", m.get("OBX", 1, 16, 0), "op1"},
		{"OBX-18 equipment", m.get("OBX", 1, 18, 2), "Yumizen"},
		{"SPM-2", m.get("SPM", 1, 2, 1), "S-1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q\n%q", c.name, c.got, c.want, m.raw)
		}
	}
	if v := unescape(l.got()[1].get("OBX", 1, 5, 0)); v != "7,41" {
		t.Errorf("second value %q", v)
	}

	// An unmatched result goes too, with the analyser's patient fields.
	f.ingest(t, astm("X-999", "Doe^John", "S-2", "R|1|^^^WBC|12.5|10*3/uL|3.5-10.0|H||F||op2||20261202080000\r"))
	waitFor(t, "the unmatched ORU", func() bool { return len(l.got()) == 3 })
	u := l.got()[2]
	if u.get("PID", 1, 3, 1) != "X-999" || u.get("PID", 1, 5, 1) != "Doe" || u.get("PID", 1, 5, 2) != "John" ||
		u.get("PID", 1, 7, 0) != "19750505" || u.get("PID", 1, 8, 0) != "M" || u.get("OBR", 1, 2, 1) != "S-2" ||
		u.get("OBX", 1, 2, 0) != "NM" || u.get("OBX", 1, 5, 0) != "12.5" {
		t.Errorf("unmatched ORU: %q", u.raw)
	}
	// Assigned at the station later: sent again as a correction.
	res, _ := f.st.Results(f.ctx, f.org.ID, store.ResultFilter{})
	if _, err := f.st.AssignObservations(f.ctx, f.org.ID, f.pat.ID, []int64{res[2].ID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the correction", func() bool { return len(l.got()) == 4 })
	c := l.got()[3]
	if c.get("PID", 1, 3, 1) != "MRN-1" || c.get("OBX", 1, 11, 0) != "C" || c.get("OBR", 1, 25, 0) != "C" ||
		c.get("OBX", 1, 5, 0) != "12.5" || c.get("OBR", 1, 2, 1) != "S-2" {
		t.Errorf("correction ORU: %q", c.raw)
	}
	// Every accepted message is in the log, acked once. The worker records
	// the ACK after the LIS has the message: wait for that, not only for
	// the LIS.
	var log []store.LISMessage
	waitFor(t, "the ACKs recorded", func() bool {
		log, _ = f.st.LISMessages(f.ctx, f.org.ID, 10)
		return len(log) == 4 && !slices.ContainsFunc(log, func(m store.LISMessage) bool { return m.Status == store.LISPending })
	})
	if len(log) != 4 {
		t.Fatalf("log has %d messages", len(log))
	}
	for _, lm := range log {
		if lm.Status != store.LISAcked || lm.Attempts != 1 || lm.AckCode != "AA" || lm.CodeMapVersion != 1 {
			t.Errorf("log entry %+v", lm)
		}
	}
}

// TestLISDownLosesNothing: the LIS is down, then answers AE, then is
// silent once; every result arrives, in order, and none is accepted twice.
func TestLISDownLosesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := newTestLIS(t)
	f.addLIS(t, l, "lis", store.LISDestination{})
	l.stop()
	values := []string{"4,1", "<0,5", ">30.0", "7.0", "5,55", "6"}
	for i, v := range values[:3] {
		f.ingest(t, astm("MRN-1", "Jensen^Anna", fmt.Sprintf("S-%d", i), "R|1|^^^WBC|"+v+"|10*3/uL|||F\r"))
	}
	waitFor(t, "failed attempts", func() bool {
		ms, _ := f.st.LISMessages(f.ctx, f.org.ID, 10)
		return len(ms) == 3 && ms[2].Attempts >= 2
	})
	l.mode.Store("AE")
	l.start()
	waitFor(t, "the first three", func() bool { return len(l.got()) == 3 })
	l.mode.Store("silent")
	for i, v := range values[3:] {
		f.ingest(t, astm("MRN-1", "Jensen^Anna", fmt.Sprintf("S-%d", i+3), "R|1|^^^WBC|"+v+"|10*3/uL|||F\r"))
	}
	waitFor(t, "all six", func() bool { return len(l.got()) == 6 })
	time.Sleep(200 * time.Millisecond)
	got := l.got()
	if len(got) != 6 {
		t.Fatalf("%d accepted, want 6", len(got))
	}
	seen := map[string]bool{}
	for i, m := range got {
		ctrl := m.get("MSH", 1, 10, 0)
		if seen[ctrl] {
			t.Errorf("control id %s accepted twice", ctrl)
		}
		seen[ctrl] = true
		if v := unescape(m.get("OBX", 1, 5, 0)); v != values[i] {
			t.Errorf("message %d carries %q, want %q (in order)", i, v, values[i])
		}
	}
	log, _ := f.st.LISMessages(f.ctx, f.org.ID, 10)
	for _, lm := range log {
		if lm.Status != store.LISAcked {
			t.Errorf("message %d is %s", lm.ID, lm.Status)
		}
	}
	if log[5].LastError != "" || log[5].Attempts < 2 {
		t.Errorf("first message: %d attempts", log[5].Attempts)
	}
}

func TestMatchedOnlyAndEncounterMode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	matched := newTestLIS(t)
	perEncounter := newTestLIS(t)
	f.addLIS(t, matched, "matched", store.LISDestination{MatchedOnly: true})
	f.addLIS(t, perEncounter, "encounters", store.LISDestination{Send: store.LISSendEncounter, HL7Version: "2.3"})
	enc, err := f.st.CreateWalkIn(f.ctx, f.org.ID, f.pat.ID, "Lab")
	if err != nil {
		t.Fatal(err)
	}
	f.ingest(t, astm("X-1", "Doe^Jane", "S-9", "R|1|^^^WBC|9.9|10*3/uL|||F\r"))
	f.ingest(t, astm("MRN-1", "Jensen^Anna", "S-10", "R|1|^^^WBC|8.8|10*3/uL|||F\rR|2|^^^CRP|<5|mg/L|||F\r"))
	waitFor(t, "matched results", func() bool { return len(matched.got()) == 2 })
	for _, m := range matched.got() {
		if m.get("PID", 1, 3, 1) != "MRN-1" {
			t.Errorf("matched-only destination got %q", m.raw)
		}
	}
	if _, err := f.st.CompleteEncounter(f.ctx, f.org.ID, enc.UUID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the encounter", func() bool { return len(perEncounter.got()) == 1 })
	e := perEncounter.got()[0]
	if e.count("OBX") != 2 || e.get("PV1", 1, 19, 0) != enc.UUID || e.get("MSH", 1, 12, 0) != "2.3" || e.count("SPM") != 0 ||
		unescape(e.get("OBX", 2, 5, 0)) != "<5" {
		t.Errorf("encounter ORU: %q", e.raw)
	}
	time.Sleep(100 * time.Millisecond)
	if len(matched.got()) != 2 || len(perEncounter.got()) != 1 {
		t.Errorf("extra messages: %d %d", len(matched.got()), len(perEncounter.got()))
	}
}
