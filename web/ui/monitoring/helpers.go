package monitoring

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
)

func join(s []string) string { return strings.Join(s, ", ") }

// SourceLabel says where a reading came from, as the pages show it.
func SourceLabel(ctx context.Context, source string) string {
	switch source {
	case store.SourceMonitoringDevice:
		return i18n.T(ctx, "MonSourceDevice")
	case store.SourceMonitoringManual:
		return i18n.T(ctx, "MonSourceManual")
	case store.SourceMonitoringReported:
		return i18n.T(ctx, "MonSourceReported")
	}
	return source
}

// label is the catalogue's word for a code (prefix+code), or the code
// itself when the catalogue has none (a value from a newer store).
func label(ctx context.Context, prefix, code string) string {
	if id := prefix + code; i18n.Has(id) {
		return i18n.T(ctx, id)
	}
	return code
}

// severity is an alert severity (CRITICAL, HIGH, ...) in people's words.
func severity(ctx context.Context, s string) string { return label(ctx, "MonSeverity.", s) }

func units(b store.BillingMonth, code string) string {
	for _, l := range b.Lines {
		if l.Code == code {
			return strconv.Itoa(l.Units)
		}
	}
	return ""
}

// nextStep is the first thing a month still lacks for a code not met.
func nextStep(ctx context.Context, b store.BillingMonth) string {
	var out []string
	for _, q := range b.Requirements {
		if !q.Met && q.Missing != "" && !strings.HasPrefix(q.Missing, "not billed") && !strings.HasPrefix(q.Missing, "billed once") {
			out = append(out, q.Code+": "+storeText(ctx, q.Missing))
		}
	}
	if len(out) > 2 {
		out = out[:2]
	}
	return strings.Join(out, "; ")
}

func ago(ctx context.Context, now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return i18n.T(ctx, "MonJustNow")
	case d < time.Hour:
		return i18n.T(ctx, "MonMinutesAgo", "N", int(d.Minutes()))
	case d < 48*time.Hour:
		return i18n.T(ctx, "MonHoursAgo", "N", int(d.Hours()))
	}
	return i18n.T(ctx, "MonDaysAgo", "N", int(d.Hours()/24))
}

// shortWhen is a reading's or entry's day and time: "2. dec. 14.30".
func shortWhen(ctx context.Context, t time.Time) string {
	if i18n.Lang(ctx) == i18n.Danish {
		d := i18n.ShortDate(ctx, t)
		return strings.TrimSuffix(d, " "+strconv.Itoa(t.Year())) + " " + i18n.Time(ctx, t)
	}
	return t.Format("2 Jan") + " " + i18n.Time(ctx, t)
}

// localDate shows a stored YYYY-MM-DD day in the local style; anything
// else is shown as stored.
func localDate(ctx context.Context, day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return i18n.Date(ctx, t)
}

// monthName shows a YYYY-MM billing month as "december 2026"/"December 2026".
func monthName(ctx context.Context, month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	d := i18n.Date(ctx, t) // "1. december 2026" / "1 December 2026"
	if i := strings.IndexByte(d, ' '); i > 0 {
		return d[i+1:]
	}
	return d
}

// The store words billing readiness, alert rules and alert messages in
// English (the monitoring API documents them so). storeText rewords the
// known forms in the page's language; anything else is shown verbatim.
type storeForm struct {
	re *regexp.Regexp
	fn func(ctx context.Context, m []string) string
}

// storeForms is filled in init: one form (the rule inside "Reading rule
// met: ...") rewords its inner text with storeText.
var storeForms []storeForm

func init() { storeForms = storeFormList() }

func storeFormList() []storeForm {
	return []storeForm{
		{regexp.MustCompile(`^(\d+) more days? of readings$`), func(ctx context.Context, m []string) string {
			return i18n.N(ctx, "MonMoreDays", atoi(m[1]))
		}},
		{regexp.MustCompile(`^(\d+) more minutes?$`), func(ctx context.Context, m []string) string {
			return i18n.N(ctx, "MonMoreMinutes", atoi(m[1]))
		}},
		{regexp.MustCompile(`^an interactive communication with the patient$`), func(ctx context.Context, m []string) string {
			return i18n.T(ctx, "MonNeedInteractive")
		}},
		{regexp.MustCompile(`^not billed with (\d+)$`), func(ctx context.Context, m []string) string {
			return i18n.T(ctx, "MonNotBilledWith", "Code", m[1])
		}},
		{regexp.MustCompile(`^billed once per episode, in (\d{4}-\d{2})$`), func(ctx context.Context, m []string) string {
			return i18n.T(ctx, "MonBilledOnce", "Month", monthName(ctx, m[1]))
		}},
		{regexp.MustCompile(`^billing codes are computed for RPM enrollments only$`), func(ctx context.Context, m []string) string {
			return i18n.T(ctx, "MonRPMOnly")
		}},
		{regexp.MustCompile(`^[Nn]o reading for (.+)$`), func(ctx context.Context, m []string) string {
			return i18n.T(ctx, "MonNoReadingFor", "Window", duration(ctx, m[1]))
		}},
		{regexp.MustCompile(`^Reading rule met: (.+)$`), func(ctx context.Context, m []string) string {
			return i18n.T(ctx, "MonRuleMet", "Rule", storeText(ctx, m[1]))
		}},
		{regexp.MustCompile(`^(\S+) (>=|<=|>|<) (\S+) (once|twice|\d+ times) within (.+)$`), func(ctx context.Context, m []string) string {
			times := 1
			switch {
			case m[4] == "twice":
				times = 2
			case strings.HasSuffix(m[4], " times"):
				times = atoi(strings.TrimSuffix(m[4], " times"))
			}
			count := i18n.N(ctx, "MonTimes", times)
			if times == 2 {
				count = i18n.T(ctx, "MonTwice")
			}
			return i18n.T(ctx, "MonRule", "Metric", m[1], "Op", m[2], "Threshold", i18n.Decimal(ctx, m[3]),
				"Times", count, "Window", duration(ctx, m[5]))
		}},
	}
}

var durationForm = regexp.MustCompile(`^(\d+) (days?|h|min)$`)

// duration rewords the store's "3 days", "1 day", "6 h", "30 min".
func duration(ctx context.Context, s string) string {
	m := durationForm.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	switch n := atoi(m[1]); m[2] {
	case "day", "days":
		return i18n.N(ctx, "MonDurationDays", n)
	case "h":
		return i18n.N(ctx, "MonDurationHours", n)
	default:
		return i18n.N(ctx, "MonDurationMinutes", n)
	}
}

func storeText(ctx context.Context, s string) string {
	for _, f := range storeForms {
		if m := f.re.FindStringSubmatch(s); m != nil {
			return f.fn(ctx, m)
		}
	}
	// "X and Y" (billing's joinAnd): both halves must be known forms.
	if a, b, ok := strings.Cut(s, " and "); ok {
		if ta, tb := storeText(ctx, a), storeText(ctx, b); ta != a || tb != b || i18n.Lang(ctx) == i18n.English {
			return i18n.T(ctx, "MonAnd", "A", ta, "B", tb)
		}
	}
	return s
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}
