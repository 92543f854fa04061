package monitoring

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/billingcsv"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

func user(r *http.Request) *store.User { return auth.UserFrom(r.Context()) }

func (h *handlers) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	if err := layout.Render(w, r, status, c); err != nil {
		h.log.Error("render", "path", r.URL.Path, "err", err)
	}
}

// fail answers an error that is not a field error: not found is a 404 page,
// anything unknown a logged 500 that reveals nothing.
func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	status, msg := http.StatusInternalServerError, text.T(ctx).InternalError
	var ve *store.ValidationError
	switch {
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, text.T(ctx).NotFound
	case errors.As(err, &ve):
		status, msg = http.StatusBadRequest, layout.LocalMessage(ctx, ve)
	case errors.Is(err, store.ErrConflict):
		status, msg = http.StatusConflict, layout.LocalMessage(ctx, err)
	default:
		h.log.Error("page", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.render(w, r, status, messagePage(layout.PageProps{Title: msg, User: user(r)}, msg))
}

func (h *handlers) page(w http.ResponseWriter, r *http.Request, title string, crumbs ...layout.Crumb) layout.PageProps {
	return layout.PageProps{Title: title, User: user(r), Active: layout.NavMonitoring, Flash: layout.TakeFlash(w, r),
		Scripts: []string{"/assets/monitoring.js"}, Crumbs: crumbs}
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	return r.ParseForm()
}

// WorklistProps is the alert worklist.
type WorklistProps struct {
	Page   layout.PageProps
	Alerts []store.Alert
	Now    time.Time
}

// worklist: GET /monitoring (?fragment=1 answers the list alone, for the
// live refresh).
func (h *handlers) worklist(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	as, err := h.st.Triage(r.Context(), u.OrgID, 200)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := WorklistProps{Page: h.page(w, r, i18n.T(r.Context(), "MonWorklistTitle")), Alerts: as, Now: h.st.Now()}
	if httpx.IsFragment(r) || r.URL.Query().Get("fragment") == "1" {
		h.render(w, r, http.StatusOK, worklistTable(p))
		return
	}
	h.render(w, r, http.StatusOK, worklistPage(p))
}

// worklistEvents: GET /monitoring/events, the live stream of alert events.
func (h *handlers) worklistEvents(w http.ResponseWriter, r *http.Request) {
	if h.live == nil {
		http.Error(w, i18n.T(r.Context(), "PlainLiveOff"), http.StatusServiceUnavailable)
		return
	}
	h.live.Stream(w, r, user(r).OrgID, func(e store.Event) bool { return strings.HasPrefix(e.Type, "alert:") })
}

// resolveAlert: POST /monitoring/alerts/{id}/resolve (note required).
func (h *handlers) resolveAlert(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	u := user(r)
	back := localBack(r.PostForm.Get("back"), "/monitoring")
	err := h.st.ResolveAlerts(r.Context(), u.OrgID, u.ID, []string{r.PathValue("id")}, r.PostForm.Get("note"))
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "MonResolveNeedsNote"))
	case err != nil:
		h.fail(w, r, err)
		return
	default:
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "MonAlertResolved"))
	}
	redirect(w, r, back)
}

func localBack(p, def string) string {
	if strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\\r\n") {
		return p
	}
	return def
}

// enroll: POST /patients/{id}/enrollments (program; the default rules).
func (h *handlers) enroll(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	u := user(r)
	pid, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	e := &store.Enrollment{PatientID: pid, Program: r.PostForm.Get("program"), StartDate: h.st.Now().Format(time.DateOnly),
		CareTeam: []int64{u.ID}, Rules: store.DefaultAlertRules()}
	if err := h.st.CreateEnrollment(r.Context(), u.OrgID, e); err != nil {
		var ve *store.ValidationError
		if errors.As(err, &ve) {
			err = store.ErrNotFound // a patient of another organisation (or none)
			if ve.Fields["patientId"] == "" {
				err = ve
			}
		}
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "MonEnrolled", "Program", e.Program))
	redirect(w, r, "/monitoring/enrollments/"+e.UUID)
}

// EnrollmentProps is the enrollment page.
type EnrollmentProps struct {
	Page       layout.PageProps
	E          *store.Enrollment
	Patient    *store.Patient
	Charts     []Chart
	Readings   []store.Reading
	Alerts     []store.Alert
	Time       []store.TimeEntry
	Billing    *store.BillingMonth
	Month      string
	TotalMins  int
	Loc        *time.Location
	FormErrors map[string]string
	Now        time.Time
}

// enrollment: GET /monitoring/enrollments/{id}?month=YYYY-MM.
func (h *handlers) enrollment(w http.ResponseWriter, r *http.Request) {
	p, err := h.enrollmentProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, enrollmentPage(*p))
}

func (h *handlers) enrollmentProps(w http.ResponseWriter, r *http.Request) (*EnrollmentProps, error) {
	ctx := r.Context()
	u := user(r)
	e, err := h.st.Enrollment(ctx, u.OrgID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	pat, err := h.st.Patient(ctx, u.OrgID, e.PatientID)
	if err != nil {
		return nil, err
	}
	now := h.st.Now()
	month := r.URL.Query().Get("month")
	from, to, err := store.ParseMonth(month)
	if err != nil {
		month = now.Format("2006-01")
		from, to, _ = store.ParseMonth(month)
	}
	// Times are shown in the clinic's zone, as on the other pages; the
	// chart's 30 days start at a local midnight so that its day ticks fall
	// on the days they name.
	loc := h.clinicLocation(ctx, u.OrgID)
	y, m, d := now.In(loc).AddDate(0, 0, -30).Date()
	chartFrom := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if to.Before(now) {
		chartFrom, now = from, to
	}
	rs, err := h.st.Readings(ctx, u.OrgID, store.ReadingFilter{PatientID: e.PatientID, HomeOnly: true, From: chartFrom, To: now.Add(time.Hour), Limit: 1000})
	if err != nil {
		return nil, err
	}
	defs := map[string]*store.MetricDefinition{}
	all, err := h.st.MetricDefinitions(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	for i := range all {
		defs[all[i].Key] = &all[i]
	}
	alerts, err := h.st.Alerts(ctx, u.OrgID, store.AlertFilter{EnrollmentID: e.ID, Limit: 50})
	if err != nil {
		return nil, err
	}
	te, err := h.st.TimeEntries(ctx, u.OrgID, e.UUID, from, to)
	if err != nil {
		return nil, err
	}
	b, err := h.st.EnrollmentBilling(ctx, u.OrgID, e.UUID, month)
	if err != nil {
		return nil, err
	}
	p := &EnrollmentProps{
		Page: h.page(w, r, i18n.T(ctx, "MonPageTitle", "Name", pat.DisplayName()),
			layout.Crumb{Label: text.T(ctx).NavPatients, Href: "/patients"},
			layout.Crumb{Label: pat.DisplayName(), Href: "/patients/" + strconv.FormatInt(pat.ID, 10)},
			layout.Crumb{Label: i18n.T(ctx, "MonEnrollmentCrumb", "Program", e.Program)}),
		E: e, Patient: pat, Charts: buildCharts(rs, e.Rules, defs, chartFrom, now, loc), Readings: rs, Alerts: alerts,
		Time: te, Billing: b, Month: month, Loc: loc, Now: h.st.Now(),
	}
	if len(p.Readings) > 50 {
		p.Readings = p.Readings[:50]
	}
	for _, t := range te {
		p.TotalMins += int(t.Duration / time.Minute)
	}
	return p, nil
}

// clinicLocation is the zone the organisation's times are shown in, as
// the board and the notes pages do: its first waiting room's, else the
// server's.
func (h *handlers) clinicLocation(ctx context.Context, orgID int64) *time.Location {
	if rooms, err := h.st.WaitingRooms(ctx, orgID); err == nil && len(rooms) > 0 {
		return rooms[0].Location()
	}
	return time.Local
}

// logTime: POST /monitoring/enrollments/{id}/time (minutes, interactive,
// note; the timer on the page fills minutes in).
func (h *handlers) logTime(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	u := user(r)
	// "7,5" is how a Danish user types seven and a half.
	mins, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(r.PostForm.Get("minutes")), ",", ".", 1), 64)
	back := "/monitoring/enrollments/" + r.PathValue("id")
	if err != nil || mins <= 0 || mins > 24*60 {
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "MonMinutesInvalid"))
		redirect(w, r, back)
		return
	}
	d := time.Duration(mins * float64(time.Minute)).Round(time.Second)
	t := &store.TimeEntry{UserID: u.ID, Duration: d, StartedAt: h.st.Now().Add(-d), Interactive: r.PostForm.Get("interactive") == "on",
		Note: r.PostForm.Get("note")}
	err = h.st.LogTime(r.Context(), u.OrgID, r.PathValue("id"), t)
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		layout.SetFlash(w, layout.FlashError, layout.LocalMessage(r.Context(), ve))
	case err != nil:
		h.fail(w, r, err)
		return
	default:
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "MonTimeLogged", "Minutes", i18n.Decimal(r.Context(), strconv.FormatFloat(mins, 'f', -1, 64))))
	}
	redirect(w, r, back)
}

// BillingProps is the monthly billing page.
type BillingProps struct {
	Page   layout.PageProps
	Month  string
	Prev   string
	Next   string
	Rows   []store.BillingMonth
	Totals map[string]int
	Codes  []string
}

// billing: GET /monitoring/billing?month=YYYY-MM.
func (h *handlers) billing(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	month := r.URL.Query().Get("month")
	from, _, err := store.ParseMonth(month)
	if err != nil {
		month = h.st.Now().Format("2006-01")
		from, _, _ = store.ParseMonth(month)
	}
	rows, err := h.st.BillingSummary(r.Context(), u.OrgID, month)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := BillingProps{Page: h.page(w, r, i18n.T(r.Context(), "MonBillingTitle", "Month", monthName(r.Context(), month))), Month: month, Rows: rows, Totals: map[string]int{},
		Prev: from.AddDate(0, -1, 0).Format("2006-01"), Next: from.AddDate(0, 1, 0).Format("2006-01"),
		Codes: []string{store.CPTSetup, store.CPTSupplyShort, store.CPTSupply, store.CPTManageShort, store.CPTManage, store.CPTManageAddition}}
	for _, b := range rows {
		for _, l := range b.Lines {
			p.Totals[l.Code] += l.Units
		}
	}
	h.render(w, r, http.StatusOK, billingPage(p))
}

// billingCSV: GET /monitoring/billing/{month}/export.csv, the same rows the
// API's export answers.
func (h *handlers) billingCSV(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	month := r.PathValue("month")
	rows, err := h.st.BillingSummary(r.Context(), u.OrgID, month)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+billingcsv.Filename(month)+`"`)
	// The status line is sent; a write error is the client going away.
	_ = billingcsv.Write(w, rows)
}

var _ = context.Background
