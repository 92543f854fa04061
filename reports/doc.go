// Package reports generates the appliance's reports: CSV data dumps of
// visits and password-protected (WinZip AES-256) zip reports.
package reports
