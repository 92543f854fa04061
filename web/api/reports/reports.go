package reports

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// word is this API's wording of a classified error.
func word(p httpx.Problem) (code, msg string, fields map[string]string) {
	switch {
	case p.Status >= 500:
		return "internal", p.Msg, nil
	case p.Status == http.StatusNotFound:
		return "not_found", "no such patient", nil
	case p.Msg == "":
		return "invalid", http.StatusText(p.Status), nil
	}
	return "invalid", p.Msg, nil
}

// fail renders err in the OAuth2 faces' error shape (httpx.APIErrors).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpx.APIErrors{Log: h.log, Name: "reports api", Word: word}.Fail(w, r, err)
}

func orgID(r *http.Request) int64 { return store.ActorFrom(r.Context()).OrgID }

func bad(format string, args ...any) error {
	return httpx.Error(http.StatusBadRequest, fmt.Sprintf(format, args...))
}

// period reads from and to (dates, YYYY-MM-DD, both included) in the time
// zone tz (default UTC): the period is [from 00:00, the day after to 00:00).
func period(r *http.Request) (from, to time.Time, loc *time.Location, err error) {
	q := r.URL.Query()
	loc = time.UTC
	if tz := q.Get("tz"); tz != "" {
		if loc, err = time.LoadLocation(tz); err != nil {
			return from, to, nil, bad("tz must be an IANA time zone such as Europe/Copenhagen")
		}
	}
	parse := func(name string) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, bad("%s is required (YYYY-MM-DD)", name)
		}
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return time.Time{}, bad("%s must be a date as YYYY-MM-DD", name)
		}
		return t, nil
	}
	if from, err = parse("from"); err != nil {
		return
	}
	if to, err = parse("to"); err != nil {
		return
	}
	to = to.AddDate(0, 0, 1)
	if !to.After(from) {
		return from, to, loc, bad("to must not be before from")
	}
	if to.Sub(from) > 367*24*time.Hour {
		return from, to, loc, bad("a report covers at most a year")
	}
	return from, to, loc, nil
}

// table is a report as rows of named columns, written as JSON or CSV.
type table struct {
	Report  string           `json:"report"`
	From    string           `json:"from,omitempty"`
	To      string           `json:"to,omitempty"`
	Columns []string         `json:"columns"`
	Rows    []map[string]any `json:"rows"`
}

// write answers t as CSV (?format=csv or Accept: text/csv) or JSON.
func write(w http.ResponseWriter, r *http.Request, t *table) {
	format := r.URL.Query().Get("format")
	if format == "" && strings.Contains(r.Header.Get("Accept"), "text/csv") {
		format = "csv"
	}
	if t.Rows == nil {
		t.Rows = []map[string]any{}
	}
	switch format {
	case "", "json":
		httpx.JSON(w, http.StatusOK, t)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+t.Report+`.csv"`)
		cw := csv.NewWriter(w)
		cw.Write(t.Columns)
		for _, row := range t.Rows {
			rec := make([]string, len(t.Columns))
			for i, c := range t.Columns {
				rec[i] = cell(row[c])
			}
			cw.Write(rec)
		}
		cw.Flush()
	default:
		httpx.WriteAPIError(w, http.StatusBadRequest, "invalid", "format must be json or csv", nil)
	}
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		// A cell that a spreadsheet would run as a formula is quoted as text.
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case *float64:
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// round keeps two decimals; nil when there is nothing to divide.
func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := math.Round(float64(n)/float64(d)*10000) / 10000
	return &v
}

func avgMinutes(sum time.Duration, n int) *float64 {
	if n == 0 {
		return nil
	}
	v := math.Round(sum.Minutes()/float64(n)*10) / 10
	return &v
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	type report struct {
		Name      string `json:"name"`
		Path      string `json:"path,omitempty"`
		Available bool   `json:"available"`
		Note      string `json:"note,omitempty"`
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"reports": []report{
		{"appointments", "/api/reports/v1/appointments", true, "per day, waiting room or clinician: no-show and LWBS rates, waiting times, visit durations"},
		{"results", "/api/reports/v1/results", true, "results per device and code"},
		{"qc", "/api/reports/v1/qc", true, "QC runs and failure rates per device and code"},
		{"patient", "/api/reports/v1/patients/{id}", true, "everything kept about one patient and every access to it"},
		{"monitoring-adherence", "/api/reports/v1/monitoring-adherence", true,
			"per enrollment and month: days with device readings against the 16 required, minutes of monitoring time logged"},
	}})
}

// appointments groups the appointments of the period by day (in tz),
// waiting room or clinician.
func (h *Handler) appointments(w http.ResponseWriter, r *http.Request) {
	from, to, loc, err := period(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "day"
	}
	if by != "day" && by != "waiting-room" && by != "clinician" {
		h.fail(w, r, bad("by must be day, waiting-room or clinician"))
		return
	}
	facts, err := h.store.AppointmentFacts(r.Context(), orgID(r), from, to)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type group struct {
		key, label                                          string
		total, completed, cancelled, noShow, lwbs, waits, n int
		waitSum, visitSum                                   time.Duration
		waitMax                                             time.Duration
	}
	groups := map[string]*group{}
	for _, f := range facts {
		key, label := "", ""
		switch by {
		case "day":
			key = f.Start.In(loc).Format(time.DateOnly)
			label = key
		case "waiting-room":
			key, label = strconv.FormatInt(f.WaitingRoomID, 10), f.WaitingRoom
		case "clinician":
			key, label = strconv.FormatInt(f.ProviderID, 10), f.Provider
			if f.ProviderID == 0 {
				label = "(no clinician)"
			}
		}
		g := groups[key]
		if g == nil {
			g = &group{key: key, label: label}
			groups[key] = g
		}
		g.total++
		switch f.Status {
		case store.StatusCompleted, store.StatusSignOff:
			g.completed++
		case store.StatusCancelled:
			g.cancelled++
		case store.StatusNoShow:
			g.noShow++
		}
		if f.VideoStatus == "LWBS" {
			g.lwbs++
		}
		if !f.ArrivedAt.IsZero() && !f.StartedAt.IsZero() && !f.StartedAt.Before(f.ArrivedAt) {
			d := f.StartedAt.Sub(f.ArrivedAt)
			g.waits++
			g.waitSum += d
			g.waitMax = max(g.waitMax, d)
		}
		if !f.StartedAt.IsZero() && !f.CompletedAt.IsZero() && !f.CompletedAt.Before(f.StartedAt) {
			g.n++
			g.visitSum += f.CompletedAt.Sub(f.StartedAt)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if by == "day" {
			return keys[i] < keys[j]
		}
		return groups[keys[i]].label < groups[keys[j]].label
	})
	t := &table{Report: "appointments-by-" + by, From: from.Format(time.DateOnly), To: to.AddDate(0, 0, -1).Format(time.DateOnly),
		Columns: []string{by, "appointments", "completed", "cancelled", "noShow", "lwbs", "noShowRate", "lwbsRate",
			"waited", "avgWaitMinutes", "maxWaitMinutes", "visits", "avgVisitMinutes"}}
	for _, k := range keys {
		g := groups[k]
		// Rates are of the appointments that were not cancelled: a
		// cancelled visit could neither be missed nor walked out of.
		held := g.total - g.cancelled
		var maxWait *float64
		if g.waits > 0 {
			v := math.Round(g.waitMax.Minutes()*10) / 10
			maxWait = &v
		}
		t.Rows = append(t.Rows, map[string]any{by: g.label, "appointments": g.total, "completed": g.completed,
			"cancelled": g.cancelled, "noShow": g.noShow, "lwbs": g.lwbs, "noShowRate": ratio(g.noShow, held),
			"lwbsRate": ratio(g.lwbs, held), "waited": g.waits, "avgWaitMinutes": avgMinutes(g.waitSum, g.waits),
			"maxWaitMinutes": maxWait, "visits": g.n, "avgVisitMinutes": avgMinutes(g.visitSum, g.n)})
	}
	write(w, r, t)
}

func (h *Handler) results(w http.ResponseWriter, r *http.Request) {
	from, to, _, err := period(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cs, err := h.store.ResultCounts(r.Context(), orgID(r), from, to)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t := &table{Report: "results", From: from.Format(time.DateOnly), To: to.AddDate(0, 0, -1).Format(time.DateOnly),
		Columns: []string{"device", "codeSystem", "code", "display", "results", "flagged", "flaggedRate", "first", "last"}}
	for _, c := range cs {
		dev := c.DeviceName
		if c.DeviceID == 0 {
			dev = "(no device)"
		}
		t.Rows = append(t.Rows, map[string]any{"device": dev, "codeSystem": c.CodeSystem, "code": c.Code, "display": c.Display,
			"results": c.Results, "flagged": c.Flagged, "flaggedRate": ratio(c.Flagged, c.Results),
			"first": c.First.UTC().Format(time.RFC3339), "last": c.Last.UTC().Format(time.RFC3339)})
	}
	write(w, r, t)
}

func (h *Handler) qc(w http.ResponseWriter, r *http.Request) {
	from, to, _, err := period(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cs, err := h.store.QCCounts(r.Context(), orgID(r), from, to)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t := &table{Report: "qc", From: from.Format(time.DateOnly), To: to.AddDate(0, 0, -1).Format(time.DateOnly),
		Columns: []string{"device", "code", "runs", "rejected", "warnings", "notEvaluated", "failureRate"}}
	for _, c := range cs {
		// The failure rate is of the runs that could be judged.
		t.Rows = append(t.Rows, map[string]any{"device": c.DeviceName, "code": c.Code, "runs": c.Runs, "rejected": c.Rejected,
			"warnings": c.Warnings, "notEvaluated": c.NotEvaluated, "failureRate": ratio(c.Rejected, c.Runs-c.NotEvaluated)})
	}
	write(w, r, t)
}

// months reads from and to as months (YYYY-MM, or a date YYYY-MM-DD for
// the month it falls in), both included, at most twelve.
func months(r *http.Request) ([]string, error) {
	q := r.URL.Query()
	parse := func(name string) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, bad("%s is required (YYYY-MM)", name)
		}
		if d, err := time.Parse(time.DateOnly, v); err == nil {
			v = d.Format("2006-01")
		}
		t, _, err := store.ParseMonth(v)
		if err != nil {
			return time.Time{}, bad("%s must be a month as YYYY-MM", name)
		}
		return t, nil
	}
	from, err := parse("from")
	if err != nil {
		return nil, err
	}
	to, err := parse("to")
	if err != nil {
		return nil, err
	}
	if to.Before(from) {
		return nil, bad("to must not be before from")
	}
	var out []string
	for m := from; !m.After(to); m = m.AddDate(0, 1, 0) {
		if len(out) == 12 {
			return nil, bad("a report covers at most twelve months")
		}
		out = append(out, m.Format("2006-01"))
	}
	return out, nil
}

// RequiredReadingDays is how many days with device readings a month of
// remote monitoring needs (16 of the 30 days of CPT 99454).
const RequiredReadingDays = 16

// adherence is the monitoring adherence report: for every enrollment and
// month of the period, the days with device readings against the 16 the
// device-supply code needs, and the minutes of monitoring time logged. The
// figures are the ones the billing page decides codes on (store
// BillingSummary): days are UTC days within the enrollment with a reading
// from a device, minutes are whole minutes logged in the month.
func (h *Handler) adherence(w http.ResponseWriter, r *http.Request) {
	ms, err := months(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	program := r.URL.Query().Get("program")
	if program != "" && program != store.ProgramRPM && program != store.ProgramRTM && program != store.ProgramCCM {
		h.fail(w, r, bad("program must be RPM, RTM or CCM"))
		return
	}
	t := &table{Report: "monitoring-adherence", From: ms[0], To: ms[len(ms)-1],
		Columns: []string{"month", "enrollment", "patient", "mrn", "program", "status", "enrolledDays", "readingDays",
			"requiredDays", "missingDays", "adherent", "minutes", "interactive"}}
	for _, m := range ms {
		bs, err := h.store.BillingSummary(r.Context(), orgID(r), m)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, b := range bs {
			e := b.Enrollment
			if program != "" && e.Program != program {
				continue
			}
			t.Rows = append(t.Rows, map[string]any{"month": m, "enrollment": e.UUID, "patient": e.PatientUUID,
				"mrn": b.PatientMRN, "program": e.Program, "status": e.Status, "enrolledDays": enrolledDays(e, m),
				"readingDays": b.ReadingDays, "requiredDays": RequiredReadingDays,
				"missingDays": max(RequiredReadingDays-b.ReadingDays, 0), "adherent": b.ReadingDays >= RequiredReadingDays,
				"minutes": b.Minutes, "interactive": b.Interactive})
		}
	}
	write(w, r, t)
}

// enrolledDays is how many days of month the enrollment covers (its start
// and end dates included).
func enrolledDays(e store.Enrollment, month string) int {
	from, to, err := store.ParseMonth(month)
	if err != nil {
		return 0
	}
	if start, err := time.Parse(time.DateOnly, e.StartDate); err == nil && start.After(from) {
		from = start
	}
	if end, err := time.Parse(time.DateOnly, e.EndDate); err == nil && end.AddDate(0, 0, 1).Before(to) {
		to = end.AddDate(0, 0, 1)
	}
	if !to.After(from) {
		return 0
	}
	return int(to.Sub(from).Hours() / 24)
}
