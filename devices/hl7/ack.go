package hl7

import (
	"strings"
	"time"
)

// AckCode is the acknowledgement code of MSA-1 (original mode).
type AckCode string

// Acknowledgement codes.
const (
	AA AckCode = "AA" // accepted
	AE AckCode = "AE" // error: the message was understood but not processed
	AR AckCode = "AR" // rejected: the message could not be taken at all
)

// NewACK builds the acknowledgement of orig: an MSH with sender and
// receiver swapped, type ACK^<event>^ACK, the given control id and time,
// and an MSA carrying code, the original control id and text. It uses the
// separators of orig, so the sender can read it whatever it declared.
//
// orig may be nil when the data could not be parsed at all: the ACK then
// uses the standard separators and leaves the echoed fields empty, which
// is the best a receiver can do for an AR.
func NewACK(orig *Message, code AckCode, text, controlID string, now time.Time) []byte {
	d := StandardDelimiters()
	var src Segment
	if orig != nil {
		d = orig.Delimiters
		src, _ = orig.Segment("MSH")
	}
	event := ""
	version := "2.5.1"
	processing := "P"
	if src.Name != "" {
		event = src.Field(9).Component(2)
		if v := src.Field(12).Raw(); v != "" {
			version = v
		}
		if p := src.Field(11).Raw(); p != "" {
			processing = p
		}
	}
	msgType := "ACK"
	if event != "" && d.Component != 0 {
		msgType = "ACK" + sep(d.Component) + d.EscapeText(event) + sep(d.Component) + "ACK"
	}
	f := sep(d.Field)
	var b strings.Builder
	b.WriteString("MSH" + f + d.EncodingCharacters())
	for _, v := range []string{
		src.Field(5).Raw(), // our application is the one they sent to
		src.Field(6).Raw(),
		src.Field(3).Raw(),
		src.Field(4).Raw(),
		now.Format("20060102150405-0700"),
		"",
		msgType,
		d.EscapeText(controlID),
		processing,
		version,
	} {
		b.WriteString(f + v)
	}
	b.WriteString("\rMSA" + f + string(code) + f + src.Field(10).Raw())
	if text != "" {
		b.WriteString(f + d.EscapeText(text))
	}
	b.WriteString("\r")
	return []byte(b.String())
}

// AckOf reads the acknowledgement code and acknowledged control id from
// an ACK message (MSA-1 and MSA-2); ok is false if it has no MSA.
func AckOf(m *Message) (code AckCode, controlID string, ok bool) {
	s, ok := m.Segment("MSA")
	if !ok {
		return "", "", false
	}
	return AckCode(s.str(1)), s.str(2), true
}
