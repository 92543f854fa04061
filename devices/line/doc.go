// Package line reads instruments that print one reading per text line,
// such as scales and thermometers ("WT 72.4 kg", "TEMP: 37.2 C").
//
// A Parser applies a regular expression with named groups code, value,
// unit and flags (only value is required) to each line; a Reader splits a
// byte stream into lines. The value is kept exactly as printed: "72,4",
// "+0072.40" and ">33.3" are not reformatted.
package line
