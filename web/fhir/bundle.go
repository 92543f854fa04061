package fhir

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
)

// resource is what every mapped resource can say about itself.
type resource interface {
	fhirType() string
	fhirID() string
}

// preEncoded is a resource encoded before (a cached answer, written by
// encoding/json or by an encoder proven to write the same): a bundle
// appends its bytes as they are, without the re-validation encoding/json
// gives a MarshalJSON's output.
type preEncoded interface {
	encodedJSON() []byte
}

// encoded is a resource encoded before (a cached answer), embedded in a
// bundle as it is.
type encoded struct {
	typ, id string
	body    []byte
}

func (e *encoded) fhirType() string    { return e.typ }
func (e *encoded) fhirID() string      { return e.id }
func (e *encoded) encodedJSON() []byte { return e.body }

// MarshalJSON lets encoding/json embed it too (the tests' reference
// encoding of a bundle).
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
	bp := getBuf()
	defer putBuf(bp)
	b, err := h.appendSearchset(*bp, typeOf(r), q.vals, p, matches, more, included)
	*bp = b
	status := http.StatusOK
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(encodeFailure)
	}
	w.Header()["Content-Type"] = []string{contentType}
	w.WriteHeader(status)
	w.Write(b)
}

// appendSearchset writes the searchset Bundle as encoding/json writes the
// Bundle type (types.go) with these links and entries, and a newline.
func (h *Handler) appendSearchset(b []byte, typ string, vals url.Values, p store.Page, matches []resource, more bool, included []resource) ([]byte, error) {
	b = append(b, `{"resourceType":"Bundle","type":"searchset"`...)
	if p.Offset == 0 && !more {
		b = append(b, `,"total":`...)
		b = appendInt(b, len(matches))
	}
	// The links' query: the search's parameters but _offset, in
	// url.Values.Encode's order (sorted by name), then the page's _offset.
	names := make([]string, 0, len(vals)+1)
	for k := range vals {
		if k != "_offset" {
			names = append(names, k)
		}
	}
	b = append(b, `,"link":[`...)
	b = h.appendLink(b, "self", typ, names, vals, p.Offset)
	if more {
		b = append(b, ',')
		b = h.appendLink(b, "next", typ, names, vals, p.Offset+p.Limit)
	}
	if p.Offset > 0 {
		b = append(b, ',')
		b = h.appendLink(b, "previous", typ, names, vals, max(0, p.Offset-p.Limit))
	}
	b = append(b, ']')
	if len(matches)+len(included) > 0 {
		b = append(b, `,"entry":[`...)
		var err error
		for i, m := range matches {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = h.appendEntry(b, m, `"match"}}`); err != nil {
				return b, err
			}
		}
		for i, m := range included {
			if i > 0 || len(matches) > 0 {
				b = append(b, ',')
			}
			if b, err = h.appendEntry(b, m, `"include"}}`); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...), nil
}

// appendLink writes a paging link; names are the parameters to repeat (all
// but _offset), which it sorts with _offset when offset is not 0.
func (h *Handler) appendLink(b []byte, rel, typ string, names []string, vals url.Values, offset int) []byte {
	b = append(b, `{"relation":"`...)
	b = append(b, rel...)
	b = append(b, `","url":`...)
	b = appendJSONString(b, h.publicURL+Base+"/"+typ)
	b = b[:len(b)-1] // the query goes inside the same string
	off := ""
	names = names[:len(names):len(names)]
	if offset > 0 {
		off = strconv.Itoa(offset)
		names = append(names, "_offset")
	}
	slices.Sort(names)
	sep := "?"
	for _, k := range names {
		vs := vals[k]
		if k == "_offset" {
			vs = []string{off}
		}
		ek := url.QueryEscape(k)
		for _, v := range vs {
			// QueryEscape leaves nothing JSON escapes but the & between
			// parameters, which encoding/json writes as \u0026.
			b = append(b, sep...)
			sep = `\u0026`
			b = append(b, ek...)
			b = append(b, '=')
			b = append(b, url.QueryEscape(v)...)
		}
	}
	return append(b, `"}`...)
}

// appendEntry writes one bundle entry; mode is the search mode's JSON
// value with the closing braces of search and of the entry.
func (h *Handler) appendEntry(b []byte, m resource, mode string) ([]byte, error) {
	b = append(b, `{"fullUrl":`...)
	b = appendJSONString(b, h.url(m.fhirType(), m.fhirID()))
	b = append(b, `,"resource":`...)
	switch m := m.(type) {
	case preEncoded:
		// Answers were encoded with a trailing newline, which a bundle
		// does not repeat.
		b = append(b, bytes.TrimRight(m.encodedJSON(), " \t\r\n")...)
	case jsonAppender:
		var err error
		if b, err = appendResource(b, m); err != nil {
			return b, err
		}
	default:
		enc, err := json.Marshal(m)
		if err != nil {
			return b, err
		}
		b = append(b, enc...)
	}
	b = append(b, `,"search":{"mode":`...)
	return append(b, mode...), nil
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
