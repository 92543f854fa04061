package hl7

import (
	"fmt"
	"strings"
	"time"
)

// ParseTime reads an HL7 date/time (DTM/TS):
// YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]. Without a zone the time is
// taken in loc, the sender's local time.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	v := strings.TrimSpace(s)
	if i := strings.LastIndexAny(v, "+-"); i >= 4 {
		zone := v[i:]
		if len(zone) != 5 {
			return time.Time{}, fmt.Errorf("hl7: time %q: zone %q is not +/-ZZZZ", s, zone)
		}
		z, err := time.Parse("-0700", zone)
		if err != nil {
			return time.Time{}, fmt.Errorf("hl7: time %q: %w", s, err)
		}
		loc = z.Location()
		v = v[:i]
	}
	digits, frac, hasFrac := strings.Cut(v, ".")
	layouts := map[int]string{4: "2006", 6: "200601", 8: "20060102", 10: "2006010215", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(digits)]
	if !ok || hasFrac && (len(digits) != 14 || frac == "" || len(frac) > 4) {
		return time.Time{}, fmt.Errorf("hl7: time %q: want YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ]", s)
	}
	if hasFrac {
		layout += "." + strings.Repeat("0", len(frac))
		digits += "." + frac
	}
	t, err := time.ParseInLocation(layout, digits, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("hl7: time %q: %w", s, err)
	}
	return t, nil
}
