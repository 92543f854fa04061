package hl7

import (
	"bytes"
	"fmt"
)

// SegmentDeviations lists how a message's segment terminators depart from
// the standard's CR: segments ending in LF or CR LF, which Parse accepts
// because middleware and hand-written test tools send them. Empty for a
// message whose segments all end in CR (the last one may lack it).
func SegmentDeviations(msg []byte) []string {
	lf := bytes.Count(msg, []byte("\n"))
	if lf == 0 {
		return nil
	}
	crlf := bytes.Count(msg, []byte("\r\n"))
	var out []string
	if crlf > 0 {
		out = append(out, fmt.Sprintf("%d segment(s) end in CR LF instead of CR; accepted", crlf))
	}
	if n := lf - crlf; n > 0 {
		out = append(out, fmt.Sprintf("%d segment(s) end in LF instead of CR; accepted", n))
	}
	return out
}
