package astm_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/devices/sim"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := sim.Sample(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseSample(t *testing.T, name string) *astm.Message {
	t.Helper()
	m, err := astm.Parse(sample(t, name))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return m
}

// resultRow is what a test expects of one R record.
type resultRow struct {
	code, value, units, rng, flags string
}

func checkResults(t *testing.T, got []*astm.Result, want []resultRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i, w := range want {
		r := got[i]
		g := resultRow{r.Test.Key(), r.Value, r.Units, r.ReferenceRange, r.Flags}
		if g != w {
			t.Errorf("result %d = %+v, want %+v", i+1, g, w)
		}
	}
}

func TestParseChemistry(t *testing.T) {
	m := parseSample(t, "chemistry.astm")
	h := m.Header
	if h.SenderName != "CX300" || h.SenderVersion != "2.1.4" || h.SenderSerial != "SN48213" ||
		h.ReceiverID != "CLINICBOX" || h.ProcessingID != "P" || h.Version != "LIS2-A2" || h.Timestamp != "20250314093012" {
		t.Errorf("header = %+v", h)
	}
	if m.Delimiters != astm.StandardDelimiters() {
		t.Errorf("delimiters = %v", m.Delimiters)
	}
	if len(m.Patients) != 1 {
		t.Fatalf("%d patients", len(m.Patients))
	}
	p := m.Patients[0]
	if p.PracticeID != "PAT-100234" || p.LabID != "L-55120" || p.PatientID3 != "NI-7781234" ||
		p.Name != (astm.Name{Last: "Mustermann", First: "Erika", Middle: "A"}) || p.Birthdate != "19780512" || p.Sex != "F" {
		t.Errorf("patient = %+v", p)
	}
	if got := p.Name.String(); got != "Mustermann, Erika A" {
		t.Errorf("name = %q", got)
	}
	o := p.Orders[0]
	if o.SpecimenID != "S24031401" || o.ActionCode != "N" || o.ReportType != "F" || o.SpecimenType != "SER" ||
		o.Priority != "R" || o.CollectedAt != "20250314082000" || len(o.Tests) != 10 || o.Tests[1].Code != "HBA1C" {
		t.Errorf("order = %+v", o)
	}
	checkResults(t, o.Results, []resultRow{
		{"GLU", "5,8", "mmol/L", "3,9-5,5", "H"},
		{"HBA1C", "7,41", "%", "4,0-6,0", "H"},
		{"CRP", ">200", "mg/L", "0-5", ">"},
		{"CHOL", "6,21", "mmol/L", "<5,2", "H"},
		{"HDL", "1,12", "mmol/L", ">1,0", "N"},
		{"LDL", "4,35", "mmol/L", "<3,0", "H"},
		{"TRIG", "<0,10", "mmol/L", "0,45-1,70", "L"},
		{"CREA", "78", "umol/L", "45-84", "N"},
		{"ALT", "31", "U/L", "<35", "N"},
		{"UA", "412", "umol/L", "143-339", "H"},
	})
	r := o.Results[0]
	if r.Test.Extra[0] != "Glucose" || r.Status != "F" || r.Operator != "opA" || r.StartedAt != "20250314092001" ||
		r.CompletedAt != "20250314092155" || r.InstrumentID != "CX300" || r.Seq != "1" {
		t.Errorf("result 1 = %+v", r)
	}
	// Comments hang on the record they follow, escapes decoded.
	crp := o.Results[2]
	if len(crp.Comments) != 1 || crp.Comments[0].Text != "Above linearity | rerun diluted 1^10" || crp.Comments[0].Source != "I" {
		t.Errorf("CRP comments = %+v", crp.Comments)
	}
	if c := o.Results[9].Comments; len(c) != 1 || c[0].Text != `Lipaemia index 2\haemolysis index 0` {
		t.Errorf("last comments = %+v", c)
	}
	if !m.Terminated || m.TerminationCode != "N" || len(m.Records) != 16 {
		t.Errorf("terminated %v %q, %d records", m.Terminated, m.TerminationCode, len(m.Records))
	}
}

func TestParseHaematology(t *testing.T) {
	m := parseSample(t, "haematology.astm")
	p := m.Patients[0]
	if p.PracticeID != "" || p.LabID != "PAT-100987" || p.Name.First != "Beispiel" || p.Name.Last != "" {
		t.Errorf("patient = %+v", p)
	}
	o := p.Orders[0]
	// Rack^position^sample layout in O.4 is kept verbatim, padding and all.
	if o.SpecimenID != "" || o.InstrumentSpecimenID != "^^    S24031455^B" {
		t.Errorf("order ids %q %q", o.SpecimenID, o.InstrumentSpecimenID)
	}
	if got := o.Record.Field(4).Component(3); got != "    S24031455" {
		t.Errorf("O.4.3 = %q", got)
	}
	want := []resultRow{
		{"WBC", "9.84", "10*3/uL", "4.0-10.0", "N"}, {"RBC", "4.21", "10*6/uL", "3.9-5.2", "N"},
		{"HGB", "12.6", "g/dL", "12.0-15.5", "N"}, {"HCT", "38.9", "%", "35-46", "N"},
		{"MCV", "92.4", "fL", "80-100", "N"}, {"MCH", "29.9", "pg", "27-33", "N"},
		{"MCHC", "32.4", "g/dL", "32-36", "N"}, {"PLT", "512", "10*3/uL", "150-400", "H"},
		{"NEUT%", "71.3", "%", "40-75", "N"}, {"LYMPH%", "18.2", "%", "20-45", "L"},
		{"MONO%", "7.1", "%", "2-10", "N"}, {"EOS%", "2.9", "%", "0-6", "N"},
		{"BASO%", "0.5", "%", "0-2", "N"},
	}
	checkResults(t, o.Results, want)
	if r := o.Results[0]; r.Test.Code != "" || r.Test.Extra[0] != "WBC" || r.Operator != "^^^^TECH02" {
		t.Errorf("result 1 = %+v", r)
	}
	if m.Header.SenderName != "HX-500" || m.Header.Timestamp != "" {
		t.Errorf("header = %+v", m.Header)
	}
}

func TestParseUrine(t *testing.T) {
	m := parseSample(t, "urine.astm")
	o := m.Patients[0].Orders[0]
	checkResults(t, o.Results, []resultRow{
		{"LEU", "2+", "Leu/uL", "NEG", "A"}, {"NIT", "NEG", "", "NEG", "N"},
		{"PRO", "3+", "mg/dL", "NEG", "A"}, {"GLU", "NORM", "mg/dL", "NORM", "N"},
		{"KET", "+-", "mg/dL", "NEG", "A"}, {"UBG", "NORM", "mg/dL", "NORM", "N"},
		{"BIL", "NEG", "", "NEG", "N"}, {"ERY", "3+", "Ery/uL", "NEG", "A"},
		{"pH", "6.0", "", "5.0-8.0", "N"}, {"SG", "1.025", "", "1.005-1.030", "N"},
	})
	if o.SpecimenType != "URINE" || o.SpecimenID != "U0314-007" {
		t.Errorf("order = %+v", o)
	}
}

func TestParseQC(t *testing.T) {
	m := parseSample(t, "qc.astm")
	if m.Header.ProcessingID != "Q" {
		t.Errorf("processing id %q", m.Header.ProcessingID)
	}
	p := m.Patients[0]
	if p.PracticeID != "" || p.Name != (astm.Name{}) {
		t.Errorf("QC patient should be empty: %+v", p)
	}
	o := p.Orders[0]
	if o.ActionCode != "Q" || o.SpecimenID != "QC-L1-2503" {
		t.Errorf("order = %+v", o)
	}
	checkResults(t, o.Results, []resultRow{
		{"GLU", "5.52", "mmol/L", "5.20-5.80", "N"},
		{"CRP", "9.8", "mg/L", "9.0-11.0", "N"},
		{"HBA1C", "5.61", "%", "5.30-5.90", "N"},
	})
	if c := o.Results[2].Comments; len(c) != 1 || c[0].Text != "Control lot CL2503A^level 1" {
		t.Errorf("comment = %+v", c)
	}
	if len(m.Manufacturer) != 1 || m.Manufacturer[0].Field(4).Component(2) != "CL2503A" {
		t.Errorf("manufacturer = %+v", m.Manufacturer)
	}
}

func TestParseQuery(t *testing.T) {
	m := parseSample(t, "query.astm")
	if len(m.Queries) != 1 || len(m.Patients) != 0 {
		t.Fatalf("queries %d, patients %d", len(m.Queries), len(m.Patients))
	}
	q := m.Queries[0]
	if q.SpecimenID() != "S24031502" || q.Status != "O" || len(q.Tests) != 1 || q.Tests[0].Key() != "ALL" ||
		q.From != "20250314000000" || q.To != "20250314235959" {
		t.Errorf("query = %+v", q)
	}
}

func TestParseCustomDelimiters(t *testing.T) {
	m := parseSample(t, "custom-delimiters.astm")
	want := astm.Delimiters{Field: '!', Repeat: '@', Component: '~', Escape: '$'}
	if m.Delimiters != want {
		t.Fatalf("delimiters = %q", m.Delimiters.String())
	}
	if m.Header.SenderName != "UA-600" || m.Header.SenderSerial != "UA600-0091" {
		t.Errorf("header = %+v", m.Header)
	}
	p := m.Patients[0]
	if p.Name.Last != "Beispiel" || p.Name.First != "Lena" {
		t.Errorf("name = %+v", p.Name)
	}
	o := p.Orders[0]
	if len(o.Tests) != 2 || o.Tests[1].Code != "ACR" || o.ReportType != "F" {
		t.Errorf("order = %+v", o)
	}
	checkResults(t, o.Results, []resultRow{
		{"ALB", ">300", "mg/L", "<20", "H"},
		{"ACR", "34,5", "mg/mmol", "<3!0", "H"}, // $F$ is the field delimiter '!'
	})
	if c := o.Results[1].Comments[0].Text; c != "Ratio 1~10 $ repeat@ok A" {
		t.Errorf("comment = %q", c)
	}
}

func TestParseTolerance(t *testing.T) {
	base := "H|\\^&\rP|1||PAT-1\rO|1|S1||^^^GLU\rR|1|^^^GLU|5,8|mmol/L\rL|1|N\r"
	tests := []struct {
		name string
		text string
	}{
		{"CR", base},
		{"CR LF", strings.ReplaceAll(base, "\r", "\r\n")},
		{"LF only", strings.ReplaceAll(base, "\r", "\n")},
		{"records ending CR ETB", strings.ReplaceAll(base, "\r", "\r\x17")},
		{"missing trailing CR", strings.TrimSuffix(base, "\r")},
		{"blank lines", strings.ReplaceAll(base, "\r", "\r\r\n")},
		{"raw transcript", string(transcript(base, 20))},
		{"lower-case record types", "h|\\^&\rp|1||PAT-1\ro|1|S1||^^^GLU\rr|1|^^^GLU|5,8|mmol/L\rl|1|N\r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := astm.Parse([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Patients) != 1 || m.Patients[0].LabID != "PAT-1" {
				t.Fatalf("patients = %+v", m.Patients)
			}
			o := m.Patients[0].Orders[0]
			if o.SpecimenID != "S1" || len(o.Results) != 1 || o.Results[0].Value != "5,8" || o.Results[0].Units != "mmol/L" {
				t.Errorf("order = %+v, results %+v", o, o.Results)
			}
			if !m.Terminated {
				t.Error("not terminated")
			}
		})
	}
}

// transcript frames text the way the line carries it, size bytes a frame.
func transcript(text string, size int) []byte {
	raw := []byte{astm.ENQ}
	for _, f := range astm.SplitFrames([]byte(text), size) {
		raw = astm.AppendFrame(raw, f)
	}
	return append(raw, astm.EOT)
}

func TestParseStructure(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		check func(t *testing.T, msgs []*astm.Message)
	}{
		{
			name: "results without order or patient",
			text: "H|\\^&\rR|1|^^^GLU|5.1\rR|2|^^^CRP|<5\rL|1\r",
			check: func(t *testing.T, msgs []*astm.Message) {
				p := msgs[0].Patients
				if len(p) != 1 || p[0].Record.Type != 0 || len(p[0].Orders) != 1 || len(p[0].Orders[0].Results) != 2 {
					t.Errorf("patients = %+v", p)
				}
			},
		},
		{
			name: "two patients, two orders each",
			text: "H|\\^&\rP|1||A\rO|1|S1\rR|1|^^^X|1\rO|2|S2\rR|1|^^^Y|2\rP|2||B\rO|1|S3\rC|1|L|order note\rR|1|^^^Z|3\rL|1\r",
			check: func(t *testing.T, msgs []*astm.Message) {
				ps := msgs[0].Patients
				if len(ps) != 2 || len(ps[0].Orders) != 2 || ps[1].Orders[0].SpecimenID != "S3" ||
					ps[1].Orders[0].Comments[0].Text != "order note" || ps[0].Orders[1].Results[0].Value != "2" {
					t.Errorf("tree wrong: %+v", ps)
				}
			},
		},
		{
			name: "two messages in one transmission",
			text: "H|\\^&\rP|1||A\rL|1\rH!@~$\rP!1!!B~C\rL!1\r",
			check: func(t *testing.T, msgs []*astm.Message) {
				if len(msgs) != 2 || msgs[1].Patients[0].LabID != "B~C" || msgs[1].Patients[0].Record.Field(4).Component(2) != "C" {
					t.Errorf("messages = %+v", msgs)
				}
			},
		},
		{
			name: "unknown records kept",
			text: "H|\\^&\rS|1|scientific\rX|what\rL|1\r",
			check: func(t *testing.T, msgs []*astm.Message) {
				if len(msgs[0].Records) != 4 || msgs[0].Records[1].Type != 'S' {
					t.Errorf("records = %+v", msgs[0].Records)
				}
			},
		},
		{
			name: "no header uses standard delimiters",
			text: "P|1||A^B\r",
			check: func(t *testing.T, msgs []*astm.Message) {
				if msgs[0].Patients[0].LabID != "A^B" {
					t.Errorf("patient = %+v", msgs[0].Patients[0])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := astm.ParseMessages([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, msgs)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"empty", ""},
		{"only separators", "\r\n\r"},
		{"duplicate delimiters", "H||^&\r"},
		{"control delimiter", "H|\x01^&\r"},
		{"two messages to Parse", "H|\\^&\rL|1\rH|\\^&\rL|1\r"},
	}
	for _, tt := range tests {
		if _, err := astm.Parse([]byte(tt.text)); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	if _, err := astm.Parse(nil); !errors.Is(err, astm.ErrNoRecords) {
		t.Errorf("nil text: %v", err)
	}
}

func TestEscapes(t *testing.T) {
	d := astm.StandardDelimiters()
	tests := []struct {
		in, want string
	}{
		{"a&F&b", "a|b"},
		{"a&S&b&R&c&E&d", "a^b\\c&d"},
		{"&X41&&X4243&", "ABC"},
		{"&X0D&", "\r"},
		{"&Q& stays", "&Q& stays"}, // unknown sequence kept
		{"A&B", "A&B"},             // unterminated kept
		{"A&B&F&", "A&B|"},         // stray escape, then a real sequence
		{"&X4&", "&X4&"},           // odd hex kept
		{"&XZZ&", "&XZZ&"},         // not hex kept
		{"no escapes", "no escapes"},
	}
	for _, tt := range tests {
		if got := d.UnescapeText(tt.in); got != tt.want {
			t.Errorf("UnescapeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{"a|b^c\\d&e", "line1\rline2", "plain", ""} {
		if got := d.UnescapeText(d.EscapeText(s)); got != s {
			t.Errorf("escape round trip of %q gave %q", s, got)
		}
		if e := d.EscapeText(s); strings.ContainsAny(e, "|^\\\r") {
			t.Errorf("EscapeText(%q) = %q still holds a delimiter", s, e)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"20250314093012", time.Date(2025, 3, 14, 9, 30, 12, 0, loc)},
		{"202503140930", time.Date(2025, 3, 14, 9, 30, 0, 0, loc)},
		{"20250314", time.Date(2025, 3, 14, 0, 0, 0, 0, loc)},
		{" 2025031409 ", time.Date(2025, 3, 14, 9, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		got, err := astm.ParseTimestamp(tt.in, loc)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v", tt.in, got, err)
		}
	}
	for _, bad := range []string{"", "2025", "20251314", "2025031409301X"} {
		if _, err := astm.ParseTimestamp(bad, loc); err == nil {
			t.Errorf("ParseTimestamp(%q): no error", bad)
		}
	}
}

func TestUnframeMatchesSamples(t *testing.T) {
	for _, s := range sim.Samples() {
		if s.Protocol != sim.ASTM {
			continue
		}
		text := sample(t, s.Name)
		if got := astm.Unframe(transcript(string(text), 240)); !bytes.Equal(got, text) {
			t.Errorf("%s: unframed text differs", s.Name)
		}
	}
}
