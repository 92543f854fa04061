package astm

import "strings"

// Record is one E1394 record: a line of fields such as
// "R|1|^^^GLU|5.4|mmol/L". Field numbers follow the standard, so Field(1)
// is the record type and Field(4) of a result record is its value.
type Record struct {
	Type   byte // 'H', 'P', 'O', 'R', 'C', 'Q', 'M', 'L', ... (upper case)
	text   string
	fields []string
	d      Delimiters
}

// Text returns the record exactly as received, without its CR.
func (r Record) Text() string { return r.text }

// Delimiters returns the delimiters the record was parsed with.
func (r Record) Delimiters() Delimiters { return r.d }

// NumFields returns how many fields the record has, counting the type.
func (r Record) NumFields() int { return len(r.fields) }

// Field returns field n (1-based, as numbered in the standard). A field
// past the end of the record is empty, as the standard says trailing empty
// fields may be omitted.
func (r Record) Field(n int) Field {
	if n < 1 || n > len(r.fields) {
		return Field{d: r.d}
	}
	return Field{raw: r.fields[n-1], d: r.d}
}

// str returns field n decoded, for the typed accessors.
func (r Record) str(n int) string { return r.Field(n).String() }

func newRecord(text string, d Delimiters) Record {
	t := text[0]
	if t >= 'a' && t <= 'z' {
		t -= 'a' - 'A'
	}
	return Record{Type: t, text: text, fields: strings.Split(text, sep(d.Field)), d: d}
}

// splitRecords cuts joined frame text into record lines. Records end in CR;
// CR LF, a bare LF, a missing final CR and framing characters left at the
// edges of a record (an ETB after the CR of analysers that end every record
// with CR ETB) are all tolerated. The text is converted to a string once and
// the records are slices of it.
func splitRecords(text []byte) []string {
	s := string(text)
	var out []string
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		var line string
		if i < 0 {
			line, s = s, ""
		} else {
			line, s = s[:i], s[i+1:]
		}
		line = strings.TrimFunc(line, isFramingByte)
		if len(line) > 0 {
			out = append(out, line)
		}
	}
	return out
}

// isFramingByte reports control characters other than tab: they never
// belong at the edge of a record.
func isFramingByte(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7F }
