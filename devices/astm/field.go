package astm

import "strings"

// Field is one field of a record as it was on the wire (still escaped),
// with the delimiters needed to take it apart. Its methods split first and
// decode escape sequences last, so an escaped delimiter never splits.
type Field struct {
	raw string
	d   Delimiters
}

// Raw returns the field exactly as received.
func (f Field) Raw() string { return f.raw }

// String returns the whole field with escape sequences decoded. Repeat
// and component delimiters inside it are left in place, so a value like
// "1.2^3.4" reads as sent.
func (f Field) String() string { return f.d.UnescapeText(f.raw) }

// IsEmpty reports whether the field is empty.
func (f Field) IsEmpty() bool { return f.raw == "" }

// Repeats splits the field on the repeat delimiter.
func (f Field) Repeats() []Field {
	parts := strings.Split(f.raw, sep(f.d.Repeat))
	out := make([]Field, len(parts))
	for i, p := range parts {
		out[i] = Field{raw: p, d: f.d}
	}
	return out
}

// Components returns the decoded components of the field's first repeat.
func (f Field) Components() []string {
	first, _, _ := strings.Cut(f.raw, sep(f.d.Repeat))
	parts := strings.Split(first, sep(f.d.Component))
	for i, p := range parts {
		parts[i] = f.d.UnescapeText(p)
	}
	return parts
}

// Component returns the n-th component (1-based) of the first repeat,
// decoded, or "" if there is none.
func (f Field) Component(n int) string {
	if n < 1 {
		return ""
	}
	first, _, _ := strings.Cut(f.raw, sep(f.d.Repeat))
	for i := 1; ; i++ {
		part, rest, more := strings.Cut(first, sep(f.d.Component))
		if i == n {
			return f.d.UnescapeText(part)
		}
		if !more {
			return ""
		}
		first = rest
	}
}
