// Package lis delivers results to laboratory information systems as HL7 v2
// ORU^R01 over MLLP (TCP, optionally TLS). It is a consumer of the events
// outbox: each final result (or each completed encounter, per destination)
// becomes a message that is stored, byte for byte, before it is sent; the
// message then waits for its ACK and is retried after AE, AR, a time-out
// or a lost connection until the LIS accepts it with AA. An accepted
// message is never sent again. Values go out exactly as the analyser sent
// them.
package lis
