package astm

import (
	"fmt"
	"strings"
)

// Delimiters are the four separators a message declares in its header
// record, right after the H: "H|\^&" declares field '|', repeat '\',
// component '^' and escape '&'. Any four distinct characters may be used.
type Delimiters struct {
	Field, Repeat, Component, Escape byte
}

// StandardDelimiters returns the usual |\^& set, used when a message has
// no header and when Encode is given none.
func StandardDelimiters() Delimiters {
	return Delimiters{Field: '|', Repeat: '\\', Component: '^', Escape: '&'}
}

// Validate checks that the four delimiters are distinct and usable: a
// control character (CR, STX, ...) would break framing or record
// splitting, and a letter or digit would collide with record types,
// escape sequences and values.
func (d Delimiters) Validate() error {
	all := [4]byte{d.Field, d.Repeat, d.Component, d.Escape}
	for i, c := range all {
		if c < 0x20 || c == 0x7F {
			return fmt.Errorf("astm: delimiter %q is a control character", c)
		}
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			return fmt.Errorf("astm: delimiter %q is a letter or digit", c)
		}
		for _, o := range all[:i] {
			if o == c {
				return fmt.Errorf("astm: delimiter %q declared twice", c)
			}
		}
	}
	return nil
}

// String returns the declaration as it appears after "H".
func (d Delimiters) String() string {
	return string([]byte{d.Field, d.Repeat, d.Component, d.Escape})
}

// UnescapeText decodes the escape sequences of s: with the standard escape
// '&', &F& &S& &R& &E& become the field, component, repeat and escape
// delimiters and &Xhh..& the bytes given in hex. An unknown or unterminated
// sequence is kept as sent, so nothing the instrument wrote is lost.
func (d Delimiters) UnescapeText(s string) string {
	e := d.Escape
	if strings.IndexByte(s, e) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, e)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i+1:], e)
		if j < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		seq := s[i+1 : i+1+j]
		if !d.writeEscape(&b, seq) {
			// Not a sequence: keep the escape character literally and
			// look for a sequence starting at the next one.
			b.WriteByte(e)
			s = s[i+1:]
			continue
		}
		s = s[i+j+2:]
	}
}

func (d Delimiters) writeEscape(b *strings.Builder, seq string) bool {
	switch seq {
	case "F":
		b.WriteByte(d.Field)
	case "S":
		b.WriteByte(d.Component)
	case "R":
		b.WriteByte(d.Repeat)
	case "E":
		b.WriteByte(d.Escape)
	default:
		if len(seq) < 3 || seq[0] != 'X' || len(seq)%2 == 0 {
			return false
		}
		hex := seq[1:]
		for k := 0; k < len(hex); k += 2 {
			if _, ok := parseChecksum(hex[k], hex[k+1]); !ok {
				return false
			}
		}
		for k := 0; k < len(hex); k += 2 {
			v, _ := parseChecksum(hex[k], hex[k+1])
			b.WriteByte(v)
		}
	}
	return true
}

// EscapeText encodes s for use inside one component: delimiters become escape
// sequences and control characters (CR would end the record) become &Xhh&.
func (d Delimiters) EscapeText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if d.needsEscape(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !d.needsEscape(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(d.Escape)
		switch c {
		case d.Field:
			b.WriteByte('F')
		case d.Component:
			b.WriteByte('S')
		case d.Repeat:
			b.WriteByte('R')
		case d.Escape:
			b.WriteByte('E')
		default:
			b.WriteByte('X')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0x0F])
		}
		b.WriteByte(d.Escape)
	}
	return b.String()
}

func (d Delimiters) needsEscape(c byte) bool {
	return c < 0x20 || c == 0x7F || c == d.Field || c == d.Component || c == d.Repeat || c == d.Escape
}

// sep returns the one-byte string of c. string(c) would not do: for a byte
// of 0x80 and above it yields the UTF-8 encoding of the rune, two bytes.
func sep(c byte) string { return string([]byte{c}) }
