package billingcsv

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
)

// Header is the export's header row.
var Header = []string{"month", "enrollment_id", "patient_id", "patient_name", "mrn", "program", "cpt_code", "units",
	"reading_days", "minutes", "interactive_communication"}

// The ids are the monitoring API's public ids (web/api/monitoring/ids.go),
// so a row can be looked up through the API.
const (
	prefixEnrollment = "enr_"
	prefixPatient    = "patient_"
)

// Filename is the download's name for a month ("rpm-billing-2026-12.csv").
func Filename(month string) string { return "rpm-billing-" + month + ".csv" }

// Write writes the header and the rows of months to w.
func Write(w io.Writer, months []store.BillingMonth) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return err
	}
	for _, b := range months {
		for _, l := range b.Lines {
			err := cw.Write([]string{b.Month, prefixEnrollment + b.Enrollment.UUID, prefixPatient + b.Enrollment.PatientUUID,
				Safe(strings.TrimSpace(b.PatientName)), Safe(b.PatientMRN), b.Enrollment.Program, l.Code, strconv.Itoa(l.Units),
				strconv.Itoa(b.ReadingDays), strconv.Itoa(b.Minutes), strconv.FormatBool(b.Interactive)})
			if err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// Safe keeps a spreadsheet from reading a cell as a formula: a value that
// starts with = + - @ or a tab or carriage return gets a leading quote.
func Safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
