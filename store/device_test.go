package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

func TestDeviceValidation(t *testing.T) {
	cases := []struct {
		name  string
		d     store.Device
		field string // "" = valid
	}{
		{"serial defaults", store.Device{Name: "Cobas", Protocol: "astm", PortPath: "/dev/ttyUSB0"}, ""},
		{"usb serial", store.Device{Name: "Cobas", Protocol: "ASTM", USBSerial: "FT12345"}, ""},
		{"tcp hl7", store.Device{Name: "Glucose", Protocol: "hl7", TCPAddr: "127.0.0.1:2575"}, ""},
		{"no name", store.Device{Protocol: "astm", PortPath: "/dev/ttyS0"}, "name"},
		{"bad protocol", store.Device{Name: "X", Protocol: "dicom", PortPath: "/dev/ttyS0"}, "protocol"},
		{"no port", store.Device{Name: "X", Protocol: "astm"}, "port"},
		{"two ports", store.Device{Name: "X", Protocol: "astm", PortPath: "/dev/ttyS0", USBSerial: "A"}, "port"},
		{"tcp astm", store.Device{Name: "X", Protocol: "astm", TCPAddr: "127.0.0.1:2575"}, "tcpAddr"},
		{"tcp bad", store.Device{Name: "X", Protocol: "hl7", TCPAddr: "nowhere"}, "tcpAddr"},
		{"bad baud", store.Device{Name: "X", Protocol: "line", PortPath: "/dev/ttyS0", Baud: -5}, "baud"},
		{"bad bits", store.Device{Name: "X", Protocol: "line", PortPath: "/dev/ttyS0", DataBits: 9}, "dataBits"},
		{"bad parity", store.Device{Name: "X", Protocol: "line", PortPath: "/dev/ttyS0", Parity: "weird"}, "parity"},
		{"bad stop", store.Device{Name: "X", Protocol: "line", PortPath: "/dev/ttyS0", StopBits: "3"}, "stopBits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.d.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.d.Baud == 0 || c.d.DataBits == 0 || c.d.Parity == "" || c.d.StopBits == "" {
					t.Fatalf("defaults not filled: %+v", c.d)
				}
				return
			}
			fieldErr(t, err, c.field)
		})
	}
}

func TestDeviceLifecycle(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	a := newFixture(t, st, "a")
	b := newFixture(t, st, "b")
	d := &store.Device{Name: "Cobas", Protocol: "astm", PortPath: "/dev/ttyUSB0", Baud: 19200, Station: "Lab"}
	if err := st.CreateDevice(ctx, a.org.ID, d); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateDevice(ctx, a.org.ID, &store.Device{Name: "Cobas", Protocol: "hl7", PortPath: "/dev/ttyUSB1"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: want conflict, got %v", err)
	}
	// Another organisation may use the name and cannot see the device.
	if err := st.CreateDevice(ctx, b.org.ID, &store.Device{Name: "Cobas", Protocol: "astm", PortPath: "/dev/ttyUSB0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Device(ctx, b.org.ID, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other org: want not found, got %v", err)
	}
	if err := st.RemoveDevice(ctx, b.org.ID, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other org remove: want not found, got %v", err)
	}
	got, err := st.DeviceByName(ctx, a.org.ID, "Cobas")
	if err != nil {
		t.Fatal(err)
	}
	if got.Baud != 19200 || got.DataBits != 8 || got.Parity != "none" || got.StopBits != "1" || !got.Active || got.Framing() != "19200 8N1" {
		t.Fatalf("stored device: %+v", got)
	}
	up, err := st.UpdateDevice(ctx, a.org.ID, d.ID, func(d *store.Device) error { d.Station = "Lab 2"; return nil })
	if err != nil || up.Station != "Lab 2" {
		t.Fatalf("update: %v %+v", err, up)
	}
	stations, _ := st.Stations(ctx, a.org.ID)
	if len(stations) != 1 || stations[0] != "Lab 2" {
		t.Fatalf("stations: %v", stations)
	}
	active, _ := st.ActiveDevices(ctx)
	if len(active) != 2 {
		t.Fatalf("active devices: %d", len(active))
	}
	if err := st.RemoveDevice(ctx, a.org.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	list, _ := st.Devices(ctx, a.org.ID, store.DeviceFilter{})
	if len(list) != 0 {
		t.Fatalf("removed device still listed: %+v", list)
	}
	if _, err := st.Device(ctx, a.org.ID, d.ID); err != nil {
		t.Fatalf("a removed device is still found by id for its messages: %v", err)
	}
	// The name is free again.
	if err := st.CreateDevice(ctx, a.org.ID, &store.Device{Name: "Cobas", Protocol: "astm", PortPath: "/dev/ttyUSB0"}); err != nil {
		t.Fatal(err)
	}
	evs := eventTypes(t, st, a.org.ID)
	for _, want := range []string{store.EventDeviceCreated, store.EventDeviceUpdated, store.EventDeviceRemoved} {
		if !contains(evs, want) {
			t.Errorf("missing event %s in %v", want, evs)
		}
	}
}

func TestIngestionAndReingest(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	f := newFixture(t, st, "a")
	other := newFixture(t, st, "b")
	d := &store.Device{Name: "Cobas", Protocol: "astm", PortPath: "/dev/ttyUSB0"}
	if err := st.CreateDevice(ctx, f.org.ID, d); err != nil {
		t.Fatal(err)
	}
	raw := []byte("\x05\x021H|\\^&\r\x03AB\r\n\x04")
	if err := st.SaveDeviceMessage(ctx, other.org.ID, &store.DeviceMessage{DeviceID: d.ID, Protocol: "astm", Raw: raw}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("message for another org's device: want not found, got %v", err)
	}
	m := &store.DeviceMessage{DeviceID: d.ID, Protocol: "astm", Raw: raw}
	if err := st.SaveDeviceMessage(ctx, f.org.ID, m); err != nil {
		t.Fatal(err)
	}
	pending, _ := st.UningestedMessages(ctx, 10)
	if len(pending) != 1 || string(pending[0].Raw) != string(raw) {
		t.Fatalf("uningested: %+v", pending)
	}
	// First run: one result on the patient, one unmatched, one QC.
	err := st.RecordIngestion(ctx, f.org.ID, m.ID, &store.Ingestion{Kind: "results", Status: store.MessageIngested,
		PatientRef: "sample S1", Observations: []store.Observation{
			{Source: "serial", Code: "GLU", Value: "5,8", Unit: "mmol/L", PatientID: f.patient.ID},
			{Source: "serial", Code: "CRP", Value: ">200"},
			{Source: "serial", Code: "QC1", Value: "1", QC: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.DeviceMessage(ctx, f.org.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.MessageIngested || got.Observations != 3 || got.IngestRuns != 1 || string(got.Raw) != string(raw) || got.DeviceName != "Cobas" {
		t.Fatalf("message after ingestion: %+v", got)
	}
	if _, err := st.DeviceMessage(ctx, other.org.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other org reads message: %v", err)
	}
	unmatched, _ := st.Observations(ctx, f.org.ID, store.ObservationFilter{Unmatched: true})
	var crp int64
	for _, o := range unmatched {
		if o.Code == "CRP" {
			crp = o.ID
		}
	}
	if crp == 0 || unmatched[0].MessageID != m.ID || unmatched[0].DeviceID != d.ID {
		t.Fatalf("unmatched: %+v", unmatched)
	}
	// A clinician assigns the unmatched result; QC cannot be assigned.
	var qcID int64
	all, _ := st.Observations(ctx, f.org.ID, store.ObservationFilter{})
	for _, o := range all {
		if o.QC {
			qcID = o.ID
		}
	}
	if _, err := st.AssignObservations(ctx, f.org.ID, f.patient.ID, []int64{qcID}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("assigning QC: want conflict, got %v", err)
	}
	if _, err := st.AssignObservations(ctx, other.org.ID, other.patient.ID, []int64{crp}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("assigning another org's observation: want conflict, got %v", err)
	}
	if n, err := st.AssignObservations(ctx, f.org.ID, f.patient.ID, []int64{crp}); err != nil || n != 1 {
		t.Fatalf("assign: %d %v", n, err)
	}
	// Re-ingestion replaces the observations and keeps the assignment.
	err = st.RecordIngestion(ctx, f.org.ID, m.ID, &store.Ingestion{Kind: "results", Status: store.MessageIngested,
		Observations: []store.Observation{
			{Source: "serial", Code: "GLU", Value: "5,8", Unit: "mmol/L", PatientID: f.patient.ID},
			{Source: "serial", Code: "CRP", Value: ">200"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	all, _ = st.Observations(ctx, f.org.ID, store.ObservationFilter{})
	if len(all) != 2 {
		t.Fatalf("after re-ingestion want 2 observations, got %d", len(all))
	}
	for _, o := range all {
		if o.PatientID != f.patient.ID {
			t.Fatalf("re-ingested %s lost its patient: %+v", o.Code, o)
		}
	}
	got, _ = st.DeviceMessage(ctx, f.org.ID, m.ID)
	if got.IngestRuns != 2 || got.Observations != 2 {
		t.Fatalf("message after re-ingestion: %+v", got)
	}
	if err := st.RecordIngestion(ctx, f.org.ID, m.ID, &store.Ingestion{Status: "bogus"}); err == nil {
		t.Fatal("bad status accepted")
	}
	// A failed ingestion of a bad observation changes nothing.
	err = st.RecordIngestion(ctx, f.org.ID, m.ID, &store.Ingestion{Status: store.MessageIngested,
		Observations: []store.Observation{{Source: "serial", Code: ""}}})
	fieldErr(t, err, "code")
	all, _ = st.Observations(ctx, f.org.ID, store.ObservationFilter{})
	if len(all) != 2 {
		t.Fatalf("a failed ingestion changed observations: %d", len(all))
	}
	evs := eventTypes(t, st, f.org.ID)
	for _, want := range []string{store.EventObservationCreated, store.EventObservationAssigned, store.EventDeviceMessage} {
		if !contains(evs, want) {
			t.Errorf("missing event %s", want)
		}
	}
	list, _ := st.DeviceMessages(ctx, f.org.ID, store.DeviceMessageFilter{DeviceID: d.ID})
	if len(list) != 1 || list[0].Raw != nil {
		t.Fatalf("list without raw: %+v", list)
	}
}

func TestQCRuns(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	f := newFixture(t, st, "a")
	d := &store.Device{Name: "Cobas", Protocol: "astm", PortPath: "/dev/ttyUSB0"}
	st.CreateDevice(ctx, f.org.ID, d)
	for run := range 2 {
		m := &store.DeviceMessage{DeviceID: d.ID, Protocol: "astm", Raw: []byte{byte(run)}}
		if err := st.SaveDeviceMessage(ctx, f.org.ID, m); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordIngestion(ctx, f.org.ID, m.ID, &store.Ingestion{Kind: "qc", Status: store.MessageIngested,
			Observations: []store.Observation{{Source: "serial", Code: "GLU", Value: "5.5", QC: true}, {Source: "serial", Code: "CRP", Value: "9.8", QC: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := st.QCRuns(ctx, f.org.ID, d.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || len(runs[0].Results) != 2 || runs[0].MessageID == runs[1].MessageID {
		t.Fatalf("qc runs: %+v", runs)
	}
	// QC never shows as a patient's or an unmatched result.
	unmatched, _ := st.Observations(ctx, f.org.ID, store.ObservationFilter{Unmatched: true, QC: new(bool)})
	if len(unmatched) != 0 {
		t.Fatalf("qc in the unmatched queue: %+v", unmatched)
	}
}

func TestStationSelection(t *testing.T) {
	st, clock := newStore(t)
	ctx := store.WithActor(context.Background(), store.Actor{Name: "doc"})
	f := newFixture(t, st, "a")
	other := newFixture(t, st, "b")
	if _, err := st.StationSelection(ctx, f.org.ID, "Lab"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no selection: %v", err)
	}
	if err := st.SelectStationPatient(ctx, f.org.ID, "Lab", other.patient.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("selecting another org's patient: %v", err)
	}
	if err := st.SelectStationPatient(ctx, f.org.ID, "Lab", f.patient.ID); err != nil {
		t.Fatal(err)
	}
	sel, err := st.StationSelection(ctx, f.org.ID, "Lab")
	if err != nil || sel.PatientID != f.patient.ID {
		t.Fatalf("selection: %+v %v", sel, err)
	}
	if _, err := st.StationSelection(ctx, other.org.ID, "Lab"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other org sees the selection: %v", err)
	}
	clock.Advance(store.StationSelectionTTL + time.Second)
	if _, err := st.StationSelection(ctx, f.org.ID, "Lab"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired selection still used: %v", err)
	}
	st.SelectStationPatient(ctx, f.org.ID, "Lab", f.patient.ID)
	if err := st.SelectStationPatient(ctx, f.org.ID, "Lab", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StationSelection(ctx, f.org.ID, "Lab"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cleared selection still used: %v", err)
	}
}

func TestSampleOrders(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	f := newFixture(t, st, "a")
	other := newFixture(t, st, "b")
	o := &store.SampleOrder{SampleID: "S1", PatientID: f.patient.ID, Tests: []string{"GLU", "CRP"}, Station: "Lab"}
	if err := st.CreateSampleOrder(ctx, f.org.ID, o); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSampleOrder(ctx, f.org.ID, &store.SampleOrder{SampleID: "S1", PatientID: f.patient.ID}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate sample: %v", err)
	}
	fieldErr(t, st.CreateSampleOrder(ctx, f.org.ID, &store.SampleOrder{SampleID: "S|2", PatientID: f.patient.ID}), "sampleId")
	fieldErr(t, st.CreateSampleOrder(ctx, f.org.ID, &store.SampleOrder{SampleID: "S3", PatientID: other.patient.ID}), "patient")
	got, err := st.SampleOrderBySample(ctx, f.org.ID, "S1")
	if err != nil || got.PatientID != f.patient.ID || len(got.Tests) != 2 || got.Priority != "R" {
		t.Fatalf("order: %+v %v", got, err)
	}
	if _, err := st.SampleOrderBySample(ctx, other.org.ID, "S1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other org finds the sample: %v", err)
	}
}

func TestInstrumentClients(t *testing.T) {
	st, clock := newStore(t)
	ctx := context.Background()
	f := newFixture(t, st, "a")
	c, secret, err := st.CreateInstrumentClient(ctx, f.org.ID, "ECG vendor")
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) < 40 || c.ClientID == "" {
		t.Fatalf("client %+v secret %q", c, secret)
	}
	if _, _, _, err := st.IssueInstrumentToken(ctx, c.ClientID, secret+"x"); !errors.Is(err, store.ErrBadClientCredentials) {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, _, _, err := st.IssueInstrumentToken(ctx, "ic_unknown", secret); !errors.Is(err, store.ErrBadClientCredentials) {
		t.Fatalf("unknown client: %v", err)
	}
	token, got, exp, err := st.IssueInstrumentToken(ctx, c.ClientID, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.OrgID != f.org.ID || !exp.Equal(clock.Now().Add(10*time.Minute)) {
		t.Fatalf("token client %+v expires %v", got, exp)
	}
	if by, err := st.InstrumentClientByToken(ctx, token); err != nil || by.ID != c.ID {
		t.Fatalf("token lookup: %+v %v", by, err)
	}
	clock.Advance(10*time.Minute + time.Second)
	if _, err := st.InstrumentClientByToken(ctx, token); !errors.Is(err, store.ErrBadClientCredentials) {
		t.Fatalf("expired token: %v", err)
	}
	token, _, _, _ = st.IssueInstrumentToken(ctx, c.ClientID, secret)
	if err := st.RevokeInstrumentClient(ctx, f.org.ID+1, c.ClientID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke from another org: %v", err)
	}
	if err := st.RevokeInstrumentClient(ctx, f.org.ID, c.ClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InstrumentClientByToken(ctx, token); !errors.Is(err, store.ErrBadClientCredentials) {
		t.Fatalf("token of a revoked client: %v", err)
	}
	if _, _, _, err := st.IssueInstrumentToken(ctx, c.ClientID, secret); !errors.Is(err, store.ErrBadClientCredentials) {
		t.Fatalf("revoked client signs in: %v", err)
	}
	list, _ := st.InstrumentClients(ctx, f.org.ID)
	if len(list) != 1 || !list[0].Revoked() || list[0].LastUsedAt.IsZero() {
		t.Fatalf("clients: %+v", list)
	}
}

func TestPatientFiles(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	f := newFixture(t, st, "a")
	other := newFixture(t, st, "b")
	pdf := []byte("%PDF-1.4 fake ecg")
	d := &store.PatientFile{PatientID: f.patient.ID, Title: "ECG", Filename: "ecg.pdf", Data: pdf, Source: "instrument-api", SourceRef: "ECG vendor"}
	if err := st.AddPatientFile(ctx, f.org.ID, d); err != nil {
		t.Fatal(err)
	}
	if err := st.AddPatientFile(ctx, f.org.ID, &store.PatientFile{PatientID: other.patient.ID, Filename: "x.pdf", Data: pdf, Source: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("file for another org's patient: %v", err)
	}
	fieldErr(t, st.AddPatientFile(ctx, f.org.ID, &store.PatientFile{PatientID: f.patient.ID, Filename: "../x.pdf", Data: pdf, Source: "x"}), "filename")
	got, err := st.PatientFile(ctx, f.org.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != string(pdf) || got.ContentType != "application/pdf" || got.Size != int64(len(pdf)) || got.SHA256 == "" {
		t.Fatalf("file: %+v", got)
	}
	if _, err := st.PatientFile(ctx, other.org.ID, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other org reads file: %v", err)
	}
	list, _ := st.PatientFiles(ctx, f.org.ID, f.patient.ID)
	if len(list) != 1 || list[0].Data != nil || list[0].Filename != "ecg.pdf" {
		t.Fatalf("files: %+v", list)
	}
	if !contains(eventTypes(t, st, f.org.ID), store.EventPatientFileCreated) {
		t.Fatal("no file event")
	}
}

func TestPatientIDsByIdentifier(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	f := newFixture(t, st, "a")
	other := newFixture(t, st, "b")
	twin := &store.Patient{MRN: "SHARED", Active: true}
	twin2 := &store.Patient{HSID: "SHARED", Active: true}
	st.CreatePatient(ctx, f.org.ID, twin)
	st.CreatePatient(ctx, f.org.ID, twin2)
	cases := []struct {
		value string
		keys  []store.PatientKey
		want  int
	}{
		{"MRN-1", nil, 1},
		{"ext-1", nil, 1},
		{"010203-1234", nil, 1},
		{f.patient.UUID, nil, 1},
		{"MRN-1", []store.PatientKey{store.ByNationalID}, 0},
		{"SHARED", nil, 2},
		{"", nil, 0},
		{other.patient.UUID, nil, 0},
	}
	for _, c := range cases {
		ids, err := st.PatientIDsByIdentifier(ctx, f.org.ID, c.value, c.keys...)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != c.want {
			t.Errorf("%q %v: got %v, want %d ids", c.value, c.keys, ids, c.want)
		}
	}
}
