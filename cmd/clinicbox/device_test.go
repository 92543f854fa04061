package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

func TestDeviceClientResultsCLI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := map[string]string{"CLINICBOX_DATA": data}
	steps := []struct {
		name    string
		args    []string
		wantErr string
		wantOut []string
	}{
		{"org", []string{"org", "add", "--name", "North", "--slug", "north"}, "", nil},
		{"device add without port", []string{"device", "add", "--name", "Cobas", "--protocol", "astm"}, "port", nil},
		{"device add bad protocol", []string{"device", "add", "--name", "Cobas", "--protocol", "dicom", "--port", "/dev/ttyUSB0"}, "protocol", nil},
		{"device add", []string{"device", "add", "--name", "Cobas", "--protocol", "astm", "--port", "/dev/ttyUSB0", "--baud", "19200", "--station", "Lab"},
			"", []string{`added device "Cobas"`, "19200 8N1"}},
		{"device add duplicate", []string{"device", "add", "--name", "Cobas", "--protocol", "hl7", "--port", "/dev/ttyUSB1"}, "already exists", nil},
		{"device add hl7 tcp", []string{"device", "add", "--name", "Glucose", "--protocol", "hl7", "--tcp", "127.0.0.1:2575"}, "", []string{"tcp 127.0.0.1:2575"}},
		{"device list", []string{"device", "list"}, "", []string{"Cobas", "/dev/ttyUSB0", "19200 8N1", "tolerant", "Lab", "Glucose"}},
		{"device add strict", []string{"device", "add", "--name", "Yumizen", "--protocol", "astm", "--port", "/dev/ttyUSB2", "--strict-framing"},
			"", []string{`added device "Yumizen"`}},
		{"device update to tolerant", []string{"device", "update", "--strict-framing=false", "--baud", "115200", "Yumizen"},
			"", []string{`updated device "Yumizen"`, "/dev/ttyUSB2 115200 8N1", "tolerant framing"}},
		{"device update to strict keeps the rest", []string{"device", "update", "--strict-framing", "Yumizen"},
			"", []string{"/dev/ttyUSB2 115200 8N1", "strict framing"}},
		{"device update invalid", []string{"device", "update", "--parity", "sideways", "Yumizen"}, "parity", nil},
		{"device update unknown", []string{"device", "update", "--strict-framing", "Nope"}, "not found", nil},
		{"device log empty", []string{"device", "log", "Cobas"}, "", nil},
		{"device log unknown", []string{"device", "log", "Nope"}, "not found", nil},
		{"client create without name", []string{"client", "create"}, "name: is required", nil},
		{"client create", []string{"client", "create", "--name", "ECG vendor"}, "", []string{"clientID=ic_", "clientSecret="}},
		{"client list", []string{"client", "list"}, "", []string{"ECG vendor", "active"}},
		{"results bad since", []string{"results", "list", "--since", "yesterday", "--json"}, "--since", nil},
		{"results unknown patient", []string{"results", "list", "--patient", "nobody", "--json"}, "no patient", nil},
		{"device remove", []string{"device", "remove", "Glucose"}, "", []string{"removed device"}},
		{"device remove again", []string{"device", "remove", "Glucose"}, "not found", nil},
	}
	for _, s := range steps {
		out, _, err := runCLI(t, env, "", s.args...)
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Fatalf("%s: want error containing %q, got %v", s.name, s.wantErr, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for _, w := range s.wantOut {
			if !strings.Contains(out, w) {
				t.Fatalf("%s: output lacks %q:\n%s", s.name, w, out)
			}
		}
	}

	// A message with one matched result, one unmatched and one QC result.
	ctx := context.Background()
	// Not storetest: the CLI's data directory, closed again before the CLI reads it.
	st, err := store.Open(ctx, filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	o, _ := st.OrgBySlug(ctx, "north")
	p := &store.Patient{MRN: "M1", Active: true, Names: []store.HumanName{{FirstName: "Anna", LastName: "Jensen"}}}
	st.CreatePatient(ctx, o.ID, p)
	d, _ := st.DeviceByName(ctx, o.ID, "Cobas")
	m := &store.DeviceMessage{DeviceID: d.ID, Protocol: "astm", Raw: []byte("\x05\x021H|\\^&\rR|1|^^^GLU|5,8\r\x03XX\r\n\x04")}
	if err := st.SaveDeviceMessage(ctx, o.ID, m); err != nil {
		t.Fatal(err)
	}
	err = st.RecordIngestion(ctx, o.ID, m.ID, &store.Ingestion{Status: store.MessageIngested, Kind: "results", Observations: []store.Observation{
		{Source: "serial", Code: "GLU", Value: "5,8", Unit: "mmol/L", ReferenceRange: "3,9-5,5", Flags: "H", Status: "F", MeasuredAtText: "20250314092155", PatientID: p.ID},
		{Source: "serial", Code: "CRP", Value: ">200"},
		{Source: "serial", Code: "QC-GLU", Value: "5.52", QC: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, _, err := runCLI(t, env, "", "results", "list", "--device", "Cobas", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 JSON lines, got %d:\n%s", len(lines), out)
	}
	byCode := map[string]map[string]any{}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		for _, k := range []string{"device", "patient", "code", "value", "unit", "referenceRange", "flags", "status", "measuredAt", "qc"} {
			if _, ok := v[k]; !ok {
				t.Fatalf("line lacks %s: %s", k, l)
			}
		}
		byCode[v["code"].(string)] = v
	}
	glu := byCode["GLU"]
	if glu["device"] != "Cobas" || glu["patient"] != p.UUID || glu["value"] != "5,8" || glu["flags"] != "H" || glu["qc"] != false || glu["measuredAt"] != "20250314092155" {
		t.Fatalf("GLU line: %v", glu)
	}
	if byCode["CRP"]["patient"] != nil {
		t.Fatalf("unmatched result has a patient: %v", byCode["CRP"])
	}
	if byCode["QC-GLU"]["qc"] != true {
		t.Fatalf("QC line: %v", byCode["QC-GLU"])
	}
	out, _, err = runCLI(t, env, "", "results", "list", "--patient", "M1", "--json")
	if err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("--patient: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, env, "", "device", "log", "Cobas")
	if err != nil || !strings.Contains(out, "ingested results observations=3") || !strings.Contains(out, "<ENQ><STX>1H|\\^&<CR>") {
		t.Fatalf("device log: %v\n%s", err, out)
	}
}
