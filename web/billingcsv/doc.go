// Package billingcsv writes the monthly remote-monitoring billing export:
// one row per billable CPT code and enrollment. The monitoring API
// (GET /api/billing/export/...) and the monitoring pages
// (/monitoring/billing/{month}/export.csv) both answer with it, so a file
// downloaded from either is the same.
package billingcsv
