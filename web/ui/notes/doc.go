// Package notes is the documentation side of a visit: the note editor
// (answers saved as the clinician types, comments, sign-off, addenda, the
// patient's observations of the day beside it) and the printed visit summary
// and results report. The note-template builder is an admin page (package
// admin).
//
// The note's answers and comments are the rows the telehealth API's
// visit-note endpoints read and write: a note written here reads back there,
// and the reverse.
package notes
