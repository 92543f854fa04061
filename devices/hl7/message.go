package hl7

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ErrNoHeader reports data that does not start with an MSH (or a batch
// FHS/BHS) segment, so its separators cannot be known.
var ErrNoHeader = errors.New("hl7: message does not start with MSH")

// Message is a parsed HL7 v2 message.
type Message struct {
	Delimiters Delimiters
	Segments   []Segment
}

// Segment is one segment, such as "OBX|1|NM|...".
type Segment struct {
	Name   string // "MSH", "PID", "OBX", "ZXX", ...
	text   string
	fields []string // fields[0] is the name
	d      Delimiters
}

// Text returns the segment exactly as received, without its CR.
func (s Segment) Text() string { return s.text }

// NumFields returns the number of the last field present.
func (s Segment) NumFields() int {
	if s.isHeader() {
		return len(s.fields)
	}
	return len(s.fields) - 1
}

// Field returns field n, numbered as in the standard. In MSH, field 1 is
// the field separator itself and field 2 the encoding characters, both
// returned literally. A field past the end of the segment is empty.
func (s Segment) Field(n int) Field {
	if s.isHeader() {
		switch {
		case n == 1:
			return Field{raw: sep(s.d.Field)} // zero delimiters: read literally
		case n == 2 && len(s.fields) > 1:
			return Field{raw: s.fields[1]}
		}
		n--
	}
	if n < 1 || n >= len(s.fields) {
		return Field{d: s.d}
	}
	return Field{raw: s.fields[n], d: s.d}
}

func (s Segment) str(n int) string { return s.Field(n).String() }

// isHeader reports whether the segment declares the separators, which
// shifts its field numbers by one.
func (s Segment) isHeader() bool {
	return s.Name == "MSH" || s.Name == "FHS" || s.Name == "BHS"
}

// Parse parses one HL7 v2 message. The separators come from the header
// (MSH-1 and MSH-2); segments end in CR, and LF or CR LF are tolerated, as
// are blank lines, leading whitespace and leftover MLLP bytes.
func Parse(data []byte) (*Message, error) {
	data = bytes.TrimLeftFunc(data, func(r rune) bool { return r <= ' ' || r == '\uFEFF' })
	if len(data) < 4 {
		return nil, ErrNoHeader
	}
	switch string(data[:3]) {
	case "MSH", "FHS", "BHS":
	default:
		return nil, ErrNoHeader
	}
	d := Delimiters{Field: data[3]}
	enc := data[4:]
	if i := bytes.IndexAny(enc, "\r\n"); i >= 0 {
		enc = enc[:i]
	}
	if i := bytes.IndexByte(enc, d.Field); i >= 0 {
		enc = enc[:i]
	}
	if len(enc) > 5 {
		return nil, fmt.Errorf("hl7: %d encoding characters in MSH-2 %q, at most 5", len(enc), enc)
	}
	for i, p := range []*byte{&d.Component, &d.Repetition, &d.Escape, &d.Subcomponent, &d.Truncation} {
		if i < len(enc) {
			*p = enc[i]
		}
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("hl7: MSH separators: %w", err)
	}
	m := &Message{Delimiters: d}
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimFunc(line, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7F })
		if len(line) == 0 {
			continue
		}
		text := string(line)
		fields := strings.Split(text, sep(d.Field))
		m.Segments = append(m.Segments, Segment{Name: fields[0], text: text, fields: fields, d: d})
	}
	return m, nil
}

// Segment returns the first segment called name.
func (m *Message) Segment(name string) (Segment, bool) {
	for _, s := range m.Segments {
		if s.Name == name {
			return s, true
		}
	}
	return Segment{}, false
}

// All returns every segment called name, in order.
func (m *Message) All(name string) []Segment {
	var out []Segment
	for _, s := range m.Segments {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}
