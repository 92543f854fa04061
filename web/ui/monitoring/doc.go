// Package monitoring is the clinicians' remote-monitoring pages: the alert
// worklist (live), a patient's enrollment with trend charts drawn on the
// server, readings, the time log with a timer, the month's billing
// readiness, and the monthly billing page with its CSV export. They read
// and write the same model as the monitoring API (web/api/monitoring).
package monitoring
