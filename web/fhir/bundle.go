package fhir

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
)

// resource is what every mapped resource can say about itself.
type resource interface {
	fhirType() string
	fhirID() string
}

// encoded is a resource encoded before (a cached answer), embedded in a
// bundle as it is.
type encoded struct {
	typ, id string
	body    []byte
}

func (e *encoded) fhirType() string             { return e.typ }
func (e *encoded) fhirID() string               { return e.id }
func (e *encoded) MarshalJSON() ([]byte, error) { return e.body, nil }

// url is the absolute URL of a resource.
func (h *Handler) url(typ, id string) string {
	return h.publicURL + Base + "/" + typ + "/" + id
}

// searchset answers a page of matches (and what _include brought along) as
// a Bundle with self, next and previous links. more says whether a next
// page exists (the search fetched one row beyond the page).
func (h *Handler) searchset(w http.ResponseWriter, r *http.Request, q *query, p store.Page, matches []resource, more bool, included []resource) {
	if name := q.unread(); name != "" {
		h.fail(w, r, errorf(http.StatusBadRequest, "not-supported", "search parameter %s is not supported on %s; see %s/metadata", name, typeOf(r), Base))
		return
	}
	b := Bundle{ResourceType: "Bundle", Type: "searchset"}
	if p.Offset == 0 && !more {
		n := len(matches)
		b.Total = &n
	}
	link := func(rel string, offset int) {
		v := url.Values{}
		for k, vs := range q.vals {
			if k != "_offset" {
				v[k] = vs
			}
		}
		if offset > 0 {
			v.Set("_offset", strconv.Itoa(offset))
		}
		u := h.publicURL + Base + "/" + typeOf(r)
		if enc := v.Encode(); enc != "" {
			u += "?" + enc
		}
		b.Link = append(b.Link, BundleLink{Relation: rel, URL: u})
	}
	link("self", p.Offset)
	if more {
		link("next", p.Offset+p.Limit)
	}
	if p.Offset > 0 {
		link("previous", max(0, p.Offset-p.Limit))
	}
	for _, m := range matches {
		b.Entry = append(b.Entry, BundleEntry{FullURL: h.url(m.fhirType(), m.fhirID()), Resource: m, Search: &EntrySearch{Mode: "match"}})
	}
	for _, m := range included {
		b.Entry = append(b.Entry, BundleEntry{FullURL: h.url(m.fhirType(), m.fhirID()), Resource: m, Search: &EntrySearch{Mode: "include"}})
	}
	writeResource(w, http.StatusOK, b)
}

// typeOf is the resource type a search request is for.
func typeOf(r *http.Request) string {
	p := r.URL.Path[len(Base)+1:]
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return p
}

// fetch is the page size asked of the store: one more than the page, to
// know whether there is a next page.
func fetch(p store.Page) store.Page {
	return store.Page{Limit: p.Limit + 1, Offset: p.Offset}
}

// trim cuts the extra row fetch asked for; it reports whether there was one.
func trim[T any](rows []T, p store.Page) ([]T, bool) {
	if len(rows) > p.Limit {
		return rows[:p.Limit], true
	}
	return rows, false
}
