package astm

import (
	"fmt"
	"strings"
	"time"
)

// ParseTimestamp reads an E1394 date or date-time, YYYYMMDD[HH[MM[SS]]],
// in loc (instruments send local time without a zone). Surrounding spaces
// are ignored.
func ParseTimestamp(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	var layout string
	switch len(s) {
	case 8:
		layout = "20060102"
	case 10:
		layout = "2006010215"
	case 12:
		layout = "200601021504"
	case 14:
		layout = "20060102150405"
	default:
		return time.Time{}, fmt.Errorf("astm: timestamp %q: want YYYYMMDD[HH[MM[SS]]]", s)
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("astm: timestamp %q: %w", s, err)
	}
	return t, nil
}
