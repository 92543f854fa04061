package telehealth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// ReportJobs writes the CSV data dump and generates encounter reports in
// the background (reports.Jobs, wired in by cmd).
type ReportJobs interface {
	WriteCSV(ctx context.Context, orgID int64, from, to time.Time, columns []string, w io.Writer) (int, error)
	Submit(ctx context.Context, orgID int64, r *store.EncounterReport, password string) error
}

// maxReportRange bounds a report's date range.
const maxReportRange = 366 * 24 * time.Hour

// csvDataDump: GET /qapi/v1/reports/csv-data-dump?from=YYYY-MM-DD&to=YYYY-MM-DD.
// Both dates are required and inclusive (UTC days): from=2020-02-10&to=2020-02-11
// covers appointments starting from 2020-02-10T00:00:00Z up to, not
// including, 2020-02-12T00:00:00Z. The body is the CSV with every column of
// store.ReportColumns.
func (h *Handler) csvDataDump(w http.ResponseWriter, r *http.Request) {
	var v store.Validator
	q := r.URL.Query()
	day := func(name string) time.Time {
		s := q.Get(name)
		if s == "" {
			v.Add(name, "This value should not be blank.")
			return time.Time{}
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			v.Add(name, "This value is not a valid date (YYYY-MM-DD).")
		}
		return t
	}
	from, to := day("from"), day("to")
	if v.Err() == nil {
		v.Check(!to.Before(from), "to", "This value should be on or after from.")
		v.Check(to.Sub(from) < maxReportRange, "to", "The date range should be at most 366 days.")
	}
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	if h.reports == nil {
		writeError(w, http.StatusServiceUnavailable, "Report generation is not available")
		return
	}
	end := to.AddDate(0, 0, 1)
	h.store.AuditRead(r.Context(), orgID(r), "csv-data-dump", q.Get("from")+".."+q.Get("to"), 0)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="csv-data-dump-%s-%s.csv"`, q.Get("from"), q.Get("to")))
	w.Header().Set("Cache-Control", "no-store")
	if _, err := h.reports.WriteCSV(r.Context(), orgID(r), from, end, store.ReportColumns, w); err != nil {
		// The status is sent already: log, and cut the connection so the
		// client sees a failed download rather than a short file.
		h.log.Error("telehealth api: csv data dump", "err", err)
		panic(http.ErrAbortHandler)
	}
}

type encounterReportInput struct {
	From     *string `json:"from" format:"date-time"`
	To       *string `json:"to" format:"date-time"`
	PresetID *string `json:"presetId" format:"uuid"`
	Password *string `json:"password" bound:"reportPassword"`
}

type reportStatusJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// createEncounterReport: POST /qapi/v1/encounter-report/create. Stores a
// pending order and generates the zipped CSV in the background; answers 201
// with {"id", "status": "pending"}.
func (h *Handler) createEncounterReport(w http.ResponseWriter, r *http.Request) {
	if h.reports == nil {
		writeError(w, http.StatusServiceUnavailable, "Report generation is not available")
		return
	}
	var in encounterReportInput
	if err := httpx.DecodeJSON(w, r, &in, 16<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	var v store.Validator
	atom := func(name string, s *string) time.Time {
		if s == nil || *s == "" {
			v.Add(name, "This value should not be blank.")
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, *s)
		if err != nil {
			v.Add(name, "This value is not a valid datetime (ATOM format, e.g. 2024-08-15T15:52:01+00:00).")
		}
		return t.UTC()
	}
	from, to := atom("from", in.From), atom("to", in.To)
	if !from.IsZero() && !to.IsZero() {
		v.Check(from.Before(to), "to", "This value should be after from.")
		v.Check(to.Sub(from) <= maxReportRange, "to", "The date range should be at most 366 days.")
	}
	var preset *store.ReportPreset
	switch {
	case in.PresetID == nil || *in.PresetID == "":
		v.Add("presetId", "This value should not be blank.")
	case !store.IsUUID(*in.PresetID):
		v.Add("presetId", "This is not a valid UUID.")
	default:
		p, err := h.store.ReportPreset(r.Context(), orgID(r), strings.ToLower(*in.PresetID))
		if errors.Is(err, store.ErrNotFound) {
			v.Add("presetId", "Preset not found.")
		} else if err != nil {
			h.fail(w, r, err)
			return
		}
		preset = p
	}
	switch {
	case in.Password == nil || *in.Password == "":
		v.Add("password", "This value should not be blank.")
	case utf8.RuneCountInString(*in.Password) < store.MinReportPassword:
		v.Add("password", fmt.Sprintf("This value is too short. It should have %d characters or more.", store.MinReportPassword))
	case utf8.RuneCountInString(*in.Password) > store.MaxReportPassword:
		v.Add("password", fmt.Sprintf("This value is too long. It should have %d characters or less.", store.MaxReportPassword))
	}
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	rep := &store.EncounterReport{From: from, To: to, PresetID: preset.ID}
	if err := h.reports.Submit(r.Context(), orgID(r), rep, *in.Password); err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, reportStatusJSON{ID: rep.UUID, Status: rep.Status})
}

func (h *Handler) reportFromPath(r *http.Request) (*store.EncounterReport, error) {
	id := strings.ToLower(r.PathValue("reportId"))
	if !store.IsUUID(id) {
		return nil, notFound("Report")
	}
	rep, err := h.store.EncounterReport(r.Context(), orgID(r), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("Report")
	}
	return rep, err
}

// encounterReportStatus: GET /qapi/v1/encounter-report/status/{reportId}:
// {"id", "status"} with status pending, completed or failed.
func (h *Handler) encounterReportStatus(w http.ResponseWriter, r *http.Request) {
	rep, err := h.reportFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, reportStatusJSON{ID: rep.UUID, Status: rep.Status})
}

// downloadEncounterReport: GET /qapi/v1/encounter-report/download/{reportId}:
// the password-protected zip (application/octet-stream). A report that is
// not completed is a 409 saying its status.
func (h *Handler) downloadEncounterReport(w http.ResponseWriter, r *http.Request) {
	rep, err := h.reportFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch rep.Status {
	case store.ReportPending:
		writeError(w, http.StatusConflict, "Report is not ready yet (status: pending)")
		return
	case store.ReportFailed:
		writeError(w, http.StatusConflict, "Report generation failed: "+rep.Error)
		return
	}
	zip, err := h.store.EncounterReportZip(r.Context(), orgID(r), rep.UUID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), orgID(r), "encounter-report", rep.UUID, 0)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="encounter-report-%s.zip"`, rep.UUID))
	w.Header().Set("Content-Length", fmt.Sprint(len(zip)))
	w.Write(zip)
}
