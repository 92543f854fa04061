package hl7

import (
	"fmt"
	"strconv"
	"strings"
)

// Delimiters are the separators a message declares at the start of MSH:
// "MSH|^~\&" declares field '|', component '^', repetition '~', escape '\'
// and subcomponent '&'. Version 2.7 adds a truncation character ("^~\&#").
// A zero byte means the message did not declare that separator.
type Delimiters struct {
	Field, Component, Repetition, Escape, Subcomponent, Truncation byte
}

// StandardDelimiters returns |^~\&, the set nearly every sender uses.
func StandardDelimiters() Delimiters {
	return Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}
}

// EncodingCharacters returns MSH-2 for these delimiters, e.g. "^~\&".
func (d Delimiters) EncodingCharacters() string {
	b := make([]byte, 0, 5)
	for _, c := range []byte{d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation} {
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

// Validate checks that the declared separators are distinct and neither
// control characters nor letters or digits.
func (d Delimiters) Validate() error {
	all := []byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation}
	if d.Field == 0 {
		return fmt.Errorf("hl7: no field separator")
	}
	for i, c := range all {
		if c == 0 {
			continue
		}
		switch {
		case c < 0x20 || c == 0x7F:
			return fmt.Errorf("hl7: separator %q is a control character", c)
		case c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
			return fmt.Errorf("hl7: separator %q is a letter or digit", c)
		}
		for _, o := range all[:i] {
			if o == c {
				return fmt.Errorf("hl7: separator %q declared twice", c)
			}
		}
	}
	return nil
}

// UnescapeText decodes the escape sequences of s (shown with the usual '\'):
// \F\ \S\ \T\ \R\ \E\ \P\ become the separators, \Xhhhh\ the bytes given
// in hex, \.br\ and \.sp\ a line break. Other formatting commands and
// highlighting (\H\ \N\) and character-set switches are dropped. Unknown
// or unterminated sequences are kept as sent.
func (d Delimiters) UnescapeText(s string) string {
	e := d.Escape
	if e == 0 || strings.IndexByte(s, e) < 0 {
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
		if !d.writeEscape(&b, s[i+1:i+1+j]) {
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
		return true
	case "S":
		b.WriteByte(d.Component)
		return true
	case "T":
		b.WriteByte(d.Subcomponent)
		return true
	case "R":
		b.WriteByte(d.Repetition)
		return true
	case "E":
		b.WriteByte(d.Escape)
		return true
	case "P":
		if d.Truncation == 0 {
			return false
		}
		b.WriteByte(d.Truncation)
		return true
	case "H", "N": // start and end of highlighting: no plain-text meaning
		return true
	case "":
		return false
	}
	switch seq[0] {
	case 'X':
		hex := seq[1:]
		if len(hex) == 0 || len(hex)%2 != 0 {
			return false
		}
		out := make([]byte, 0, len(hex)/2)
		for k := 0; k < len(hex); k += 2 {
			v, err := strconv.ParseUint(hex[k:k+2], 16, 8)
			if err != nil {
				return false
			}
			out = append(out, byte(v))
		}
		b.Write(out)
		return true
	case 'C', 'M': // character set switches: the bytes that follow are kept
		return isHex(seq[1:])
	case '.':
		switch cmd := strings.TrimRight(seq[1:], "0123456789+-"); cmd {
		case "br", "sp":
			b.WriteByte('\n')
			return true
		case "fi", "nf", "in", "ti", "sk", "ce":
			return true
		}
	}
	return false
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// EscapeText encodes s for use inside one subcomponent: separators become
// escape sequences, and CR, LF and other control characters become \Xhh\
// (a CR would end the segment).
func (d Delimiters) EscapeText(s string) string {
	if d.Escape == 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		var code string
		switch {
		case c == d.Field:
			code = "F"
		case c == d.Component:
			code = "S"
		case c == d.Subcomponent && c != 0:
			code = "T"
		case c == d.Repetition:
			code = "R"
		case c == d.Escape:
			code = "E"
		case c == d.Truncation && c != 0:
			code = "P"
		case c < 0x20 || c == 0x7F:
			code = fmt.Sprintf("X%02X", c)
		default:
			b.WriteByte(c)
			continue
		}
		b.WriteByte(d.Escape)
		b.WriteString(code)
		b.WriteByte(d.Escape)
	}
	return b.String()
}

// sep returns the one-byte string of c (string(c) would UTF-8-encode bytes
// of 0x80 and above into two bytes).
func sep(c byte) string { return string([]byte{c}) }
