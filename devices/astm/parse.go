package astm

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrNoRecords reports text that holds no record at all.
var ErrNoRecords = errors.New("astm: no records")

// Parse parses text holding one message (H ... L): usually Transfer.Text.
// It fails if the text holds several messages; use ParseMessages for
// analysers that send more than one per transmission.
func Parse(text []byte) (*Message, error) {
	msgs, err := ParseMessages(text)
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("astm: parse: %d messages (header records) in one text, want 1", len(msgs))
	}
	return msgs[0], nil
}

// ParseMessages parses text into the messages it holds; each H record
// starts a new message and declares its delimiters. Records before any
// header use StandardDelimiters.
//
// Text is the joined frame texts (Transfer.Text). If it still contains
// framing (an STX), as a recorded transcript or Transfer.Raw does, it is
// unframed first with Unframe.
func ParseMessages(text []byte) ([]*Message, error) {
	if bytes.IndexByte(text, STX) >= 0 {
		text = Unframe(text)
	}
	lines := splitRecords(text)
	if len(lines) == 0 {
		return nil, ErrNoRecords
	}
	var (
		msgs []*Message
		b    *treeBuilder
		d    = StandardDelimiters()
	)
	for i, line := range lines {
		if line[0] == 'H' || line[0] == 'h' {
			if len(line) >= 5 {
				nd := Delimiters{Field: line[1], Repeat: line[2], Component: line[3], Escape: line[4]}
				if err := nd.Validate(); err != nil {
					return nil, fmt.Errorf("astm: parse record %d (header): %w", i+1, err)
				}
				d = nd
			}
			b = nil
		}
		if b == nil {
			b = &treeBuilder{m: &Message{Delimiters: d}}
			msgs = append(msgs, b.m)
		}
		b.add(newRecord(line, d))
	}
	return msgs, nil
}

// treeBuilder hangs records on the message tree as they come.
type treeBuilder struct {
	m        *Message
	patient  *Patient
	order    *Order
	comments *[]Comment // where a C record goes: after the record it follows
}

func (b *treeBuilder) add(r Record) {
	m := b.m
	m.Records = append(m.Records, r)
	switch r.Type {
	case 'H':
		m.Header = parseHeader(r)
		b.comments = &m.Comments
	case 'P':
		b.patient = parsePatient(r)
		m.Patients = append(m.Patients, b.patient)
		b.order = nil
		b.comments = &b.patient.Comments
	case 'O':
		b.order = parseOrder(r)
		p := b.ensurePatient()
		p.Orders = append(p.Orders, b.order)
		b.comments = &b.order.Comments
	case 'R':
		res := parseResult(r)
		if b.order == nil {
			// Some analysers send results without an order record.
			b.order = &Order{}
			p := b.ensurePatient()
			p.Orders = append(p.Orders, b.order)
		}
		b.order.Results = append(b.order.Results, res)
		b.comments = &res.Comments
	case 'C':
		if b.comments == nil {
			b.comments = &m.Comments
		}
		*b.comments = append(*b.comments, parseComment(r))
	case 'Q':
		q := parseQuery(r)
		m.Queries = append(m.Queries, q)
		b.comments = &q.Comments
	case 'M':
		m.Manufacturer = append(m.Manufacturer, r)
	case 'L':
		m.Terminated = true
		m.TerminationCode = r.str(3)
	}
}

// ensurePatient returns the current patient, creating an empty one for
// orders that arrive without a P record.
func (b *treeBuilder) ensurePatient() *Patient {
	if b.patient == nil {
		b.patient = &Patient{}
		b.m.Patients = append(b.m.Patients, b.patient)
	}
	return b.patient
}

func parseHeader(r Record) Header {
	sender := r.Field(5)
	return Header{
		Record:        r,
		ControlID:     r.str(3),
		SenderName:    sender.Component(1),
		SenderVersion: sender.Component(2),
		SenderSerial:  sender.Component(3),
		ReceiverID:    r.str(10),
		ProcessingID:  r.str(12),
		Version:       r.str(13),
		Timestamp:     r.str(14),
	}
}

func parsePatient(r Record) *Patient {
	return &Patient{
		Record:     r,
		Seq:        r.str(2),
		PracticeID: r.str(3),
		LabID:      r.str(4),
		PatientID3: r.str(5),
		Name:       parseName(r.Field(6)),
		Birthdate:  r.str(8),
		Sex:        r.str(9),
	}
}

func parseName(f Field) Name {
	return Name{Last: f.Component(1), First: f.Component(2), Middle: f.Component(3), Suffix: f.Component(4), Title: f.Component(5)}
}

func parseOrder(r Record) *Order {
	return &Order{
		Record:               r,
		Seq:                  r.str(2),
		SpecimenID:           r.str(3),
		InstrumentSpecimenID: r.str(4),
		Tests:                parseTestIDs(r.Field(5)),
		Priority:             r.str(6),
		RequestedAt:          r.str(7),
		CollectedAt:          r.str(8),
		ActionCode:           r.str(12),
		SpecimenType:         r.str(16),
		ReportType:           r.str(26),
	}
}

func parseResult(r Record) *Result {
	return &Result{
		Record:         r,
		Seq:            r.str(2),
		Test:           parseTestID(r.Field(3)),
		Value:          r.str(4),
		Units:          r.str(5),
		ReferenceRange: r.str(6),
		Flags:          r.str(7),
		Status:         r.str(9),
		Operator:       r.str(11),
		StartedAt:      r.str(12),
		CompletedAt:    r.str(13),
		InstrumentID:   r.str(14),
	}
}

func parseComment(r Record) Comment {
	return Comment{Record: r, Seq: r.str(2), Source: r.str(3), Text: r.str(4), Type: r.str(5)}
}

func parseQuery(r Record) *Query {
	q := &Query{
		Record:     r,
		Seq:        r.str(2),
		Tests:      parseTestIDs(r.Field(5)),
		TimeLimits: r.str(6),
		From:       r.str(7),
		To:         r.str(8),
		Status:     r.str(13),
	}
	q.StartRange = components(r.Field(3))
	q.EndRange = components(r.Field(4))
	return q
}

// components returns the components of f without trailing empty ones,
// which carry nothing ("^^^GLU^" is "^^^GLU", and "^" names nothing: nil).
func components(f Field) []string {
	c := f.Components()
	for len(c) > 0 && c[len(c)-1] == "" {
		c = c[:len(c)-1]
	}
	if len(c) == 0 {
		return nil
	}
	return c
}

func parseTestIDs(f Field) []TestID {
	if f.IsEmpty() {
		return nil
	}
	var out []TestID
	for _, rep := range f.Repeats() {
		// A repeat of bare delimiters ("^^^") names no test.
		if t := parseTestID(rep); t.Key() != "" {
			out = append(out, t)
		}
	}
	return out
}

func parseTestID(f Field) TestID {
	c := components(f)
	get := func(i int) string {
		if i < len(c) {
			return c[i]
		}
		return ""
	}
	t := TestID{ID: get(0), Name: get(1), Type: get(2), Code: get(3)}
	if len(c) > 4 {
		t.Extra = c[4:]
	}
	return t
}
