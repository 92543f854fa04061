package admin

import (
	"os"
	"strings"
	"time"
)

// machineZone is the IANA name of the appliance's own time zone (TZ, else
// the /etc/localtime link), the default for a new waiting room; UTC when
// neither names one.
func machineZone() string {
	if tz := os.Getenv("TZ"); tz != "" {
		if _, err := time.LoadLocation(strings.TrimPrefix(tz, ":")); err == nil {
			return strings.TrimPrefix(tz, ":")
		}
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok {
			if _, err := time.LoadLocation(name); err == nil {
				return name
			}
		}
	}
	return "UTC"
}
