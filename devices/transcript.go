package devices

import (
	"fmt"
	"strings"
)

var controlNames = map[byte]string{0x02: "STX", 0x03: "ETX", 0x04: "EOT", 0x05: "ENQ", 0x06: "ACK", 0x0b: "VT",
	0x15: "NAK", 0x17: "ETB", 0x1c: "FS"}

// Transcript spells a raw message's control characters out (<ENQ>, <STX>,
// <1C>) and breaks lines after CR and LF, so that a transcript reads in a
// terminal or on a page.
func Transcript(raw []byte) string {
	var b strings.Builder
	for _, c := range raw {
		switch {
		case c == '\r':
			b.WriteString("<CR>\n")
		case c == '\n':
			b.WriteString("<LF>\n")
		case controlNames[c] != "":
			b.WriteString("<" + controlNames[c] + ">")
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "<%02X>", c)
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
