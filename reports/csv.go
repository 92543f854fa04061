package reports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// CSV writes a header line of columns and one line per appointment of the
// organisation that starts in [from, to), with its patient, to w. Unknown
// column names are an error. It returns the number of data lines.
func CSV(ctx context.Context, st *store.Store, orgID int64, from, to time.Time, columns []string, w io.Writer) (int, error) {
	for _, c := range columns {
		if _, ok := columnValues[c]; !ok {
			return 0, fmt.Errorf("csv: unknown column %q", c)
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(columns); err != nil {
		return 0, fmt.Errorf("csv: %w", err)
	}
	n := 0
	rec := make([]string, len(columns))
	err := st.ReportRows(ctx, orgID, from, to, func(r *store.ReportRow) error {
		for i, c := range columns {
			rec[i] = cell(columnValues[c](r))
		}
		n++
		return cw.Write(rec)
	})
	if err != nil {
		return n, fmt.Errorf("csv: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("csv: %w", err)
	}
	return n, nil
}

// cell keeps a spreadsheet from reading a text value as a formula: a value
// starting with = + - @ or a control character gets a leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func id(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// columnValues fills each of store.ReportColumns.
var columnValues = map[string]func(*store.ReportRow) string{
	"appointmentId":     func(r *store.ReportRow) string { return id(r.Appointment.ID) },
	"appointmentUuid":   func(r *store.ReportRow) string { return r.Appointment.UUID },
	"externalId":        func(r *store.ReportRow) string { return r.Appointment.ExternalID },
	"date":              func(r *store.ReportRow) string { return ts(r.Appointment.Start) },
	"duration":          func(r *store.ReportRow) string { return strconv.Itoa(r.Appointment.Duration) },
	"status":            func(r *store.ReportRow) string { return r.Appointment.Status },
	"videoStatus":       func(r *store.ReportRow) string { return r.Appointment.VideoStatus },
	"waitingRoom":       func(r *store.ReportRow) string { return r.WaitingRoom },
	"provider":          func(r *store.ReportRow) string { return r.Provider },
	"reasons":           func(r *store.ReportRow) string { return strings.Join(r.Appointment.Reasons, "; ") },
	"accountNumber":     func(r *store.ReportRow) string { return r.Appointment.AccountNumber },
	"episodeId":         func(r *store.ReportRow) string { return id(r.Appointment.EpisodeID) },
	"patientId":         func(r *store.ReportRow) string { return id(r.Patient.ID) },
	"patientExternalId": func(r *store.ReportRow) string { return r.Patient.ExternalID },
	"mrn":               func(r *store.ReportRow) string { return r.Patient.MRN },
	"firstName":         func(r *store.ReportRow) string { return r.Patient.FirstName() },
	"middleName":        func(r *store.ReportRow) string { return r.Patient.MiddleName() },
	"lastName":          func(r *store.ReportRow) string { return r.Patient.LastName() },
	"birthDate":         func(r *store.ReportRow) string { return r.Patient.BirthDate },
	"gender":            func(r *store.ReportRow) string { return r.Patient.Gender },
	"createdAt":         func(r *store.ReportRow) string { return ts(r.Appointment.CreatedAt) },
	"arrivedAt":         func(r *store.ReportRow) string { return ts(r.Appointment.ArrivedAt) },
	"startedAt":         func(r *store.ReportRow) string { return ts(r.Appointment.StartedAt) },
	"completedAt":       func(r *store.ReportRow) string { return ts(r.Appointment.CompletedAt) },
	"cancelledAt":       func(r *store.ReportRow) string { return ts(r.Appointment.CancelledAt) },
}
