package hl7_test

import (
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/hl7"
)

func oruWith(value, units, rng string) *hl7.ORU {
	return &hl7.ORU{SendingApp: "CLINICBOX", SendingFacility: "clinic", ControlID: "CB1.1",
		Time:    time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC),
		Patient: hl7.ORUPatient{Identifiers: []hl7.ORUIdentifier{{ID: "MRN|1", Type: "MR"}}, Name: []string{"Ø^ster", "Åse"}},
		Orders: []hl7.ORUOrder{{SpecimenID: "S~1", Status: "F", Results: []hl7.ORUResult{{Code: "GLU", CodeSystem: "L",
			Value: value, Units: units, ReferenceRange: rng, Flags: []string{"H", "A"}, Status: "F"}}}}}
}

// TestORURoundTrip: what the builder writes, a parser reads back exactly,
// whatever separators the values hold.
func TestORURoundTrip(t *testing.T) {
	cases := []struct{ value, units, rng, typ string }{
		{"<0,5", "10*3/uL", "3.5-10.0", "ST"},
		{"5.4", "mmol/L", "", "NM"},
		{"-0.25", "", "", "NM"},
		{"3+^3+^45", "", "neg", "ST"},
		{`a|b~c\d&e`, `%^x`, `<7|>2`, "ST"},
		{"line\rbreak", "", "", "ST"},
	}
	for _, c := range cases {
		raw := oruWith(c.value, c.units, c.rng).Build()
		m, err := hl7.Parse(raw)
		if err != nil {
			t.Fatalf("%q: %v", c.value, err)
		}
		obx, _ := m.Segment("OBX")
		if got := obx.Field(5).String(); got != c.value {
			t.Errorf("value %q came back %q", c.value, got)
		}
		if got := obx.Field(6).Component(1); got != c.units {
			t.Errorf("units %q came back %q", c.units, got)
		}
		if got := obx.Field(7).String(); got != c.rng {
			t.Errorf("range %q came back %q", c.rng, got)
		}
		if got := obx.Field(2).Raw(); got != c.typ {
			t.Errorf("value type of %q: %s, want %s", c.value, got, c.typ)
		}
		pid, _ := m.Segment("PID")
		if pid.Field(3).Component(1) != "MRN|1" || pid.Field(5).Component(1) != "Ø^ster" {
			t.Errorf("PID %q", pid.Text())
		}
		msh, _ := m.MSH()
		if msh.MessageType() != "ORU^R01" || msh.ControlID != "CB1.1" || msh.Version != "2.5.1" {
			t.Errorf("MSH %+v", msh)
		}
		spm, ok := m.Segment("SPM")
		if !ok || hl7.ParseSPM(spm).SpecimenID() != "S~1" {
			t.Errorf("SPM %q", spm.Text())
		}
		obr, _ := m.Segment("OBR")
		if hl7.ParseOBR(obr).PlacerOrderNumber != "S~1" {
			t.Errorf("OBR %q", obr.Text())
		}
	}
}

func FuzzORUValue(f *testing.F) {
	for _, s := range []string{"<0,5", "10*3/uL", "3+^3+^45", `\E\`, "|~&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		raw := oruWith(v, v, v).Build()
		m, err := hl7.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		obx, ok := m.Segment("OBX")
		if !ok {
			t.Fatalf("no OBX in %q", raw)
		}
		// Control characters other than CR/LF are escaped as \Xhh\, which
		// the parser decodes; leading/trailing spaces survive too.
		if got := obx.Field(5).String(); got != v {
			t.Fatalf("value %q came back %q", v, got)
		}
	})
}
