// Package monitoring is the remote patient monitoring API face (/api/auth,
// /api/patients, /api/observations, /api/enrollments, /api/alerts,
// /api/billing, ...), as documented in
// shared/specs/remote-monitoring-vitaledge-api.txt: a thin translation
// between that wire format and the one clinic model in store. Its patients
// are the clinic's patients, its observations rows of the one observations
// table, its users the clinic's staff with the same second factor.
//
// Ids on the wire are opaque prefixed strings (org_…, patient_…, obs_…,
// enr_…, alert_…, user_…, time_…, metric_…). Errors are
// {"error":{"code":"...","message":"..."}}.
package monitoring
