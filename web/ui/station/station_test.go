package station_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/devices/sim"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/live"
)

const password = storetest.Password

type env struct {
	t       *testing.T
	st      *store.Store
	srv     *httptest.Server
	org     *store.Org
	patient *store.Patient
	mgr     *devices.Manager
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st := storetest.Open(t) // closed after the server, hub and manager below
	e := &env{t: t, st: st, org: storetest.Org(t, st, "Clinic", "clinic")}
	storetest.User(t, st, e.org.ID, "admin@c.example", "Ada Admin", store.RoleAdmin)
	storetest.User(t, st, e.org.ID, "doc@c.example", "Dr Dora", store.RoleClinician)
	storetest.User(t, st, e.org.ID, "front@c.example", "Fred Front", store.RoleFrontDesk)
	e.patient = &store.Patient{MRN: "PAT-100234", Active: true, BirthDate: "1978-05-12",
		Names: []store.HumanName{{FirstName: "Erika", LastName: "Mustermann"}}}
	must(t, st.CreatePatient(ctx, e.org.ID, e.patient))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	e.mgr = devices.NewManager(st, devices.Options{Log: log, PollInterval: 50 * time.Millisecond, MinBackoff: 20 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Go(func() { hub.Run(ctx) })
	wg.Go(func() { e.mgr.Run(ctx) })
	e.srv = httptest.NewServer(web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "http://x", Devices: e.mgr,
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}}))
	t.Cleanup(func() {
		hub.Close()
		e.srv.Close()
		cancel()
		wg.Wait()
	})
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type browser struct {
	e *env
	c *http.Client
}

type resp struct {
	status int
	loc    string
	body   string
}

func (e *env) signIn(email string) *browser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if r := b.post("/signin", url.Values{"email": {email}, "password": {password}, "next": {"/board"}}); r.status != http.StatusSeeOther {
		e.t.Fatalf("sign in %s: %d", email, r.status)
	}
	return b
}

func (b *browser) do(method, path string, form url.Values) resp {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	must(b.e.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	must(b.e.t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, loc: res.Header.Get("Location"), body: string(raw)}
}

func (b *browser) get(path string) resp                { return b.do("GET", path, nil) }
func (b *browser) post(path string, f url.Values) resp { return b.do("POST", path, f) }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := sim.Sample(name)
	must(t, err)
	return b
}

// TestStationEndToEnd: an admin adds a device in the admin page; a
// simulated analyser on a real pty sends results; they show on the
// station page; unmatched results are assigned from the queue; the raw log
// shows the bytes and re-runs ingestion.
func TestStationEndToEnd(t *testing.T) {
	e := newEnv(t)
	p, err := sim.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer p.Close()
	admin := e.signIn("admin@c.example")
	doc := e.signIn("doc@c.example")
	front := e.signIn("front@c.example")

	// Bad input is shown next to the fields and stores nothing.
	r := admin.post("/admin/devices", url.Values{"name": {""}, "protocol": {"astm"}, "baud": {"9600"}, "data_bits": {"8"}, "parity": {"none"}, "stop_bits": {"1"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "is required") {
		t.Fatalf("bad device form: %d", r.status)
	}
	if devs, _ := e.st.Devices(context.Background(), e.org.ID, store.DeviceFilter{}); len(devs) != 0 {
		t.Fatal("a bad form stored a device")
	}
	if r := doc.post("/admin/devices", url.Values{"name": {"X"}}); r.status != http.StatusForbidden {
		t.Fatalf("a clinician added a device: %d", r.status)
	}
	r = admin.post("/admin/devices", url.Values{"name": {"CX300"}, "protocol": {"astm"}, "port_path": {p.Path}, "baud": {"9600"},
		"data_bits": {"8"}, "parity": {"none"}, "stop_bits": {"1"}, "station": {"Lab"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add device: %d %s", r.status, r.body)
	}
	waitFor(t, "device connected on the admin page", func() bool {
		return strings.Contains(admin.get("/admin/devices").body, ">connected<")
	})

	inst := sim.New(p.Master, sim.Config{Protocol: sim.ASTM})
	defer inst.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := inst.Send(ctx, sample(t, "chemistry.astm")); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Send(ctx, sample(t, "haematology.astm")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "results on the station page", func() bool {
		b := doc.get("/stations/Lab").body
		return strings.Contains(b, "7,41") && strings.Contains(b, "Unmatched results (13)")
	})
	page := doc.get("/stations/Lab").body
	if !strings.Contains(page, "Erika Mustermann") || !strings.Contains(page, "&gt;200") {
		t.Fatal("station page lacks the patient or the verbatim value")
	}
	if r := front.get("/stations/Lab"); r.status != http.StatusForbidden {
		t.Fatalf("front desk sees the station: %d", r.status)
	}
	if r := doc.get("/stations/Nowhere"); r.status != http.StatusNotFound {
		t.Fatalf("unknown station: %d", r.status)
	}

	// Select the patient, then assign two unmatched results to her.
	if r := doc.post("/stations/Lab/select", url.Values{"patient_id": {fmt.Sprint(e.patient.ID)}}); r.status != http.StatusSeeOther {
		t.Fatalf("select: %d", r.status)
	}
	page = doc.get("/stations/Lab").body
	if !strings.Contains(page, `data-testid="selected-patient">Erika Mustermann`) {
		t.Fatal("selected patient not shown")
	}
	ids := regexp.MustCompile(`name="obs" value="(\d+)"`).FindAllStringSubmatch(page, -1)
	if len(ids) != 13 {
		t.Fatalf("want 13 results to pick, got %d", len(ids))
	}
	r = doc.post("/stations/Lab/assign", url.Values{"obs": {ids[0][1], ids[1][1]}, "patient_id": {fmt.Sprint(e.patient.ID)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("assign: %d", r.status)
	}
	if !strings.Contains(doc.get("/stations/Lab").body, "Unmatched results (11)") {
		t.Fatal("assigned results still in the queue")
	}
	mine, _ := e.st.Observations(context.Background(), e.org.ID, store.ObservationFilter{PatientID: e.patient.ID})
	if len(mine) != 12 {
		t.Fatalf("patient has %d results, want 10 + 2 assigned", len(mine))
	}

	// Label a sample for the selected patient.
	if r := doc.post("/stations/Lab/samples", url.Values{"sample_id": {"S99"}, "tests": {"GLU CRP"}}); r.status != http.StatusSeeOther {
		t.Fatalf("label sample: %d", r.status)
	}
	if o, err := e.st.SampleOrderBySample(context.Background(), e.org.ID, "S99"); err != nil || o.PatientID != e.patient.ID {
		t.Fatalf("sample order: %+v %v", o, err)
	}

	// The raw log shows the bytes; re-running ingestion keeps the count.
	devs, _ := e.st.Devices(context.Background(), e.org.ID, store.DeviceFilter{})
	logPage := admin.get(fmt.Sprintf("/admin/devices/%d/log", devs[0].ID))
	if logPage.status != 200 || !strings.Contains(logPage.body, "&lt;ENQ&gt;&lt;STX&gt;") {
		t.Fatalf("raw log: %d", logPage.status)
	}
	ms, _ := e.st.DeviceMessages(context.Background(), e.org.ID, store.DeviceMessageFilter{DeviceID: devs[0].ID, Oldest: true})
	r = admin.post(fmt.Sprintf("/admin/devices/%d/messages/%d/reingest", devs[0].ID, ms[0].ID), url.Values{})
	if r.status != http.StatusSeeOther {
		t.Fatalf("reingest: %d", r.status)
	}
	all, _ := e.st.Observations(context.Background(), e.org.ID, store.ObservationFilter{DeviceID: devs[0].ID})
	if len(all) != 23 {
		t.Fatalf("after re-ingestion %d observations, want 23", len(all))
	}
}

func TestStationEventsStream(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := &store.Device{Name: "Scale", Protocol: "line", PortPath: "/dev/null-not-a-port", Station: "Room 1"}
	must(t, e.st.CreateDevice(ctx, e.org.ID, d))
	other := &store.Device{Name: "Other", Protocol: "line", PortPath: "/dev/null-not-a-port-2", Station: "Room 2"}
	must(t, e.st.CreateDevice(ctx, e.org.ID, other))
	doc := e.signIn("doc@c.example")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", e.srv.URL+"/stations/Room%201/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := doc.c.Do(req)
	must(t, err)
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("events: %d", res.StatusCode)
	}
	rd := bufio.NewReader(res.Body)
	rd.ReadString('\n') // retry line
	// A reading of another station's device, then one of ours.
	for _, dev := range []*store.Device{other, d} {
		m := &store.DeviceMessage{DeviceID: dev.ID, Protocol: "line", Raw: []byte("WT 72.4 kg")}
		must(t, e.st.SaveDeviceMessage(ctx, e.org.ID, m))
		must(t, e.st.RecordIngestion(ctx, e.org.ID, m.ID, &store.Ingestion{Status: store.MessageIngested,
			Observations: []store.Observation{{Source: "serial", Code: "WT", Value: "72.4"}}}))
	}
	var got []string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v (got %v)", err, got)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, "observationId") {
			got = append(got, line)
			break
		}
	}
	if !strings.Contains(got[0], fmt.Sprintf(`"deviceId":%d`, d.ID)) {
		t.Fatalf("the stream passed another station's reading first: %v", got)
	}
}

func TestInstrumentClientsAdmin(t *testing.T) {
	e := newEnv(t)
	admin := e.signIn("admin@c.example")
	r := admin.post("/admin/instrument-clients", url.Values{"name": {""}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("empty name: %d", r.status)
	}
	r = admin.post("/admin/instrument-clients", url.Values{"name": {"ECG vendor"}})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d", r.status)
	}
	m := regexp.MustCompile(`clientID=(ic_[\w-]+)\s+clientSecret=([\w-]+)`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("secret not shown on creation")
	}
	if _, _, _, err := e.st.IssueInstrumentToken(context.Background(), m[1], m[2]); err != nil {
		t.Fatalf("the shown credentials do not work: %v", err)
	}
	list := admin.get("/admin/instrument-clients").body
	if strings.Contains(list, m[2]) {
		t.Fatal("the secret is shown again")
	}
	if r := admin.post("/admin/instrument-clients/"+m[1]+"/revoke", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	if _, _, _, err := e.st.IssueInstrumentToken(context.Background(), m[1], m[2]); err == nil {
		t.Fatal("revoked credentials still work")
	}
	if r := e.signIn("doc@c.example").get("/admin/instrument-clients"); r.status != http.StatusForbidden {
		t.Fatalf("clinician sees clients: %d", r.status)
	}
}

func TestPatientFileDownload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := &store.PatientFile{PatientID: e.patient.ID, Title: "ECG", Filename: "ecg 1.pdf", Data: []byte("%PDF-1.4 ecg"), Source: "instrument-api"}
	must(t, e.st.AddPatientFile(ctx, e.org.ID, f))
	doc := e.signIn("doc@c.example")
	req, _ := http.NewRequest("GET", e.srv.URL+fmt.Sprintf("/patient-files/%d", f.ID), nil)
	res, err := doc.c.Do(req)
	must(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "%PDF-1.4 ecg" || res.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), `filename="ecg 1.pdf"`) {
		t.Fatalf("download: %d %q %v", res.StatusCode, body, res.Header)
	}
	if r := doc.get(fmt.Sprintf("/patient-files/%d", f.ID+1)); r.status != http.StatusNotFound {
		t.Fatalf("unknown file: %d", r.status)
	}
	if r := e.signIn("front@c.example").get(fmt.Sprintf("/patient-files/%d", f.ID)); r.status != http.StatusForbidden {
		t.Fatalf("front desk downloads a clinical file: %d", r.status)
	}
}

// TestStationWalkIn: the walk-in button opens a visit at the station for a
// patient without an appointment (a known one, or one registered by MRN),
// selects them, and the readings that follow, as well as unmatched results
// assigned to them, land on that visit. Bad input opens nothing.
func TestStationWalkIn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := sim.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer p.Close()
	dev := &store.Device{Name: "CX300", Protocol: "astm", PortPath: p.Path, Station: "Lab"}
	must(t, e.st.CreateDevice(ctx, e.org.ID, dev))
	e.mgr.Reload()
	waitFor(t, "device connected", func() bool { s, ok := e.mgr.State(e.org.ID, dev.ID); return ok && s.Connected })
	doc := e.signIn("doc@c.example")
	walkIns := func(patientID int64) []store.Encounter {
		t.Helper()
		es, err := e.st.Encounters(ctx, e.org.ID, store.EncounterFilter{PatientID: patientID, Station: "Lab"})
		must(t, err)
		return es
	}
	flash := func(r resp) string {
		t.Helper()
		if r.status != http.StatusSeeOther || r.loc != "/stations/Lab" {
			t.Fatalf("walk-in answered %d %q", r.status, r.loc)
		}
		return doc.get("/stations/Lab").body
	}

	// Refused: other roles, unknown patients, incomplete or mistyped registrations.
	if r := e.signIn("front@c.example").post("/stations/Lab/walk-in", url.Values{"patient_id": {fmt.Sprint(e.patient.ID)}}); r.status != http.StatusForbidden {
		t.Fatalf("front desk opened a walk-in: %d", r.status)
	}
	for _, c := range []struct {
		name string
		form url.Values
		want string
	}{
		{"unknown patient", url.Values{"patient_id": {"999999"}}, "That patient does not exist."},
		{"not a number", url.Values{"patient_id": {"abc"}}, "That patient does not exist."},
		{"no MRN", url.Values{"last_name": {"Nilsen"}}, "mrn: is required"},
		{"no last name", url.Values{"mrn": {"NEW-1"}}, "last_name: is required"},
		{"bad birth date", url.Values{"mrn": {"NEW-1"}, "last_name": {"Nilsen"}, "birth_date": {"31.12.1990"}}, "birth_date: must be a date"},
		{"MRN of someone else", url.Values{"mrn": {"PAT-100234"}, "last_name": {"Nilsen"}}, "belongs to a patient with another last name"},
	} {
		if body := flash(doc.post("/stations/Lab/walk-in", c.form)); !strings.Contains(body, c.want) {
			t.Errorf("%s: page does not say %q", c.name, c.want)
		}
	}
	if es, _ := e.st.Encounters(ctx, e.org.ID, store.EncounterFilter{Station: "Lab"}); len(es) != 0 {
		t.Fatalf("refused walk-ins stored %d encounters", len(es))
	}
	if _, err := e.st.PatientBy(ctx, e.org.ID, store.ByMRN, "NEW-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused walk-in registered the patient: %v", err)
	}
	if r := doc.post("/stations/Nowhere/walk-in", url.Values{"patient_id": {fmt.Sprint(e.patient.ID)}}); r.status != http.StatusNotFound {
		t.Fatalf("walk-in at an unknown station: %d", r.status)
	}

	// A known patient: opened, selected, shown; a second click reuses it.
	body := flash(doc.post("/stations/Lab/walk-in", url.Values{"patient_id": {fmt.Sprint(e.patient.ID)}}))
	if !strings.Contains(body, `data-testid="selected-patient">Erika Mustermann`) {
		t.Fatal("the walk-in patient is not selected and shown")
	}
	flash(doc.post("/stations/Lab/walk-in", url.Values{"patient_id": {fmt.Sprint(e.patient.ID)}}))
	es := walkIns(e.patient.ID)
	if len(es) != 1 || !es[0].WalkIn() || es[0].Status != store.StatusArrived {
		t.Fatalf("walk-ins after two clicks: %+v", es)
	}
	visit := es[0]

	// The readings that follow (naming no patient) go to the visit, and so
	// do unmatched results assigned from the queue.
	inst := sim.New(p.Master, sim.Config{Protocol: sim.ASTM})
	defer inst.Close()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	reading := "H|\\^&|||CX300^2.1.4^SN48213|||||CLINICBOX||P|LIS2-A2|20250314093512\rP|1\r" +
		"O|1|S77||^^^GLU|R\rR|1|^^^GLU^Glucose|5,8|mmol/L|3,9-5,5|H||F||opA||20250314093155|CX300\rL|1|N\r"
	for _, m := range [][]byte{[]byte(reading), sample(t, "haematology.astm")} {
		if _, err := inst.Send(sctx, m); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "14 readings", func() bool {
		all, _ := e.st.Observations(ctx, e.org.ID, store.ObservationFilter{DeviceID: dev.ID})
		return len(all) == 14
	})
	mine, _ := e.st.Observations(ctx, e.org.ID, store.ObservationFilter{PatientID: e.patient.ID})
	if len(mine) != 1 || mine[0].Code != "GLU" || mine[0].AppointmentID != visit.ID {
		t.Fatalf("the reading after the walk-in: %+v", mine)
	}
	page := doc.get("/stations/Lab").body
	ids := regexp.MustCompile(`name="obs" value="(\d+)"`).FindAllStringSubmatch(page, -1)
	if len(ids) != 13 {
		t.Fatalf("want 13 unmatched results (they name someone else), got %d", len(ids))
	}
	if r := doc.post("/stations/Lab/assign", url.Values{"obs": {ids[0][1]}, "patient_id": {fmt.Sprint(e.patient.ID)}}); r.status != http.StatusSeeOther {
		t.Fatalf("assign: %d", r.status)
	}
	mine, _ = e.st.Observations(ctx, e.org.ID, store.ObservationFilter{PatientID: e.patient.ID})
	for _, o := range mine {
		if o.AppointmentID != visit.ID {
			t.Fatalf("result %s is on encounter %d, not the walk-in %d", o.Code, o.AppointmentID, visit.ID)
		}
	}
	if len(mine) != 2 {
		t.Fatalf("patient has %d results, want 2", len(mine))
	}

	// A patient not registered yet: registered by MRN, opened and selected.
	body = flash(doc.post("/stations/Lab/walk-in", url.Values{"mrn": {"NEW-1"}, "first_name": {"Nora"}, "last_name": {"Nilsen"}, "birth_date": {"1990-12-31"}}))
	nora, err := e.st.PatientBy(ctx, e.org.ID, store.ByMRN, "NEW-1")
	if err != nil || nora.BirthDate != "1990-12-31" || nora.DisplayName() != "Nora Nilsen" {
		t.Fatalf("registered patient: %+v %v", nora, err)
	}
	if len(walkIns(nora.ID)) != 1 || !strings.Contains(body, `data-testid="selected-patient">Nora Nilsen`) {
		t.Fatal("the new patient's walk-in is not open and selected")
	}
	// Her MRN again, with her name: her walk-in, no second patient.
	flash(doc.post("/stations/Lab/walk-in", url.Values{"mrn": {"NEW-1"}, "last_name": {"nilsen"}}))
	if n := len(walkIns(nora.ID)); n != 1 {
		t.Fatalf("%d walk-ins for Nora", n)
	}
}
