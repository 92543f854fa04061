package web

import (
	"github.com/clinicbox/clinicbox/web/api/telehealth"
	"github.com/clinicbox/clinicbox/web/cache"
	"github.com/clinicbox/clinicbox/web/fhir"
)

// apiCaches are the faces' answer caches, each behind the interface its
// face declares.
type apiCaches struct {
	telehealth telehealth.Cache
	fhir       fhir.Cache
}

// splitCache divides the one --cache-mb budget between the faces that
// cache: a quarter for the telehealth API's patient answers (about a
// kilobyte each), three quarters for FHIR, whose entries are mostly a
// patient's encoded Observations (tens of kilobytes each) beside its
// Patient answers. A budget of 0 turns every cache off (nil caches: the
// faces read the store each time).
func splitCache(budget int) apiCaches {
	if budget <= 0 {
		return apiCaches{}
	}
	return apiCaches{telehealth: cache.New(budget / 4), fhir: cache.New(budget - budget/4)}
}
