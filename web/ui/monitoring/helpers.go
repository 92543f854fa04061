package monitoring

import (
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
)

func join(s []string) string { return strings.Join(s, ", ") }

// SourceLabel says where a reading came from, as the pages show it.
func SourceLabel(source string) string {
	switch source {
	case store.SourceMonitoringDevice:
		return "Home device"
	case store.SourceMonitoringManual:
		return "Home, entered by staff"
	case store.SourceMonitoringReported:
		return "Reported by the patient"
	}
	return source
}

func units(b store.BillingMonth, code string) string {
	for _, l := range b.Lines {
		if l.Code == code {
			return strconv.Itoa(l.Units)
		}
	}
	return ""
}

// nextStep is the first thing a month still lacks for a code not met.
func nextStep(b store.BillingMonth) string {
	var out []string
	for _, q := range b.Requirements {
		if !q.Met && q.Missing != "" && !strings.HasPrefix(q.Missing, "not billed") && !strings.HasPrefix(q.Missing, "billed once") {
			out = append(out, q.Code+": "+q.Missing)
		}
	}
	if len(out) > 2 {
		out = out[:2]
	}
	return strings.Join(out, "; ")
}
