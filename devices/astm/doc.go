// Package astm implements the two ASTM layers that clinical analysers speak
// over a serial line:
//
//   - the E1381 (CLSI LIS01-A2) link layer: a state machine that bids for the
//     line with ENQ, moves frames of at most 240 characters with a checksum
//     and a frame number, and ends with EOT (see [Link]);
//   - the E1394 (CLSI LIS02-A2) record layer: header, patient, order, result,
//     comment, query, manufacturer and terminator records (see [Parse] and
//     [Encode]).
//
// The package never touches storage: it turns bytes into a [Message] whose
// values are kept as the strings the instrument sent ("7,41", ">8", "3+"),
// and turns a [Message] back into records for host-query answers.
//
// The link layer runs over any io.ReadWriter (a serial port, a pty, a pipe)
// and takes its time from a [Clock], so tests drive the 10, 15, 20 and 30
// second timers of the standard without waiting.
package astm
