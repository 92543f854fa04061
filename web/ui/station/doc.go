// Package station is the instrument pages: a station page per device group
// where clinicians choose the current patient, watch readings arrive live
// and assign unmatched results; and the admin pages for devices (ports
// present, live state, raw message log, re-running ingestion) and for
// instrument API clients; and the download of a file in a patient's record
// (GET /patient-files/{id}), for the patient page.
package station
