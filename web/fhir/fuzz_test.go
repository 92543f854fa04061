package fhir

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// FuzzDates feeds date search values (what a client puts after date=)
// through the parser: it never panics, and a range it accepts is ordered.
func FuzzDates(f *testing.F) {
	for _, s := range []string{"2026", "ge2026-03", "lt2026-03-01T10:00Z", "ne2026-03-01T10:00:00+01:00", "eq2026-02-30", "sa2026-03-01T10:00:00.123Z", "", "xx", "2026-13"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/fhir/R4/Observation", nil)
		q, err := newQuery(r)
		if err != nil {
			t.Fatal(err)
		}
		q.vals.Set("date", v)
		rs, err := q.dates("date")
		if err != nil {
			return
		}
		for _, r := range rs {
			if !r.From.IsZero() && !r.To.IsZero() && !r.From.Before(r.To) {
				t.Errorf("%q: empty range %v..%v", v, r.From, r.To)
			}
		}
	})
}

// FuzzQuery feeds whole query strings to an Observation search's parser.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"patient=Patient/x&code=http://loinc.org|1-8&date=ge2026&_sort=-date&_count=10",
		"_id=a,b\\,c&status=final", "_count=-1", "%zz", "_include=Observation:patient&_offset=20", "code=|x,y|"} {
		f.Add(s)
	}
	h := New(Deps{})
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/fhir/R4/Observation", nil)
		r.URL.RawQuery = raw
		q, err := newQuery(r)
		if err != nil {
			return
		}
		// Everything but the parts that need the database.
		q.vals.Del("patient")
		q.vals.Del("subject")
		q.vals.Del("device")
		_, _, _, p, err := h.observationSearch(r, q)
		if err == nil && (p.Limit < 0 || p.Limit > maxCount || p.Offset < 0) {
			t.Errorf("%q: page %+v", raw, p)
		}
	})
}

var ucumChars = regexp.MustCompile(`^[!-~]*$`)

// FuzzUCUM: the unit parser never panics, and what it accepts is printable
// ASCII without spaces (UCUM's character set).
func FuzzUCUM(f *testing.F) {
	for _, s := range []string{"mmol/L", "10*3/uL", "mm[Hg]", "{beats}/min", "kg/m2", "%", "bpm", "°C", "((g))", "10^-3", "/min", "{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		if isUCUM(u) && (!ucumChars.MatchString(u) || strings.TrimSpace(u) != u) {
			t.Errorf("accepted %q", u)
		}
	})
}
