package layout

import (
	"mime"
	"net/http"

	"github.com/clinicbox/clinicbox/web/httpx"
)

// BoundForms has every POST route of a page family read its form within
// limit before the handler runs, and answers an oversized or unreadable
// one on the error page (BadForm), so no handler can read a form unbounded
// (PostFormValue alone reads up to 10 MB) or take an oversized one for a
// validation error. Only URL-encoded forms are read here: a multipart
// upload keeps its handler's own, larger limit.
func BoundForms(routes []httpx.Route, limit int64) []httpx.Route {
	for i := range routes {
		if routes[i].Method != http.MethodPost {
			continue
		}
		next := routes[i].Handler
		routes[i].Handler = func(w http.ResponseWriter, r *http.Request) {
			if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
				if err := r.ParseForm(); err != nil {
					BadForm(w, r, err)
					return
				}
			}
			next(w, r)
		}
	}
	return routes
}
