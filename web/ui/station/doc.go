// Package station is the instrument pages: a station page per device group
// where clinicians choose the current patient, watch readings arrive live
// and assign unmatched results; and the download of a file in a patient's
// record (GET /patient-files/{id}), for the patient page. The admin pages
// for devices and instrument API clients are in package admin.
package station
