package fhir

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// seedObservations stores instrument values as the devices send them.
func (e *testEnv) seedObservations() []store.Observation {
	e.t.Helper()
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	obs := []store.Observation{
		{PatientID: e.patient.ID, DeviceID: e.device.ID, Source: "serial", Category: "laboratory", CodeSystem: "NPU", Code: "NPU02187",
			Display: "B-Glucose", Value: "<0,5", Unit: "mmol/L", Flags: "L", Status: "F", MeasuredAt: at(8), MeasuredAtText: "20260301080000"},
		{PatientID: e.patient.ID, DeviceID: e.device.ID, Source: "serial", Category: "laboratory", CodeSystem: "LN", Code: "6690-2",
			Display: "WBC", Value: "7.20", Unit: "10*3/uL", ReferenceRange: "4.0-10.0", Flags: "N", Status: "F", MeasuredAt: at(9)},
		{PatientID: e.patient.ID, DeviceID: e.device.ID, Source: "serial", Category: "laboratory", CodeSystem: "local", Code: "HBA1C",
			Value: "7,41", Unit: "%", Flags: "H", Status: "P", MeasuredAt: at(10)},
		{PatientID: e.patient.ID, Source: "monitoring", Category: "vital-signs", CodeSystem: "LN", Code: "8867-4",
			Display: "Heart rate", Value: "72", Unit: "bpm", Status: "final", MeasuredAt: at(11)},
		{PatientID: e.patient.ID, DeviceID: e.device.ID, Source: "serial", CodeSystem: "local", Code: "CRP",
			Value: ">200", Unit: "mg/L", Flags: ">", Status: "F", MeasuredAt: at(12)},
		{PatientID: e.patient.ID, DeviceID: e.device.ID, Source: "serial", CodeSystem: "local", Code: "GLU", Value: "5.5", Unit: "mmol/L", QC: true, MeasuredAt: at(13)},
	}
	must(e.t, e.st.AddObservations(context.Background(), e.orgA.ID, obs))
	return obs
}

func TestObservationValuesVerbatim(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	obs := e.seedObservations()
	cases := []struct {
		i         int
		quantity  string // valueQuantity.value as JSON text, "" for valueString
		unit      string
		str       string
		interp    string
		status    string
		codeSys   string
		npuCoding bool
	}{
		{0, "", "mmol/L", "<0,5", "L", "final", SystemNPU, false},
		{1, "7.20", "10*3/uL", "", "N", "final", SystemLOINC, false},
		{2, "", "%", "7,41", "H", "preliminary", SystemDeviceCode, false},
		{3, "", "bpm", "72", "", "final", SystemLOINC, false}, // bpm is not UCUM (/min is)
		{4, "", "mg/L", ">200", ">", "final", SystemDeviceCode, false},
	}
	for _, tc := range cases {
		t.Run(obs[tc.i].Code, func(t *testing.T) {
			_, _, raw, _ := e.do("GET", "/fhir/R4/Observation/"+obs[tc.i].UUID, e.readA, nil)
			valid(t, raw)
			var o map[string]json.RawMessage
			must(t, json.Unmarshal(raw, &o))
			var m map[string]any
			must(t, json.Unmarshal(raw, &m))
			if tc.quantity != "" {
				var q map[string]json.RawMessage
				must(t, json.Unmarshal(o["valueQuantity"], &q))
				// The number's characters are the device's: 7.20, not 7.2.
				if string(q["value"]) != tc.quantity || str(m, "valueQuantity.code") != tc.unit ||
					str(m, "valueQuantity.unit") != tc.unit || str(m, "valueQuantity.system") != SystemUCUM {
					t.Errorf("valueQuantity %s", o["valueQuantity"])
				}
				if _, ok := o["valueString"]; ok {
					t.Error("both valueQuantity and valueString")
				}
			} else {
				if str(m, "valueString") != tc.str {
					t.Errorf("valueString %q, want %q", str(m, "valueString"), tc.str)
				}
				if str(m, "extension.0.url") != ExtensionUnit || str(m, "extension.0.valueString") != tc.unit {
					t.Errorf("unit extension %v", m["extension"])
				}
				if _, ok := o["valueQuantity"]; ok {
					t.Error("valueQuantity for a value that is not a plain UCUM number")
				}
			}
			if got := str(m, "interpretation.0.coding.0.code"); got != tc.interp {
				t.Errorf("interpretation %v, want %q", m["interpretation"], tc.interp)
			}
			if m["status"] != tc.status || str(m, "code.coding.0.system") != tc.codeSys || str(m, "code.coding.0.code") != obs[tc.i].Code {
				t.Errorf("status/code %v %v", m["status"], m["code"])
			}
			if str(m, "subject.reference") != "Patient/"+e.patient.UUID {
				t.Errorf("subject %v", m["subject"])
			}
			if obs[tc.i].DeviceID != 0 && str(m, "device.reference") != "Device/"+e.device.UUID {
				t.Errorf("device %v", m["device"])
			}
			if str(m, "effectiveDateTime") != obs[tc.i].MeasuredAt.Format(time.RFC3339) {
				t.Errorf("effective %v", m["effectiveDateTime"])
			}
		})
	}
	// QC results are not patient observations.
	e.get("/fhir/R4/Observation/"+obs[5].UUID, e.readA, 404)
	// Another organisation's token does not see them.
	e.get("/fhir/R4/Observation/"+obs[0].UUID, e.readB, 404)
}

func TestObservationSearch(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	obs := e.seedObservations()
	pt := "Patient/" + e.patient.UUID
	ids := func(b map[string]any) string {
		var out []string
		for _, en := range entries(b) {
			if str(en, "search.mode") != "match" {
				continue
			}
			for i, o := range obs {
				if str(en, "resource.id") == o.UUID {
					out = append(out, fmt.Sprint(i))
				}
			}
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		name  string
		query string
		want  string
	}{
		{"by patient, id order", "patient=" + pt, "0,1,2,3,4"},
		{"subject, newest first", "subject=" + pt + "&_sort=-date", "4,3,2,1,0"},
		{"code with system", "patient=" + pt + "&code=http://loinc.org|6690-2", "1"},
		{"code with NPU system", "code=http://npu-terminology.org|NPU02187", "0"},
		{"code without system", "code=HBA1C,CRP", "2,4"},
		{"code in the wrong system", "code=http://loinc.org|HBA1C", ""},
		{"date ge and lt", "patient=" + pt + "&date=ge2026-03-01T09:00:00Z&date=lt2026-03-01T11:00:00Z", "1,2"},
		{"date day", "date=2026-03-01&_sort=date", "0,1,2,3,4"},
		{"date gt day", "date=gt2026-03-01", ""},
		{"date le hour minute", "date=le2026-03-01T08:00Z", "0"},
		{"date ne", "date=ne2026-03-01T08:00:00Z", "1,2,3,4"},
		{"date eq month", "date=eq2026-03", "0,1,2,3,4"},
		{"date with offset", "date=ge2026-03-01T11:00:00%2B01:00", "2,3,4"},
		{"status final", "status=final", "0,1,3,4"},
		{"status preliminary", "status=preliminary", "2"},
		{"category", "category=vital-signs", "3"},
		{"device", "device=Device/" + e.device.UUID + "&_sort=date", "0,1,2,4"},
		{"_id", "_id=" + obs[1].UUID + "," + obs[3].UUID, "1,3"},
		{"other organisation's patient", "patient=Patient/" + e.other.UUID, ""},
		{"unknown patient", "patient=Patient/nobody", ""},
		{"patient + code + date (the benchmark's query)", "patient=" + pt + "&code=6690-2&date=ge2026-03-01&_sort=-date", "1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := e.get("/fhir/R4/Observation?"+tc.query, e.readA, 200)
			if b["type"] != "searchset" {
				t.Fatalf("bundle %v", b)
			}
			if got := ids(b); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestObservationSearchPagingAndInclude(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.seedObservations()
	b := e.get("/fhir/R4/Observation?patient="+e.patient.UUID+"&_count=2&_sort=date&_include=Observation:patient", e.readA, 200)
	es := entries(b)
	if len(es) != 3 || str(es[2], "search.mode") != "include" || str(es[2], "resource.resourceType") != "Patient" ||
		str(es[2], "resource.id") != e.patient.UUID || str(es[2], "fullUrl") != e.srv.URL+"/fhir/R4/Patient/"+e.patient.UUID {
		t.Fatalf("page 1 entries %v", es)
	}
	if b["total"] != nil {
		t.Errorf("total on a partial page: %v", b["total"])
	}
	var next string
	for _, l := range path(b, "link").([]any) {
		if str(l, "relation") == "next" {
			next = str(l, "url")
		}
	}
	seen := map[string]bool{str(es[0], "resource.id"): true, str(es[1], "resource.id"): true}
	pages := 1
	for next != "" {
		u, err := url.Parse(next)
		must(t, err)
		b = e.get(u.Path+"?"+u.RawQuery, e.readA, 200)
		pages++
		next = ""
		for _, en := range entries(b) {
			if str(en, "search.mode") == "match" {
				id := str(en, "resource.id")
				if seen[id] {
					t.Errorf("%s on two pages", id)
				}
				seen[id] = true
			}
		}
		for _, l := range path(b, "link").([]any) {
			if str(l, "relation") == "next" {
				next = str(l, "url")
			}
		}
	}
	if pages != 3 || len(seen) != 5 {
		t.Errorf("%d pages, %d observations", pages, len(seen))
	}
}

func TestSearchErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	cases := []struct {
		path string
		code string
		expr string
	}{
		{"/fhir/R4/Observation?date=2026-13-45", "invalid", "date"},
		{"/fhir/R4/Observation?date=xx2026", "invalid", "date"},
		{"/fhir/R4/Observation?_count=-1", "invalid", "_count"},
		{"/fhir/R4/Observation?_sort=code", "invalid", "_sort"},
		{"/fhir/R4/Observation?status=done", "invalid", "status"},
		{"/fhir/R4/Observation?value-quantity=5", "not-supported", ""},
		{"/fhir/R4/Observation?_include=Observation:device", "invalid", "_include"},
		{"/fhir/R4/Observation?patient=Device/x", "invalid", "patient"},
		{"/fhir/R4/Patient?identifier=http://example.org|1", "invalid", "identifier"},
		{"/fhir/R4/Patient?_sort=date", "invalid", "_sort"},
		{"/fhir/R4/Patient?gender=robot", "invalid", "gender"},
		{"/fhir/R4/Appointment?status=planned", "invalid", "status"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			b := e.get(tc.path, e.readA, 400)
			if b["resourceType"] != "OperationOutcome" || str(b, "issue.0.code") != tc.code || str(b, "issue.0.severity") != "error" || str(b, "issue.0.diagnostics") == "" {
				t.Errorf("outcome %v", b)
			}
			if tc.expr != "" && str(b, "issue.0.expression.0") != tc.expr {
				t.Errorf("expression %v", path(b, "issue.0.expression"))
			}
		})
	}
	b := e.get("/fhir/R4/Nonsense", e.readA, 404)
	if str(b, "issue.0.code") != "not-supported" {
		t.Errorf("unknown type %v", b)
	}
}
