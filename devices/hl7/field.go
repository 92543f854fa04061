package hl7

import "strings"

// Field is one field of a segment as it was on the wire (still escaped),
// with the delimiters needed to take it apart. Its methods split first and
// decode escape sequences last, so an escaped separator never splits.
type Field struct {
	raw string
	d   Delimiters
}

// Raw returns the field exactly as received.
func (f Field) Raw() string { return f.raw }

// String returns the whole field with escape sequences decoded. Repetition,
// component and subcomponent separators are left in place, so a coded value
// like "POS^Positive^L" reads as sent.
func (f Field) String() string { return f.d.UnescapeText(f.raw) }

// IsEmpty reports whether the field is empty. The HL7 null `""` is not
// empty: it means "delete this value" and is returned as sent.
func (f Field) IsEmpty() bool { return f.raw == "" }

// Repeats splits the field on the repetition separator.
func (f Field) Repeats() []Field {
	if f.d.Repetition == 0 {
		return []Field{f}
	}
	parts := strings.Split(f.raw, sep(f.d.Repetition))
	out := make([]Field, len(parts))
	for i, p := range parts {
		out[i] = Field{raw: p, d: f.d}
	}
	return out
}

// first returns the first repetition, raw.
func (f Field) first() string {
	if f.d.Repetition == 0 {
		return f.raw
	}
	s, _, _ := strings.Cut(f.raw, sep(f.d.Repetition))
	return s
}

// Components returns the decoded components of the first repetition
// (subcomponent separators left in place).
func (f Field) Components() []string {
	if f.d.Component == 0 {
		return []string{f.d.UnescapeText(f.first())}
	}
	parts := strings.Split(f.first(), sep(f.d.Component))
	for i, p := range parts {
		parts[i] = f.d.UnescapeText(p)
	}
	return parts
}

// Component returns component n (1-based) of the first repetition,
// decoded, or "" if absent.
func (f Field) Component(n int) string {
	return f.d.UnescapeText(f.rawComponent(n))
}

// Subcomponent returns subcomponent s of component c (both 1-based) of
// the first repetition, decoded, or "" if absent.
func (f Field) Subcomponent(c, s int) string {
	return f.d.UnescapeText(nth(f.rawComponent(c), f.d.Subcomponent, s))
}

func (f Field) rawComponent(n int) string {
	return nth(f.first(), f.d.Component, n)
}

// nth returns the n-th (1-based) piece of s split on sep, or "".
func nth(s string, sepc byte, n int) string {
	if n < 1 {
		return ""
	}
	if sepc == 0 {
		if n == 1 {
			return s
		}
		return ""
	}
	for i := 1; ; i++ {
		part, rest, more := strings.Cut(s, sep(sepc))
		if i == n {
			return part
		}
		if !more {
			return ""
		}
		s = rest
	}
}
