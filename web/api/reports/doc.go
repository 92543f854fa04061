// Package reports is the reporting API (/api/reports/v1): statistics and
// management reports over the clinic model, as JSON or CSV, and the
// complete report about one patient (every record, every access) for an
// access request. Clients use the OAuth2 tokens of the FHIR face with the
// scope reports.read.
package reports
