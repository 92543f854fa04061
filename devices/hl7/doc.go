// Package hl7 parses and builds HL7 v2 messages and frames them with MLLP.
//
// A message declares its own separators in MSH-1 and MSH-2; Parse honours
// them, splits segments on CR (tolerating LF and CR LF), and gives access by
// field, repetition, component and subcomponent with escape sequences
// decoded. Typed views cover what instruments send: MSH, PID, ORC, OBR,
// SPM, OBX and NTE, and Observations walks the message to give each OBX
// with the patient, order and specimen it belongs to. Values are kept as
// the strings that were sent.
//
// NewACK builds the acknowledgement (MSA AA, AE or AR) in the separators of
// the message it answers. MLLPReader and WriteMLLP move messages over any
// byte stream: a serial port or a TCP connection.
package hl7
