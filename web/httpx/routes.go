package httpx

import "net/http"

// Route is one line of a face's route table: every face lists its whole
// table (full paths, methods, the check each route passes first) in its
// routes.go, and Register serves it. Tools read the same table: the
// telehealth OpenAPI document, the tenant-isolation tests.
type Route struct {
	Method  string // GET, POST, ...; empty: any method
	Pattern string // the full path, with {wildcards}
	// Guard is the check a request passes before the handler: sign-in and
	// role (auth.Require), an Api-Key, an access token. nil: none.
	Guard   func(http.Handler) http.Handler
	Handler http.HandlerFunc
	// Summary is one line for API documents (empty for pages).
	Summary string
	// Public says the route needs no credentials (API documents mark the
	// others as secured; tenant tests skip it). A public route may still
	// have a guard (HTTPS only, say).
	Public bool
}

// Key is the mux pattern: "GET /qapi/v1/patients/{patient_id}".
func (rt Route) Key() string {
	if rt.Method == "" {
		return rt.Pattern
	}
	return rt.Method + " " + rt.Pattern
}

// Register adds each route to mux behind its guard.
func Register(mux *http.ServeMux, routes []Route) {
	for _, rt := range routes {
		var h http.Handler = rt.Handler
		if rt.Guard != nil {
			h = rt.Guard(h)
		}
		mux.Handle(rt.Key(), h)
	}
}
