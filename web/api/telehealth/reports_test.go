package telehealth

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/reports"
	"github.com/clinicbox/clinicbox/store"
)

func TestCSVDataDump(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createPatient("A", "ext-1")
	said := e.createAppointment("A", "ext-1", `{"waitingRoom": "my waiting room", "date": 1505053800, "reasons": ["=cmd|' /C calc'!A0"]}`)
	e.createAppointment("A", "ext-1", `{"waitingRoom": "my waiting room", "date": 1505226600}`) // 2017-09-12

	status, hdr, b := e.do("GET", "/qapi/v1/reports/csv-data-dump?from=2017-09-10&to=2017-09-11", e.keyA, "", nil)
	if status != 200 || hdr.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("dump: %d %q %s", status, hdr.Get("Content-Type"), b)
	}
	if !strings.Contains(hdr.Get("Content-Disposition"), `filename="csv-data-dump-2017-09-10-2017-09-11.csv"`) {
		t.Errorf("Content-Disposition %q", hdr.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d lines, want header + 1: %q", len(recs), b)
	}
	if strings.Join(recs[0], ",") != strings.Join(store.ReportColumns, ",") {
		t.Errorf("header %v", recs[0])
	}
	row := map[string]string{}
	for i, c := range recs[0] {
		row[c] = recs[1][i]
	}
	want := map[string]string{"appointmentId": strconv.FormatInt(said, 10), "date": "2017-09-10T14:30:00Z", "duration": "900",
		"status": "scheduled", "waitingRoom": "my waiting room", "patientExternalId": "ext-1", "firstName": "Ann",
		"lastName": "Lee", "birthDate": "1990-01-02", "gender": "female", "reasons": "'=cmd|' /C calc'!A0",
		"createdAt": "2017-09-01T09:00:00Z", "completedAt": ""}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %q, want %q", k, row[k], v)
		}
	}
	// The other organisation's dump has only the header.
	_, _, b = e.do("GET", "/qapi/v1/reports/csv-data-dump?from=2017-09-10&to=2017-09-12", e.keyB, "", nil)
	if n := strings.Count(string(b), "\n"); n != 1 {
		t.Errorf("other organisation's dump has %d lines", n)
	}
	e.run([]scenario{
		{name: "missing from", method: "GET", path: "/qapi/v1/reports/csv-data-dump?to=2020-02-11", status: 400,
			msg: "Bad parameters [from: This value should not be blank.]"},
		{name: "missing both", method: "GET", path: "/qapi/v1/reports/csv-data-dump", status: 400,
			msg: "Bad parameters [from: This value should not be blank. to: This value should not be blank.]"},
		{name: "bad date", method: "GET", path: "/qapi/v1/reports/csv-data-dump?from=10.02.2020&to=2020-02-11", status: 400,
			msg: "from: This value is not a valid date (YYYY-MM-DD)."},
		{name: "to before from", method: "GET", path: "/qapi/v1/reports/csv-data-dump?from=2020-02-11&to=2020-02-10", status: 400,
			msg: "to: This value should be on or after from."},
		{name: "range too long", method: "GET", path: "/qapi/v1/reports/csv-data-dump?from=2020-01-01&to=2021-06-01", status: 400,
			msg: "at most 366 days"},
		{name: "no key", method: "GET", path: "/qapi/v1/reports/csv-data-dump?from=2020-02-10&to=2020-02-11", key: "none", status: 401},
	})
	_, _, b = e.do("GET", "/qapi/v1/reports/csv-data-dump?from=2017-09-12&to=2017-09-12", e.keyA, "", nil)
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Errorf("one-day dump has %d lines, want 2", n)
	}
}

func TestEncounterReport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	e.createPatient("A", "ext-1")
	e.createAppointment("A", "ext-1", `{"waitingRoom": "my waiting room", "date": 1505053800}`)
	preset := &store.ReportPreset{Name: "visits", Columns: []string{"appointmentId", "date", "firstName", "lastName", "mrn"}}
	if err := e.st.CreateReportPreset(ctx, e.orgA.ID, preset); err != nil {
		t.Fatal(err)
	}
	e.vars["preset"] = preset.UUID
	jobs := reports.NewJobs(e.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.h.reports = jobs
	const pw = "IK5adv2N5V-gr£9v6"
	body := `{"from": "2017-09-10T00:00:00+00:00", "to": "2017-09-11T00:00:00+00:00", "presetId": "{{preset}}", "password": "` + pw + `"}`
	e.run([]scenario{
		{name: "order (worker not running yet)", method: "POST", path: "/qapi/v1/encounter-report/create", body: body, status: 201,
			want: map[string]any{"id": "<uuid>", "status": "pending"}, capture: map[string]string{"report": "id"}},
		{name: "status pending", method: "GET", path: "/qapi/v1/encounter-report/status/{{report}}", status: 200,
			want: map[string]any{"id": "{{report}}", "status": "pending"}},
		{name: "download pending", method: "GET", path: "/qapi/v1/encounter-report/download/{{report}}", status: 409,
			msg: "Report is not ready yet (status: pending)"},
		{name: "status from other organisation", method: "GET", path: "/qapi/v1/encounter-report/status/{{report}}", key: "B", status: 404, msg: "Report not found"},
		{name: "status unknown", method: "GET", path: "/qapi/v1/encounter-report/status/bd43a830-6c0b-4120-b5b8-78a117f8ee02", status: 404, msg: "Report not found"},
		{name: "spec example preset unknown", method: "POST", path: "/qapi/v1/encounter-report/create",
			body:   `{"from": "2024-08-15T15:52:01+00:00", "to": "2024-08-16T15:52:01+00:00", "presetId": "a2c6e3fc-c2f7-4a24-a0d6-eb2343a15469", "password": "IK5adv2N5V-gr£9v6"}`,
			status: 400, msg: "Bad parameters [presetId: Preset not found.]"},
		{name: "missing everything", method: "POST", path: "/qapi/v1/encounter-report/create", body: `{}`, status: 400,
			msg: "Bad parameters [from: This value should not be blank. password: This value should not be blank. presetId: This value should not be blank. to: This value should not be blank.]"},
		{name: "not ATOM", method: "POST", path: "/qapi/v1/encounter-report/create",
			body:   `{"from": "2024-08-15", "to": "2024-08-16T15:52:01+00:00", "presetId": "{{preset}}", "password": "long enough"}`,
			status: 400, msg: "from: This value is not a valid datetime (ATOM format"},
		{name: "from after to", method: "POST", path: "/qapi/v1/encounter-report/create",
			body:   `{"from": "2024-08-16T15:52:01+00:00", "to": "2024-08-15T15:52:01+00:00", "presetId": "{{preset}}", "password": "long enough"}`,
			status: 400, msg: "to: This value should be after from."},
		{name: "preset not a uuid", method: "POST", path: "/qapi/v1/encounter-report/create",
			body:   `{"from": "2024-08-15T15:52:01+00:00", "to": "2024-08-16T15:52:01+00:00", "presetId": "123", "password": "long enough"}`,
			status: 400, msg: "presetId: This is not a valid UUID."},
		{name: "short password", method: "POST", path: "/qapi/v1/encounter-report/create",
			body:   `{"from": "2024-08-15T15:52:01+00:00", "to": "2024-08-16T15:52:01+00:00", "presetId": "{{preset}}", "password": "short"}`,
			status: 400, msg: "password: This value is too short."},
		{name: "other organisation's preset", method: "POST", path: "/qapi/v1/encounter-report/create", key: "B", body: body,
			status: 400, msg: "presetId: Preset not found."},
	})

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { jobs.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, b := e.do("GET", "/qapi/v1/encounter-report/status/"+e.vars["report"], e.keyA, "", nil)
		if strings.Contains(string(b), `"completed"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("report not completed: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	status, hdr, zip := e.do("GET", "/qapi/v1/encounter-report/download/"+e.vars["report"], e.keyA, "", nil)
	if status != 200 || hdr.Get("Content-Type") != "application/octet-stream" || !bytes.HasPrefix(zip, []byte("PK\x03\x04")) {
		t.Fatalf("download: %d %q %.20q", status, hdr.Get("Content-Type"), zip)
	}
	if bytes.Contains(zip, []byte("Ann")) || bytes.Contains(zip, []byte("appointmentId")) {
		t.Error("the zip shows plain CSV")
	}
	// Only the encrypted zip is stored; the password is nowhere in the database.
	e.st.Close()
	raw, err := os.ReadFile(e.st.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(pw)) || bytes.Contains(raw, []byte("appointmentId,date,firstName")) {
		t.Error("the database holds the password or the plain CSV")
	}
	sevenZip, err := exec.LookPath("7z")
	if err != nil {
		t.Log("7z not installed: the archive is checked by the reports package's own reader only")
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "r.zip")
	os.WriteFile(path, zip, 0o600)
	out, err := exec.Command(sevenZip, "x", "-p"+pw, "-o"+filepath.Join(dir, "out"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("7z x: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "out", "*.csv"))
	if len(files) != 1 {
		t.Fatalf("extracted %v", files)
	}
	csvData, _ := os.ReadFile(files[0])
	if want := "appointmentId,date,firstName,lastName,mrn\n1,2017-09-10T14:30:00Z,Ann,Lee,\n"; string(csvData) != want {
		t.Errorf("report CSV %q, want %q", csvData, want)
	}
}
