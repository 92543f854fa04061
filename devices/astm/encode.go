package astm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Encode writes m as records separated by CR, ready for Link.Send: H, the
// header comments, each patient followed by its comments and orders (each
// order by its comments and results), the queries, and L. It is how the
// host answers a query: build a Message with the patients and orders the
// instrument asked for and send Encode(msg).
//
// m.Delimiters is used (StandardDelimiters if zero), so an answer can reuse
// the delimiters of the query. Sequence numbers are assigned here; the Seq
// fields, Record fields, Manufacturer and Records are not written.
//
// Escaping: fields made of components (names, test ids, query ranges) have
// every delimiter escaped in each component. Single-string fields (ids,
// values) keep component and repeat delimiters as structure, so an id read
// as "^^0012^B" (rack, position, ...) is echoed back unchanged; only field
// and escape delimiters and control characters are escaped in them.
func Encode(m *Message) ([]byte, error) {
	if m == nil {
		return nil, errors.New("astm: encode: nil message")
	}
	d := m.Delimiters
	if d == (Delimiters{}) {
		d = StandardDelimiters()
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("astm: encode: %w", err)
	}
	e := encoder{d: d}
	h := m.Header
	e.record('H', map[int]string{
		3:  e.str(h.ControlID),
		5:  e.comps(h.SenderName, h.SenderVersion, h.SenderSerial),
		10: e.str(h.ReceiverID),
		12: e.str(h.ProcessingID),
		13: e.str(h.Version),
		14: e.str(h.Timestamp),
	})
	e.commentRecords(m.Comments)
	for i, p := range m.Patients {
		e.record('P', map[int]string{
			2: strconv.Itoa(i + 1),
			3: e.str(p.PracticeID),
			4: e.str(p.LabID),
			5: e.str(p.PatientID3),
			6: e.comps(p.Name.Last, p.Name.First, p.Name.Middle, p.Name.Suffix, p.Name.Title),
			8: e.str(p.Birthdate),
			9: e.str(p.Sex),
		})
		e.commentRecords(p.Comments)
		for j, o := range p.Orders {
			e.record('O', map[int]string{
				2:  strconv.Itoa(j + 1),
				3:  e.str(o.SpecimenID),
				4:  e.str(o.InstrumentSpecimenID),
				5:  e.tests(o.Tests),
				6:  e.str(o.Priority),
				7:  e.str(o.RequestedAt),
				8:  e.str(o.CollectedAt),
				12: e.str(o.ActionCode),
				16: e.str(o.SpecimenType),
				26: e.str(o.ReportType),
			})
			e.commentRecords(o.Comments)
			for k, r := range o.Results {
				e.record('R', map[int]string{
					2:  strconv.Itoa(k + 1),
					3:  e.tests([]TestID{r.Test}),
					4:  e.str(r.Value),
					5:  e.str(r.Units),
					6:  e.str(r.ReferenceRange),
					7:  e.str(r.Flags),
					9:  e.str(r.Status),
					11: e.str(r.Operator),
					12: e.str(r.StartedAt),
					13: e.str(r.CompletedAt),
					14: e.str(r.InstrumentID),
				})
				e.commentRecords(r.Comments)
			}
		}
	}
	for i, q := range m.Queries {
		e.record('Q', map[int]string{
			2:  strconv.Itoa(i + 1),
			3:  e.comps(q.StartRange...),
			4:  e.comps(q.EndRange...),
			5:  e.tests(q.Tests),
			6:  e.str(q.TimeLimits),
			7:  e.str(q.From),
			8:  e.str(q.To),
			13: e.str(q.Status),
		})
		e.commentRecords(q.Comments)
	}
	code := m.TerminationCode
	if code == "" {
		code = "N"
	}
	e.record('L', map[int]string{2: "1", 3: e.str(code)})
	return []byte(e.b.String()), nil
}

type encoder struct {
	d Delimiters
	b strings.Builder
}

// record writes one record; fields maps field numbers (2 and up) to
// encoded values. Trailing empty fields are left out, as the standard
// allows.
func (e *encoder) record(typ byte, fields map[int]string) {
	last := 1
	for n, v := range fields {
		if v != "" && n > last {
			last = n
		}
	}
	first := 2
	e.b.WriteByte(typ)
	if typ == 'H' {
		// H.2 is the delimiter declaration itself, written unescaped.
		e.b.WriteString(e.d.String())
		first = 3
	}
	for n := first; n <= last; n++ {
		e.b.WriteByte(e.d.Field)
		e.b.WriteString(fields[n])
	}
	e.b.WriteByte(CR)
}

func (e *encoder) commentRecords(cs []Comment) {
	for i, c := range cs {
		e.record('C', map[int]string{2: strconv.Itoa(i + 1), 3: e.str(c.Source), 4: e.str(c.Text), 5: e.str(c.Type)})
	}
}

// str encodes a single-string field: see Encode for why component and
// repeat delimiters stay.
func (e *encoder) str(s string) string {
	var b strings.Builder
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == e.d.Component || c == e.d.Repeat {
			b.WriteString(e.d.EscapeText(s[start:i]))
			b.WriteByte(c)
			start = i + 1
		}
	}
	b.WriteString(e.d.EscapeText(s[start:]))
	return b.String()
}

// comps escapes each component and joins them, dropping trailing empties.
func (e *encoder) comps(parts ...string) string {
	n := len(parts)
	for n > 0 && parts[n-1] == "" {
		n--
	}
	out := make([]string, n)
	for i, p := range parts[:n] {
		out[i] = e.d.EscapeText(p)
	}
	return strings.Join(out, sep(e.d.Component))
}

func (e *encoder) tests(ts []TestID) string {
	reps := make([]string, len(ts))
	for i, t := range ts {
		reps[i] = e.comps(append([]string{t.ID, t.Name, t.Type, t.Code}, t.Extra...)...)
	}
	return strings.Join(reps, sep(e.d.Repeat))
}
