package reports

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

func TestEncounterJobs(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	org := storetest.Org(t, st, "A", "a")
	room := &store.WaitingRoom{Name: "r", SlotDuration: 900, Timezone: "UTC", Active: true}
	if err := st.CreateWaitingRoom(ctx, org.ID, room); err != nil {
		t.Fatal(err)
	}
	p := &store.Patient{MRN: "M1", Names: []store.HumanName{{FirstName: "Zoë", LastName: "=Lee"}}, Active: true}
	if err := st.CreatePatient(ctx, org.ID, p); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 8, 15, 10, 0, 0, 0, time.UTC)
	if err := st.CreateAppointment(ctx, org.ID, &store.Appointment{PatientID: p.ID, WaitingRoomID: room.ID, Start: start}); err != nil {
		t.Fatal(err)
	}
	preset := &store.ReportPreset{Name: "p", Columns: []string{"mrn", "firstName", "lastName", "date"}}
	if err := st.CreateReportPreset(ctx, org.ID, preset); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	// An order left pending by a stopped process fails on the next start.
	orphan := &store.EncounterReport{From: start.Add(-time.Hour), To: start.Add(time.Hour), PresetID: preset.ID}
	if err := st.CreateEncounterReport(ctx, org.ID, orphan); err != nil {
		t.Fatal(err)
	}
	jobs := NewJobs(st, log)
	rep := &store.EncounterReport{From: start.Add(-time.Hour), To: start.Add(time.Hour), PresetID: preset.ID}
	if err := jobs.Submit(ctx, org.ID, rep, "pässword-1"); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { jobs.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := st.EncounterReport(ctx, org.ID, rep.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == store.ReportCompleted {
			if r.Rows != 1 {
				t.Errorf("rows = %d", r.Rows)
			}
			break
		}
		if r.Status == store.ReportFailed || time.Now().After(deadline) {
			t.Fatalf("report %s: %s", r.Status, r.Error)
		}
		time.Sleep(10 * time.Millisecond)
	}
	o, _ := st.EncounterReport(ctx, org.ID, orphan.UUID)
	if o.Status != store.ReportFailed || !strings.Contains(o.Error, "restart") {
		t.Errorf("orphaned order: %s %q", o.Status, o.Error)
	}
	zip, err := st.EncounterReportZip(ctx, org.ID, rep.UUID)
	if err != nil {
		t.Fatal(err)
	}
	files, err := readAESZip(t, zip, "pässword-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	for name, content := range files {
		if !strings.HasSuffix(name, ".csv") {
			t.Errorf("entry %q", name)
		}
		if want := "mrn,firstName,lastName,date\nM1,Zoë,'=Lee,2024-08-15T10:00:00Z\n"; content != want {
			t.Errorf("csv %q, want %q", content, want)
		}
	}
	if _, err := st.EncounterReportZip(ctx, org.ID, orphan.UUID); err == nil {
		t.Error("zip of a failed report")
	}
	if err := jobs.Submit(ctx, org.ID, &store.EncounterReport{From: start, To: start.Add(time.Hour), PresetID: preset.ID}, ""); err == nil {
		t.Error("empty password accepted")
	}
}
