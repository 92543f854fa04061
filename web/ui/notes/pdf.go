package notes

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// maxResultsDays bounds a results report's period.
const maxResultsDays = 3660

func (h *handlers) sendPDF(w http.ResponseWriter, name string, pdf []byte) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(pdf)
}

// plainError is the answer of the PDF addresses to bad input: they are
// fetched by scripts as often as by browsers, so a short text says what to fix.
func plainError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// summaryPDF: GET /appointments/{id}/summary.pdf, printed now (a signed
// note's summary as of its sign-off is also attached to the appointment).
func (h *handlers) summaryPDF(w http.ResponseWriter, r *http.Request) {
	if h.pdfs == nil {
		plainError(w, http.StatusServiceUnavailable, "PDF printing is not configured")
		return
	}
	u := user(r)
	sum, err := h.st.VisitSummary(r.Context(), u.OrgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pdf, err := h.pdfs.VisitSummary(sum, Lang(r))
	if err != nil {
		h.fail(w, r, fmt.Errorf("print visit summary: %w", err))
		return
	}
	h.st.AuditRead(r.Context(), u.OrgID, "visit-summary", fmt.Sprint(sum.Appointment.ID), sum.Patient.ID)
	h.sendPDF(w, summaryFileName(sum, sum.Appointment.Start), pdf)
}

// resultsPDF: GET /patients/{id}/results.pdf?from=YYYY-MM-DD&to=YYYY-MM-DD,
// both days included, in the clinic's time zone.
func (h *handlers) resultsPDF(w http.ResponseWriter, r *http.Request) {
	if h.pdfs == nil {
		plainError(w, http.StatusServiceUnavailable, "PDF printing is not configured")
		return
	}
	ctx := r.Context()
	u := user(r)
	rooms, err := h.st.WaitingRooms(ctx, u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	loc := time.UTC
	if len(rooms) > 0 {
		loc = rooms[0].Location()
	}
	from, to, msg := ParsePeriod(r.URL.Query().Get("from"), r.URL.Query().Get("to"), loc)
	if msg != "" {
		plainError(w, http.StatusBadRequest, msg)
		return
	}
	pat, err := h.st.PatientBy(ctx, u.OrgID, store.ByID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	obs, err := h.st.PatientResults(ctx, u.OrgID, pat.ID, from, to)
	if err != nil {
		if ve := (*store.ValidationError)(nil); errors.As(err, &ve) {
			plainError(w, http.StatusBadRequest, layout.LocalMessage(r.Context(), ve))
			return
		}
		h.fail(w, r, err)
		return
	}
	org, err := h.st.Org(ctx, u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pdf, err := h.pdfs.Results(org, pat, from, to.AddDate(0, 0, -1), loc, obs, Lang(r), h.st.Now())
	if err != nil {
		h.fail(w, r, fmt.Errorf("print results: %w", err))
		return
	}
	h.st.AuditRead(ctx, u.OrgID, "results-report", fmt.Sprint(pat.ID), pat.ID)
	h.sendPDF(w, fmt.Sprintf("results-%d-%s-%s.pdf", pat.ID, from.Format("20060102"), to.AddDate(0, 0, -1).Format("20060102")), pdf)
}

// ParsePeriod reads a report period of whole days, from and to included;
// it returns [from, day after to) in loc, or a message saying what is wrong.
func ParsePeriod(fromS, toS string, loc *time.Location) (from, to time.Time, msg string) {
	if fromS == "" || toS == "" {
		return from, to, "from and to are required, as YYYY-MM-DD (for example ?from=2026-01-01&to=2026-12-31)"
	}
	from, err := time.ParseInLocation("2006-01-02", fromS, loc)
	if err != nil {
		return from, to, fmt.Sprintf("from: %q is not a date as YYYY-MM-DD", fromS)
	}
	last, err := time.ParseInLocation("2006-01-02", toS, loc)
	if err != nil {
		return from, to, fmt.Sprintf("to: %q is not a date as YYYY-MM-DD", toS)
	}
	if last.Before(from) {
		return from, to, "to must not be before from"
	}
	to = last.AddDate(0, 0, 1)
	if to.Sub(from) > maxResultsDays*24*time.Hour {
		return from, to, fmt.Sprintf("the period may be at most %d days", maxResultsDays)
	}
	return from, to, ""
}
