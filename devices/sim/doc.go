// Package sim simulates serial instruments for tests, demos and vendors:
// given a protocol and message bytes, an Instrument speaks like a real
// analyser over any io.ReadWriter — ASTM E1381 (ENQ, frames with checksums,
// resending NAKed frames, EOT, optionally a corrupted frame), HL7 over MLLP
// (waiting for the ACK) or plain text lines.
//
// OpenPTY creates a pseudo-terminal pair: the simulator writes on the
// master while the code under test opens the slave path like a real serial
// port, so the whole serial code path runs without hardware.
//
// Realistic sample messages (fake patients) ship embedded: see Samples.
package sim

// Protocol names a wire protocol.
type Protocol string

// The protocols an Instrument can speak.
const (
	ASTM Protocol = "astm" // ASTM E1381/E1394 (LIS01-A2/LIS02-A2)
	HL7  Protocol = "hl7"  // HL7 v2 over MLLP
	Line Protocol = "line" // one text reading per line
)
