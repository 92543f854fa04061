// Package devices runs the clinic's instruments: it opens each configured
// serial port (by path, or by the USB serial number of its adapter) or TCP
// listener, runs the device's protocol driver over it, stores the raw bytes
// of every message before the instrument gets its acknowledgement, and
// ingests the message into observations on the right patient.
//
// A Manager owns one goroutine per device. A device whose port fails or
// vanishes (a pulled cable, a re-enumerated USB adapter) is reopened with
// backoff while the others go on; the device list is re-read from the store
// every few seconds, so a device added with `clinicbox device add` on a
// running server is picked up without a restart.
//
// go.bug.st/serial is used only in this package. The protocol parsers live
// in the subpackages astm, hl7 and line; the simulators in sim.
package devices
