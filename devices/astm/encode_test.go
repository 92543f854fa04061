package astm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/devices/sim"
)

func TestEncodeQueryAnswer(t *testing.T) {
	q := parseSample(t, "query.astm")
	answer := &astm.Message{
		Delimiters: q.Delimiters,
		Header:     astm.Header{SenderName: "CLINICBOX", ReceiverID: q.Header.SenderName, ProcessingID: "P", Version: "LIS2-A2", Timestamp: "20250314093511"},
		Patients: []*astm.Patient{{
			PracticeID: "PAT-100777",
			Name:       astm.Name{Last: "Pipe|Name", First: "Caret^Anne"},
			Birthdate:  "19800101",
			Sex:        "F",
			Orders: []*astm.Order{{
				SpecimenID: q.Queries[0].SpecimenID(),
				Tests:      []astm.TestID{{Code: "GLU"}, {Code: "CRP"}},
				Priority:   "R",
				ActionCode: "N",
				ReportType: "O",
			}},
		}},
	}
	got, err := astm.Encode(answer)
	if err != nil {
		t.Fatal(err)
	}
	want := "H|\\^&|||CLINICBOX|||||CX300||P|LIS2-A2|20250314093511\r" +
		"P|1|PAT-100777|||Pipe&F&Name^Caret&S&Anne||19800101|F\r" +
		"O|1|S24031502||^^^GLU\\^^^CRP|R||||||N||||||||||||||O\r" +
		"L|1|N\r"
	if string(got) != want {
		t.Errorf("Encode =\n%q\nwant\n%q", got, want)
	}
	back, err := astm.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if n := back.Patients[0].Name; n.Last != "Pipe|Name" || n.First != "Caret^Anne" {
		t.Errorf("escaped name read back as %+v", n)
	}
}

func TestEncodeCustomDelimiters(t *testing.T) {
	m := &astm.Message{
		Delimiters: astm.Delimiters{Field: '!', Repeat: '@', Component: '~', Escape: '$'},
		Header:     astm.Header{SenderName: "HOST"},
		Queries:    []*astm.Query{{StartRange: []string{"", "S!1"}, Tests: []astm.TestID{{Code: "ALL"}}, Status: "O"}},
	}
	got, err := astm.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	want := "H!@~$!!!HOST\rQ!1!~S$F$1!!~~~ALL!!!!!!!!O\rL!1!N\r"
	if string(got) != want {
		t.Errorf("Encode = %q, want %q", got, want)
	}
	if _, err := astm.Encode(&astm.Message{Delimiters: astm.Delimiters{Field: '|', Repeat: '|', Component: '^', Escape: '&'}}); err == nil {
		t.Error("invalid delimiters accepted")
	}
	if _, err := astm.Encode(nil); err == nil {
		t.Error("nil message accepted")
	}
}

// TestEncodeRoundTrip: Parse(Encode(Parse(sample))) keeps every typed value.
func TestEncodeRoundTrip(t *testing.T) {
	for _, s := range sim.Samples() {
		if s.Protocol != sim.ASTM {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			m := parseSample(t, s.Name)
			enc, err := astm.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			back, err := astm.Parse(enc)
			if err != nil {
				t.Fatalf("reparse: %v\n%q", err, enc)
			}
			if a, b := typedView(m), typedView(back); a != b {
				t.Errorf("typed values changed:\n%s\n---\n%s", a, b)
			}
		})
	}
}

// typedView prints the typed values of a message, leaving out the raw
// records and sequence numbers, which Encode does not preserve.
func typedView(m *astm.Message) string {
	var b strings.Builder
	h := m.Header
	h.Record = astm.Record{}
	fmt.Fprintf(&b, "%v %+v\n", m.Delimiters, h)
	comments := func(cs []astm.Comment) {
		for _, c := range cs {
			fmt.Fprintf(&b, "  C %q %q %q\n", c.Source, c.Text, c.Type)
		}
	}
	comments(m.Comments)
	for _, p := range m.Patients {
		fmt.Fprintf(&b, "P %q %q %q %+v %q %q\n", p.PracticeID, p.LabID, p.PatientID3, p.Name, p.Birthdate, p.Sex)
		comments(p.Comments)
		for _, o := range p.Orders {
			fmt.Fprintf(&b, " O %q %q %+v %q %q %q %q %q %q\n", o.SpecimenID, o.InstrumentSpecimenID, o.Tests,
				o.Priority, o.RequestedAt, o.CollectedAt, o.ActionCode, o.SpecimenType, o.ReportType)
			comments(o.Comments)
			for _, r := range o.Results {
				fmt.Fprintf(&b, "  R %+v %q %q %q %q %q %q %q %q %q\n", r.Test, r.Value, r.Units, r.ReferenceRange,
					r.Flags, r.Status, r.Operator, r.StartedAt, r.CompletedAt, r.InstrumentID)
				comments(r.Comments)
			}
		}
	}
	for _, q := range m.Queries {
		fmt.Fprintf(&b, "Q %q %q %+v %q %q %q %q\n", q.StartRange, q.EndRange, q.Tests, q.TimeLimits, q.From, q.To, q.Status)
		comments(q.Comments)
	}
	fmt.Fprintf(&b, "L %v %q\n", m.Terminated, m.TerminationCode)
	return b.String()
}
