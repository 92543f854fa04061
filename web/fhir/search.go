package fhir

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Search parameters common to every resource type (FHIR R4 §3.1.1.5);
// those of each type are in the route table (routes.go).
const (
	defaultCount = 50
	maxCount     = 500
)

// query is a search request's parameters. Every parameter must be read by
// the search that serves the request: a parameter nobody read is not
// supported, and the request is refused (rather than answering more than
// was asked for).
type query struct {
	vals url.Values
	// read is the names read so far: a search reads a dozen, so a slice
	// costs less than a map (which a warm search paid for on every request).
	read []string
}

func newQuery(r *http.Request) (*query, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid", "the query string is malformed: %v", err)
	}
	if r.Method == http.MethodPost {
		// POST [type]/_search: the parameters may come in the form too.
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid", "the form body is malformed")
		}
		for k, vs := range r.PostForm {
			vals[k] = append(vals[k], vs...)
		}
	}
	q := &query{vals: vals, read: make([]string, 2, 16)}
	q.read[0], q.read[1] = "_format", "_pretty"
	return q, nil
}

// all returns every value of a parameter; a comma separates alternatives
// (OR) within one value, repeating the parameter means AND.
func (q *query) all(name string) []string {
	if !slices.Contains(q.read, name) {
		q.read = append(q.read, name)
	}
	return q.vals[name]
}

// or returns a parameter's alternatives; it must appear at most once.
func (q *query) or(name string) ([]string, error) {
	vs := q.all(name)
	if len(vs) == 0 {
		return nil, nil
	}
	if len(vs) > 1 {
		return nil, invalidParam(name, "may be given once (separate alternatives with a comma)")
	}
	var out []string
	for _, v := range splitComma(vs[0]) {
		if v == "" {
			return nil, invalidParam(name, "has an empty value")
		}
		out = append(out, v)
	}
	return out, nil
}

// splitComma splits on commas not escaped with a backslash.
func splitComma(s string) []string {
	if !strings.Contains(s, `\`) {
		return strings.Split(s, ",")
	}
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case s[i] == ',':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	return append(out, b.String())
}

// unread is the first parameter that no search read.
func (q *query) unread() string {
	first := ""
	for k := range q.vals {
		if !slices.Contains(q.read, k) && (first == "" || k < first) {
			first = k
		}
	}
	return first
}

// page reads _count and the paging cursor _offset.
func (q *query) page() (store.Page, error) {
	p := store.Page{Limit: defaultCount}
	if vs := q.all("_count"); len(vs) > 0 {
		n, err := strconv.Atoi(vs[0])
		if err != nil || n < 0 || len(vs) > 1 {
			return p, invalidParam("_count", "must be one whole number from 0 to %d", maxCount)
		}
		p.Limit = min(n, maxCount)
	}
	if vs := q.all("_offset"); len(vs) > 0 {
		n, err := strconv.Atoi(vs[0])
		if err != nil || n < 0 || len(vs) > 1 || n > 1_000_000 {
			return p, invalidParam("_offset", "must be one whole number from 0")
		}
		p.Offset = n
	}
	return p, nil
}

// sortDate reads _sort, which may only be date or -date (allowed says
// whether the type supports it).
func (q *query) sortDate(allowed bool) (int, error) {
	vs := q.all("_sort")
	if len(vs) == 0 {
		return 0, nil
	}
	if len(vs) == 1 && allowed {
		switch vs[0] {
		case "date":
			return 1, nil
		case "-date":
			return -1, nil
		}
	}
	if !allowed {
		return 0, invalidParam("_sort", "is not supported on this resource type")
	}
	return 0, invalidParam("_sort", "only date and -date are supported")
}

// ids reads _id.
func (q *query) ids() ([]string, error) {
	vs, err := q.or("_id")
	for _, v := range vs {
		if !validID(v) {
			return nil, invalidParam("_id", "%q is not a valid id", v)
		}
	}
	return vs, err
}

// validID tells whether s is a FHIR id: 1 to 64 of A-Z, a-z, 0-9, - and .
// (by hand: the regular expression was a tenth of a warm search's
// parameter reading).
func validID(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// token is system|code, |code (no system) or code (any system).
type token struct {
	System    string
	HasSystem bool
	Code      string
}

func parseToken(v string) token {
	if sys, code, ok := strings.Cut(v, "|"); ok {
		return token{System: sys, HasSystem: true, Code: code}
	}
	return token{Code: v}
}

// reference reads a reference parameter naming a resource of type typ:
// "Patient/ID", "ID" or an absolute URL ending in Patient/ID.
func (q *query) references(name, typ string) ([]string, error) {
	vs, err := q.or(name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range vs {
		id := v
		if i := strings.LastIndex(v, typ+"/"); i >= 0 && (i == 0 || v[i-1] == '/') {
			id = v[i+len(typ)+1:]
		} else if strings.Contains(v, "/") {
			return nil, invalidParam(name, "must name a %s (%s/id)", typ, typ)
		}
		if !validID(id) {
			return nil, invalidParam(name, "%q is not a valid id", id)
		}
		out = append(out, id)
	}
	return out, nil
}

// dateValue is a FHIR date search value: the prefix and the interval the
// value's precision covers, [lo, hi).
var datePrefixes = []string{"eq", "ne", "lt", "gt", "le", "ge", "sa", "eb"}

// dates reads every value of a date parameter as time ranges (each value
// narrows the result: AND). Values without a time zone are UTC.
func (q *query) dates(name string) ([]store.TimeRange, error) {
	var out []store.TimeRange
	for _, v := range q.all(name) {
		if strings.Contains(v, ",") {
			return nil, invalidParam(name, "alternatives (a comma) are not supported for dates; repeat the parameter for a range")
		}
		prefix := "eq"
		if len(v) >= 2 && slices.Contains(datePrefixes, v[:2]) {
			prefix, v = v[:2], v[2:]
		}
		lo, hi, err := parseDateInterval(v)
		if err != nil {
			return nil, invalidParam(name, "%v", err)
		}
		var r store.TimeRange
		switch prefix {
		case "eq":
			r = store.TimeRange{From: lo, To: hi}
		case "ne":
			r = store.TimeRange{From: lo, To: hi, Not: true}
		case "lt", "eb":
			r = store.TimeRange{To: lo}
		case "le":
			r = store.TimeRange{To: hi}
		case "gt", "sa":
			r = store.TimeRange{From: hi}
		case "ge":
			r = store.TimeRange{From: lo}
		}
		out = append(out, r)
	}
	return out, nil
}

// parseDateInterval parses a FHIR date or dateTime and returns the interval
// its precision covers: 2026 is the whole year, 2026-03-01T10:00 a minute.
func parseDateInterval(v string) (lo, hi time.Time, err error) {
	// A date (the usual search value) can only be the third layout: try it
	// first rather than fail the year and the month before it.
	if len(v) == len("2006-01-02") {
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return t.UTC(), t.AddDate(0, 0, 1).UTC(), nil
		}
	}
	return parseDateLayouts(v)
}

// parseDateLayouts is parseDateInterval trying every layout in turn.
func parseDateLayouts(v string) (lo, hi time.Time, err error) {
	for _, l := range dateLayouts {
		if len(v) < len("2006") {
			break
		}
		if t, err := time.Parse(l.l, v); err == nil {
			return t.UTC(), l.step(t).UTC(), nil
		}
	}
	// Fractions of a second: a second's precision is what the model keeps.
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		t = t.Truncate(time.Second)
		return t.UTC(), t.Add(time.Second).UTC(), nil
	}
	return time.Time{}, time.Time{}, errorf(http.StatusBadRequest, "invalid", "%q is not a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm])", v)
}

var dateLayouts = []struct {
	l    string
	step func(time.Time) time.Time
}{
	{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
	{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
	{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	{"2006-01-02T15:04Z07:00", func(t time.Time) time.Time { return t.Add(time.Minute) }},
	{"2006-01-02T15:04", func(t time.Time) time.Time { return t.Add(time.Minute) }},
	{"2006-01-02T15:04:05Z07:00", func(t time.Time) time.Time { return t.Add(time.Second) }},
	{"2006-01-02T15:04:05", func(t time.Time) time.Time { return t.Add(time.Second) }},
}

// instant formats a time as a FHIR instant/dateTime in UTC.
func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
