package reports

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type env struct {
	t          *testing.T
	st         *store.Store
	clk        *clock
	srv        *httptest.Server
	orgA, orgB *store.Org
	tokA, tokB string
	fhirOnly   string
	room       *store.WaitingRoom
	doc        *store.User
	patient    *store.Patient
	device     *store.Device
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func at(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, time.UTC) }

func newEnv(t *testing.T) *env {
	ctx := context.Background()
	clk := &clock{t: at(1, 8, 0)}
	st := storetest.Open(t, store.WithClock(clk.now))
	mux := http.NewServeMux()
	httpx.Register(mux, New(Deps{Store: st, OAuth: &auth.OAuth{Store: st}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Routes())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{t: t, st: st, clk: clk, srv: srv, orgA: storetest.Org(t, st, "A", "a"), orgB: storetest.Org(t, st, "B", "b")}
	tok := func(o *store.Org, scopes string) string {
		c, secret, err := st.CreateOAuthClient(ctx, o.ID, store.ClientKindFHIR, "reports", store.ParseScopes(scopes))
		must(t, err)
		return c.ClientID + ":" + secret
	}
	e.tokA, e.tokB, e.fhirOnly = tok(e.orgA, "reports.read"), tok(e.orgB, "reports.read"), tok(e.orgA, "system/*.read")
	e.room = &store.WaitingRoom{Name: "Video room", SlotDuration: 900, Timezone: "UTC", Active: true}
	must(t, st.CreateWaitingRoom(ctx, e.orgA.ID, e.room))
	e.doc = storetest.User(t, st, e.orgA.ID, "doc@a.example", "Dr Who", store.RoleClinician)
	e.patient = &store.Patient{MRN: "M1", NationalID: "0101901234", Names: []store.HumanName{{FirstName: "Karen", LastName: "Jensen"}}, Active: true}
	must(t, st.CreatePatient(ctx, e.orgA.ID, e.patient))
	e.device = &store.Device{Name: "Cobas", Protocol: store.ProtocolASTM, PortPath: "/dev/ttyUSB0", Baud: 9600, DataBits: 8, Parity: "none", StopBits: "1", Active: true}
	must(t, st.CreateDevice(ctx, e.orgA.ID, e.device))
	return e
}

func (e *env) get(path, tok string) (int, []byte, http.Header) {
	e.t.Helper()
	// Tests move the store's clock across days: a token is issued at the
	// time of each request.
	id, secret, _ := strings.Cut(tok, ":")
	token, _, err := e.st.IssueOAuthToken(context.Background(), id, secret, nil)
	must(e.t, err)
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// visit books an appointment and moves it through statuses, each at its time.
func (e *env) visit(start time.Time, provider int64, steps ...step) *store.Appointment {
	ctx := context.Background()
	a := &store.Appointment{PatientID: e.patient.ID, WaitingRoomID: e.room.ID, ProviderID: provider, Start: start}
	must(e.t, e.st.CreateAppointment(ctx, e.orgA.ID, a))
	for _, s := range steps {
		e.clk.set(s.at)
		_, err := e.st.UpdateAppointment(ctx, e.orgA.ID, a.ID, func(x *store.Appointment) error {
			if s.status != "" {
				x.Status = s.status
			}
			if s.video != "" {
				x.VideoStatus = s.video
			}
			return nil
		})
		must(e.t, err)
	}
	return a
}

// step is a status change at a time.
type step struct {
	at            time.Time
	status, video string
}

func (e *env) step(t time.Time, status, video string) step { return step{t, status, video} }

func TestAppointmentReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.visit(at(2, 9, 0), e.doc.ID, e.step(at(2, 9, 0), store.StatusArrived, ""), e.step(at(2, 9, 10), store.StatusExamProgress, ""),
		e.step(at(2, 9, 30), store.StatusCompleted, ""))
	e.visit(at(2, 10, 0), e.doc.ID, e.step(at(2, 10, 30), store.StatusNoShow, ""))
	e.visit(at(2, 11, 0), 0, e.step(at(2, 8, 0), store.StatusCancelled, ""))
	e.visit(at(2, 12, 0), 0, e.step(at(2, 12, 20), "", "LWBS"))
	e.visit(at(3, 9, 0), e.doc.ID)
	e.visit(at(5, 9, 0), e.doc.ID) // outside the period

	status, body, _ := e.get("/api/reports/v1/appointments?from=2026-03-02&to=2026-03-03", e.tokA)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var rep struct {
		Report  string
		Columns []string
		Rows    []map[string]any
	}
	must(t, json.Unmarshal(body, &rep))
	if len(rep.Rows) != 2 {
		t.Fatalf("rows %s", body)
	}
	want := map[string]any{"day": "2026-03-02", "appointments": 4.0, "completed": 1.0, "cancelled": 1.0, "noShow": 1.0, "lwbs": 1.0,
		"noShowRate": 0.3333, "lwbsRate": 0.3333, "waited": 1.0, "avgWaitMinutes": 10.0, "maxWaitMinutes": 10.0, "visits": 1.0, "avgVisitMinutes": 20.0}
	for k, v := range want {
		if rep.Rows[0][k] != v {
			t.Errorf("day 1 %s = %v, want %v", k, rep.Rows[0][k], v)
		}
	}
	if rep.Rows[1]["day"] != "2026-03-03" || rep.Rows[1]["appointments"] != 1.0 || rep.Rows[1]["avgWaitMinutes"] != nil {
		t.Errorf("day 2 %v", rep.Rows[1])
	}

	status, body, _ = e.get("/api/reports/v1/appointments?from=2026-03-02&to=2026-03-03&by=clinician", e.tokA)
	must(t, json.Unmarshal(body, &rep))
	if status != 200 || len(rep.Rows) != 2 || rep.Rows[0]["clinician"] != "(no clinician)" || rep.Rows[0]["appointments"] != 2.0 ||
		rep.Rows[1]["clinician"] != "Dr Who" || rep.Rows[1]["appointments"] != 3.0 {
		t.Errorf("by clinician %s", body)
	}

	status, body, h := e.get("/api/reports/v1/appointments?from=2026-03-02&to=2026-03-03&by=waiting-room&format=csv", e.tokA)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv %d %s", status, h.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	must(t, err)
	if len(recs) != 2 || recs[0][0] != "waiting-room" || recs[1][0] != "Video room" || recs[1][1] != "5" {
		t.Errorf("csv %q", recs)
	}
	// Another organisation sees none of it.
	status, body, _ = e.get("/api/reports/v1/appointments?from=2026-03-02&to=2026-03-03", e.tokB)
	must(t, json.Unmarshal(body, &rep))
	if status != 200 || len(rep.Rows) != 0 {
		t.Errorf("org B %s", body)
	}
	for _, q := range []string{"", "?from=2026-03-02", "?from=2026-03-05&to=2026-03-01", "?from=2026-03-02&to=2026-03-03&by=week",
		"?from=2026-03-02&to=2026-03-03&tz=Mars/Olympus", "?from=2025-01-01&to=2026-12-31", "?from=2026-03-02&to=2026-03-03&format=xml"} {
		if status, body, _ := e.get("/api/reports/v1/appointments"+q, e.tokA); status != 400 || !strings.Contains(string(body), `"code":"invalid"`) {
			t.Errorf("%s: %d %s", q, status, body)
		}
	}
	if status, _, _ := e.get("/api/reports/v1/appointments?from=2026-03-02&to=2026-03-03", e.fhirOnly); status != 403 {
		t.Errorf("fhir-only token: %d", status)
	}
}

func TestResultAndQCReports(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.clk.set(at(2, 9, 0))
	must(t, e.st.AddObservations(ctx, e.orgA.ID, []store.Observation{
		{PatientID: e.patient.ID, DeviceID: e.device.ID, Source: "serial", CodeSystem: "NPU", Code: "NPU02187", Value: "5.1", Flags: "N"},
		{PatientID: e.patient.ID, DeviceID: e.device.ID, Source: "serial", CodeSystem: "NPU", Code: "NPU02187", Value: "<0,5", Flags: "L"},
		{PatientID: e.patient.ID, Source: "manual", CodeSystem: "LN", Code: "8867-4", Value: "72"},
	}))
	for _, v := range []string{"5.0", "5.1", "9.9"} {
		_, err := e.st.RecordQCRun(ctx, e.orgA.ID, store.QCMeasurement{DeviceID: e.device.ID, Code: "GLU", Lot: "L1", Level: "1", Value: v, MeasuredAt: at(2, 7, 0)})
		must(t, err)
	}
	status, body, _ := e.get("/api/reports/v1/results?from=2026-03-02&to=2026-03-02", e.tokA)
	var rep struct{ Rows []map[string]any }
	must(t, json.Unmarshal(body, &rep))
	if status != 200 || len(rep.Rows) != 2 {
		t.Fatalf("results %d %s", status, body)
	}
	if r := rep.Rows[0]; r["device"] != "(no device)" || r["results"] != 1.0 {
		t.Errorf("row 0 %v", r)
	}
	if r := rep.Rows[1]; r["device"] != "Cobas" || r["code"] != "NPU02187" || r["results"] != 2.0 || r["flagged"] != 1.0 || r["flaggedRate"] != 0.5 {
		t.Errorf("row 1 %v", r)
	}
	status, body, _ = e.get("/api/reports/v1/qc?from=2026-03-02&to=2026-03-02", e.tokA)
	must(t, json.Unmarshal(body, &rep))
	if status != 200 || len(rep.Rows) != 1 || rep.Rows[0]["runs"] != 3.0 || rep.Rows[0]["device"] != "Cobas" {
		t.Fatalf("qc %d %s", status, body)
	}
	// Without targets no run can be judged: no failure rate to give.
	if r := rep.Rows[0]; r["notEvaluated"] != 3.0 || r["failureRate"] != nil {
		t.Errorf("qc row %v", r)
	}
	status, body, _ = e.get("/api/reports/v1", e.tokA)
	if status != 200 || !strings.Contains(string(body), `"name":"monitoring-adherence","path":"/api/reports/v1/monitoring-adherence","available":true`) ||
		strings.Contains(string(body), `"available":false`) {
		t.Errorf("index %s", body)
	}
}

func TestPatientReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.visit(at(2, 9, 0), e.doc.ID)
	must(t, e.st.AddObservations(ctx, e.orgA.ID, []store.Observation{{PatientID: e.patient.ID, Source: "serial", Code: "CRP", Value: ">200"}}))
	reader := store.WithActor(ctx, store.Actor{OrgID: e.orgA.ID, Name: "apikey:EHR", RemoteAddr: "10.0.0.7"})
	e.st.AuditRead(reader, e.orgA.ID, "patient", "1", e.patient.ID)
	time.Sleep(400 * time.Millisecond) // reads are written in batches
	status, body, _ := e.get("/api/reports/v1/patients/"+e.patient.UUID, e.tokA)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var rec recordJSON
	must(t, json.Unmarshal(body, &rec))
	if rec.Patient.ID != e.patient.UUID || rec.Patient.Identifiers["nationalId"] != "0101901234" || rec.Patient.Names[0] != "Karen Jensen" {
		t.Errorf("patient %+v", rec.Patient)
	}
	if len(rec.Appointments) != 1 || len(rec.Observations) != 1 || rec.Observations[0].Value != ">200" {
		t.Errorf("records %+v %+v", rec.Appointments, rec.Observations)
	}
	var sawCreate, sawRead bool
	for _, a := range rec.Access {
		sawCreate = sawCreate || (a.Action == "create" && a.Entity == "patient")
		sawRead = sawRead || (a.Action == "read" && a.Actor == "apikey:EHR" && a.From == "10.0.0.7")
	}
	if !sawCreate || !sawRead {
		t.Errorf("access log %+v", rec.Access)
	}
	status, body, _ = e.get("/api/reports/v1/patients/"+e.patient.UUID+"?format=csv", e.tokA)
	if status != 200 || !strings.HasPrefix(string(body), "at,actor,action,entity,entityId,from,detail\n") || !strings.Contains(string(body), "apikey:EHR") {
		t.Errorf("csv %d %s", status, body)
	}
	if status, _, _ := e.get("/api/reports/v1/patients/"+e.patient.UUID, e.tokB); status != 404 {
		t.Errorf("other org: %d", status)
	}
	if status, _, _ := e.get("/api/reports/v1/patients/nobody", e.tokA); status != 404 {
		t.Errorf("unknown: %d", status)
	}
}

// TestMonitoringAdherenceReport: per enrollment and month, the days with
// device readings against the 16 required and the minutes logged, in JSON
// and CSV; manual readings and another clinic's enrollments do not count.
func TestMonitoringAdherenceReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.clk.set(time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC))
	enr := &store.Enrollment{PatientID: e.patient.ID, Program: store.ProgramRPM, Status: store.EnrollmentActive, StartDate: "2026-01-15"}
	must(t, e.st.CreateEnrollment(ctx, e.orgA.ID, enr))
	reading := func(org *store.Org, patient int64, src string, at time.Time, v float64) {
		t.Helper()
		_, err := e.st.RecordReading(ctx, org.ID, &store.Observation{PatientID: patient, MetricKey: "bp_systolic", ValueNum: v,
			Unit: "mmHg", Source: src, MeasuredAt: at})
		must(t, err)
	}
	day := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }
	// January: five days of device data (two readings on the 16th), one before the enrollment.
	reading(e.orgA, e.patient.ID, store.SourceMonitoringDevice, day(1, 10, 8), 120)
	for d := 16; d <= 20; d++ {
		reading(e.orgA, e.patient.ID, store.SourceMonitoringDevice, day(1, d, 8), 120)
	}
	reading(e.orgA, e.patient.ID, store.SourceMonitoringDevice, day(1, 16, 20), 125)
	// February: sixteen days of device data and a manual reading on another day.
	for d := 1; d <= 16; d++ {
		reading(e.orgA, e.patient.ID, store.SourceMonitoringDevice, day(2, d, 7), 130)
	}
	reading(e.orgA, e.patient.ID, store.SourceMonitoringManual, day(2, 20, 7), 131)
	logTime := func(at time.Time, minutes int, interactive bool) {
		t.Helper()
		must(t, e.st.LogTime(ctx, e.orgA.ID, enr.UUID, &store.TimeEntry{StartedAt: at, Duration: time.Duration(minutes) * time.Minute, Interactive: interactive}))
	}
	logTime(day(1, 20, 10), 10, false)
	logTime(day(2, 3, 10), 15, false)
	logTime(day(2, 10, 10), 10, true)
	// Another clinic's enrollment with readings: never in org A's report.
	other := &store.Patient{MRN: "B1", Names: []store.HumanName{{FirstName: "Bo", LastName: "B"}}, Active: true}
	must(t, e.st.CreatePatient(ctx, e.orgB.ID, other))
	must(t, e.st.CreateEnrollment(ctx, e.orgB.ID, &store.Enrollment{PatientID: other.ID, Program: store.ProgramRPM,
		Status: store.EnrollmentActive, StartDate: "2026-01-01"}))
	reading(e.orgB, other.ID, store.SourceMonitoringDevice, day(2, 1, 7), 140)

	status, body, _ := e.get("/api/reports/v1/monitoring-adherence?from=2026-01&to=2026-03", e.tokA)
	var rep struct {
		Report, From, To string
		Columns          []string
		Rows             []map[string]any
	}
	must(t, json.Unmarshal(body, &rep))
	if status != 200 || rep.Report != "monitoring-adherence" || rep.From != "2026-01" || rep.To != "2026-03" || len(rep.Rows) != 3 {
		t.Fatalf("%d %s", status, body)
	}
	want := []map[string]any{
		{"month": "2026-01", "enrolledDays": 17.0, "readingDays": 5.0, "requiredDays": 16.0, "missingDays": 11.0, "adherent": false, "minutes": 10.0, "interactive": false},
		{"month": "2026-02", "enrolledDays": 28.0, "readingDays": 16.0, "requiredDays": 16.0, "missingDays": 0.0, "adherent": true, "minutes": 25.0, "interactive": true},
		{"month": "2026-03", "enrolledDays": 31.0, "readingDays": 0.0, "requiredDays": 16.0, "missingDays": 16.0, "adherent": false, "minutes": 0.0, "interactive": false},
	}
	for i, w := range want {
		w["enrollment"], w["patient"], w["mrn"], w["program"], w["status"] = enr.UUID, e.patient.UUID, "M1", "RPM", "ACTIVE"
		for k, v := range w {
			if rep.Rows[i][k] != v {
				t.Errorf("%s %s = %v, want %v", w["month"], k, rep.Rows[i][k], v)
			}
		}
	}

	// CSV: the same rows; a date picks its month.
	status, body, h := e.get("/api/reports/v1/monitoring-adherence?from=2026-02-01&to=2026-02-28&format=csv", e.tokA)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv %d %s", status, body)
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	must(t, err)
	if len(recs) != 2 || strings.Join(recs[0], ",") != "month,enrollment,patient,mrn,program,status,enrolledDays,readingDays,requiredDays,missingDays,adherent,minutes,interactive" ||
		strings.Join(recs[1], ",") != "2026-02,"+enr.UUID+","+e.patient.UUID+",M1,RPM,ACTIVE,28,16,16,0,true,25,true" {
		t.Errorf("csv %q", recs)
	}
	// A programme filter, and the other clinic's view.
	status, body, _ = e.get("/api/reports/v1/monitoring-adherence?from=2026-02&to=2026-02&program=CCM", e.tokA)
	must(t, json.Unmarshal(body, &rep))
	if status != 200 || len(rep.Rows) != 0 {
		t.Errorf("CCM only: %s", body)
	}
	status, body, _ = e.get("/api/reports/v1/monitoring-adherence?from=2026-02&to=2026-02", e.tokB)
	must(t, json.Unmarshal(body, &rep))
	if status != 200 || len(rep.Rows) != 1 || rep.Rows[0]["mrn"] != "B1" || rep.Rows[0]["readingDays"] != 1.0 {
		t.Errorf("org B: %s", body)
	}
	for _, q := range []string{"", "?from=2026-01", "?from=2026-13&to=2026-13", "?from=2026-03&to=2026-01", "?from=2025-01&to=2026-01",
		"?from=2026-01&to=2026-01&program=XYZ", "?from=2026-01&to=2026-01&format=xml"} {
		if status, body, _ := e.get("/api/reports/v1/monitoring-adherence"+q, e.tokA); status != 400 || !strings.Contains(string(body), `"code":"invalid"`) {
			t.Errorf("%s: %d %s", q, status, body)
		}
	}
	if status, _, _ := e.get("/api/reports/v1/monitoring-adherence?from=2026-01&to=2026-01", e.fhirOnly); status != 403 {
		t.Errorf("fhir-only token: %d", status)
	}
}
