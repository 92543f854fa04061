package hl7_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/devices/sim"
)

func parseSample(t *testing.T, name string) *hl7.Message {
	t.Helper()
	b, err := sim.Sample(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := hl7.Parse(b)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return m
}

func header(t *testing.T, m *hl7.Message) hl7.MSH {
	t.Helper()
	h, ok := m.MSH()
	if !ok {
		t.Fatal("no MSH")
	}
	return h
}

func TestParsePOCTGlucose(t *testing.T) {
	m := parseSample(t, "poct-glucose-oru.hl7")
	h := header(t, m)
	want := hl7.MSH{
		SendingApp:        hl7.HD{Namespace: "GLUCOSCAN", UniversalID: "0012345", UniversalIDType: "EUI-64"},
		SendingFacility:   hl7.HD{Namespace: "WARD3", UniversalID: "CLINIC-A"},
		ReceivingApp:      hl7.HD{Namespace: "CLINICBOX"},
		ReceivingFacility: hl7.HD{Namespace: "CLINIC-A"},
		Timestamp:         "20250314101530+0100",
		Type:              "ORU", Event: "R01", Structure: "ORU_R01",
		ControlID: "GS20250314-0042", ProcessingID: "P", Version: "2.5.1",
	}
	if h != want {
		t.Errorf("MSH = %+v\nwant %+v", h, want)
	}
	if h.MessageType() != "ORU^R01" {
		t.Errorf("MessageType = %q", h.MessageType())
	}
	pidSeg, _ := m.Segment("PID")
	p := hl7.ParsePID(pidSeg)
	if p.PatientID.ID != "E-448812" || len(p.Identifiers) != 3 || p.BirthDate != "19780512" || p.Sex != "F" ||
		p.Name != (hl7.Name{Family: "Mustermann", Given: "Erika", Middle: "A"}) {
		t.Errorf("PID = %+v", p)
	}
	for code, id := range map[string]string{"MR": "PAT-100234", "NI": "7781234", "SS": "AB123456C"} {
		if got, ok := p.Identifier(code); !ok || got.ID != id {
			t.Errorf("identifier %s = %+v, %v", code, got, ok)
		}
	}
	if mr, _ := p.Identifier("MR"); mr.AssigningAuthority != "CLINIC-A" {
		t.Errorf("MR authority = %q", mr.AssigningAuthority)
	}
	obs := m.Observations()
	if len(obs) != 2 {
		t.Fatalf("%d observations", len(obs))
	}
	g := obs[0]
	wantOBX := hl7.OBX{
		SetID: "1", ValueType: "NM",
		Identifier:          hl7.Coded{Code: "15074-8", Text: "Glucose [Moles/volume] in Blood", System: "LN"},
		Value:               "7.2",
		Units:               hl7.Coded{Code: "mmol/L", Text: "mmol/L", System: "UCUM"},
		ReferenceRange:      "3.9-7.8",
		AbnormalFlags:       []string{"N"},
		ResultStatus:        "F",
		ObservedAt:          "20250314101200+0100",
		ResponsibleObserver: "OP-0815",
		Equipment:           []hl7.EntityID{{ID: "GLUCOSCAN-0012345", Namespace: "GLUCOSCAN", UniversalID: "0012345", UniversalIDType: "EUI-64"}},
	}
	if !reflect.DeepEqual(g.OBX, wantOBX) {
		t.Errorf("OBX 1 = %+v\nwant %+v", g.OBX, wantOBX)
	}
	if len(g.Notes) != 1 || g.Notes[0].Comment != "Postprandial 2 h\nStrip lot 2409A & meter check OK" || g.Notes[0].Source != "L" {
		t.Errorf("notes = %+v", g.Notes)
	}
	if g.Patient == nil || g.Patient.Name.Family != "Mustermann" || g.Order == nil || g.Order.PlacerOrderNumber != "ORD-5531" ||
		g.Order.FillerOrderNumber != "GS-0042" || g.Order.Service.Code != "15074-8" || g.CommonOrder == nil || g.CommonOrder.OrderControl != "RE" {
		t.Errorf("context = %+v %+v %+v", g.Patient, g.Order, g.CommonOrder)
	}
	if q := obs[1].OBX; q.ValueType != "ST" || q.Value != "PASS" || q.Identifier.System != "L" || len(obs[1].Notes) != 0 {
		t.Errorf("OBX 2 = %+v", q)
	}
}

func TestParseOULR22(t *testing.T) {
	m := parseSample(t, "oul-r22.hl7")
	if h := header(t, m); h.MessageType() != "OUL^R22" || h.ControlID != "A1C-000731" {
		t.Errorf("MSH = %+v", h)
	}
	obs := m.Observations()
	if len(obs) != 2 {
		t.Fatalf("%d observations", len(obs))
	}
	for i, o := range obs {
		if o.Specimen == nil || o.Specimen.SpecimenID() != "SP240314-01" || o.Specimen.FillerID != "SP240314-01" ||
			o.Specimen.Type.Code != "BLDC" || o.Specimen.CollectedAt != "20250314112500" || o.Specimen.ReceivedAt != "20250314112610" {
			t.Errorf("obs %d specimen = %+v", i, o.Specimen)
		}
		// OUL puts the ORC after its OBR; it still belongs to that order.
		if o.Order == nil || o.Order.PlacerOrderNumber != "ORD-7713" || o.CommonOrder == nil || o.CommonOrder.OrderControl != "SC" {
			t.Errorf("obs %d order = %+v / %+v", i, o.Order, o.CommonOrder)
		}
		if p, _ := o.Patient.Identifier("MR"); p.ID != "PAT-100987" {
			t.Errorf("obs %d patient = %+v", i, o.Patient)
		}
	}
	a1c, ifcc := obs[0].OBX, obs[1].OBX
	if a1c.Value != "6.8" || a1c.Units.Code != "%" || a1c.ReferenceRange != "4.0-6.0" || a1c.AbnormalFlags[0] != "H" ||
		a1c.Equipment[0].ID != "A1CNOW-77" || a1c.ObservedAt != "20250314112900" {
		t.Errorf("HbA1c = %+v", a1c)
	}
	if ifcc.Value != "51" || ifcc.Units.Code != "mmol/mol" || ifcc.Identifier.Code != "59261-8" {
		t.Errorf("IFCC = %+v", ifcc)
	}
	if len(obs[1].Notes) != 1 || obs[1].Notes[0].Comment != "Reagent lot R2411 exp 2025-11-30" {
		t.Errorf("notes = %+v", obs[1].Notes)
	}
}

func TestParseSpirometry(t *testing.T) {
	m := parseSample(t, "spirometry-oru.hl7")
	if h := header(t, m); h.MessageType() != "ORU^R01" || h.Structure != "" || h.Version != "2.3.1" {
		t.Errorf("MSH = %+v", h)
	}
	want := []struct{ code, value, units, rng string }{
		{"FVC", "3.82", "L", "3.10-4.50"},
		{"FEV1", "2.91", "L", "2.60-3.80"},
		{"FEV1FVC", "76.2", "%", ">70"},
		{"PEF", "6.45", "L/s", "5.20-8.10"},
		{"FEF2575", "2.48", "L/s", "2.10-4.30"},
		{"FEV1PP", "87", "%", ">=80"},
		{"QUAL", "A", "", ""},
	}
	obs := m.Observations()
	if len(obs) != len(want) {
		t.Fatalf("%d observations", len(obs))
	}
	for i, w := range want {
		o := obs[i].OBX
		if o.Identifier.Code != w.code || o.Value != w.value || o.Units.Code != w.units || o.ReferenceRange != w.rng || o.ResultStatus != "F" {
			t.Errorf("OBX %d = %+v, want %+v", i+1, o, w)
		}
		if obs[i].Order == nil || obs[i].Order.Service.Code != "SPIRO" || obs[i].CommonOrder != nil {
			t.Errorf("OBX %d order = %+v %+v", i+1, obs[i].Order, obs[i].CommonOrder)
		}
	}
	if p := obs[0].Patient; p.Identifiers[0].TypeCode != "PI" || p.Name.Given != "Lena" {
		t.Errorf("patient = %+v", p)
	}
}

func TestParseCustomSeparators(t *testing.T) {
	// Field #, component *, repetition @, escape !, subcomponent %.
	msg := "MSH#*@!%#DEV*1##HOST##20250314##ORU*R01#C1#P#2.5\r" +
		"PID#1##A1!S!x***AUTH%sub*MR@B2****NI##Doe%van*Jo\r" +
		"OBX#1#ST#T1*Test##a!F!b!S!c!T!d!R!e!E!f#u##H@L\r"
	m, err := hl7.Parse([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	want := hl7.Delimiters{Field: '#', Component: '*', Repetition: '@', Escape: '!', Subcomponent: '%'}
	if m.Delimiters != want {
		t.Fatalf("delimiters = %+v", m.Delimiters)
	}
	h := header(t, m)
	if h.SendingApp.Namespace != "DEV" || h.SendingApp.UniversalID != "1" || h.MessageType() != "ORU^R01" || h.ControlID != "C1" {
		t.Errorf("MSH = %+v", h)
	}
	msh, _ := m.Segment("MSH")
	if msh.Field(1).String() != "#" || msh.Field(2).String() != "*@!%" {
		t.Errorf("MSH-1 %q MSH-2 %q", msh.Field(1).String(), msh.Field(2).String())
	}
	pidSeg, _ := m.Segment("PID")
	p := hl7.ParsePID(pidSeg)
	if len(p.Identifiers) != 2 || p.Identifiers[0].ID != "A1*x" || p.Identifiers[0].AssigningAuthority != "AUTH" ||
		p.Identifiers[0].TypeCode != "MR" || p.Identifiers[1].TypeCode != "NI" {
		t.Errorf("identifiers = %+v", p.Identifiers)
	}
	if p.Name.Family != "Doe" || p.Name.Given != "Jo" || pidSeg.Field(5).Subcomponent(1, 2) != "van" {
		t.Errorf("name = %+v", p.Name)
	}
	obx, _ := m.Segment("OBX")
	o := hl7.ParseOBX(obx)
	if o.Value != "a#b*c%d@e!f" || !reflect.DeepEqual(o.AbnormalFlags, []string{"H", "L"}) {
		t.Errorf("OBX = %+v", o)
	}
}

func TestParseTolerance(t *testing.T) {
	base := "MSH|^~\\&|A|B|C|D|20250314||ORU^R01|X1|P|2.5\rPID|1||ID1^^^^MR\rOBX|1|NM|GLU^Glucose^L||5.4|mmol/L|||||F\r"
	tests := []struct{ name, text string }{
		{"CR", base},
		{"LF", strings.ReplaceAll(base, "\r", "\n")},
		{"CR LF", strings.ReplaceAll(base, "\r", "\r\n")},
		{"no final CR", strings.TrimSuffix(base, "\r")},
		{"leading blank lines and BOM", "\r\n\uFEFF" + base},
		{"leftover MLLP bytes", "\x0b" + base + "\x1c\r"},
		{"blank segments", strings.ReplaceAll(base, "\r", "\r\r")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := hl7.Parse([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Segments) != 3 {
				t.Fatalf("%d segments", len(m.Segments))
			}
			obs := m.Observations()
			if len(obs) != 1 || obs[0].OBX.Value != "5.4" || obs[0].OBX.Units.Code != "mmol/L" || obs[0].Patient.Identifiers[0].ID != "ID1" {
				t.Errorf("observations = %+v", obs)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"", "PID|1", "MSH", "MSH\r", "MSH|^~\\&&|", "MSHA^~\\&", "MSH|^~\\&#!|too many"} {
		if _, err := hl7.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func TestEscapes(t *testing.T) {
	d := hl7.StandardDelimiters()
	tests := []struct{ in, want string }{
		{`a\F\b\S\c\T\d\R\e\E\f`, `a|b^c&d~e\f`},
		{`\X0D0A\`, "\r\n"},
		{`\X41\\X4243\`, "ABC"},
		{`line1\.br\line2`, "line1\nline2"},
		{`\.sp2\x`, "\nx"},
		{`\H\bold\N\`, "bold"},
		{`\.in4\x`, "x"},
		{`\Z1\`, `\Z1\`},   // local escape kept
		{`\Q\`, `\Q\`},     // unknown kept
		{`a\b`, `a\b`},     // unterminated kept
		{`\X4\`, `\X4\`},   // odd hex kept
		{`\XZZ\`, `\XZZ\`}, // bad hex kept
		{`\P\`, `\P\`},     // truncation not declared
		{`\\`, `\\`},       // empty sequence kept
	}
	for _, tt := range tests {
		if got := d.UnescapeText(tt.in); got != tt.want {
			t.Errorf("UnescapeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{`a|b^c&d~e\f`, "cr\rlf\n", "plain"} {
		e := d.EscapeText(s)
		if strings.ContainsAny(e, "|^&~\r\n") || d.UnescapeText(e) != s {
			t.Errorf("EscapeText(%q) = %q", s, e)
		}
	}
}

func TestParseTime(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"20250314101530+0100", time.Date(2025, 3, 14, 10, 15, 30, 0, time.FixedZone("", 3600))},
		{"20250314101530-0500", time.Date(2025, 3, 14, 10, 15, 30, 0, time.FixedZone("", -5*3600))},
		{"20250314101530.25", time.Date(2025, 3, 14, 10, 15, 30, 250e6, loc)},
		{"202503141015", time.Date(2025, 3, 14, 10, 15, 0, 0, loc)},
		{"20250314", time.Date(2025, 3, 14, 0, 0, 0, 0, loc)},
		{"2025", time.Date(2025, 1, 1, 0, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		got, err := hl7.ParseTime(tt.in, loc)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "20251", "20250314+01", "2025031410.5", "20251314"} {
		if _, err := hl7.ParseTime(bad, loc); err == nil {
			t.Errorf("ParseTime(%q): no error", bad)
		}
	}
}
