package fhir

import (
	"net/http"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
)

// maxCachedObservations bounds what one patient's cache entry holds: a
// patient with more current results (years of home readings) is searched
// in SQL each time, which the index serves well; the entry then only says
// so.
const maxCachedObservations = 999

// cachedObservation is one of a patient's current results: what searches
// filter and order on, and its resource, encoded once. Nothing else of the
// row is kept, so that a clinic's active patients fit the budget.
type cachedObservation struct {
	facts       store.ObservationFacts
	orgID       int64
	patientUUID string
	body        []byte
}

func (c *cachedObservation) fhirType() string { return "Observation" }
func (c *cachedObservation) fhirID() string   { return c.facts.UUID }

// encodedJSON is the resource as encoded when it was cached; the bundle
// embeds it as it is.
func (c *cachedObservation) encodedJSON() []byte { return c.body }

// MarshalJSON lets encoding/json embed it too (the tests' reference
// encoding of a bundle).
func (c *cachedObservation) MarshalJSON() ([]byte, error) { return c.body, nil }

// observationSet is a patient's current results in id order, as
// SearchObservations finds them with no filter but the patient; nil rows
// with tooMany.
type observationSet struct {
	rows    []*cachedObservation
	tooMany bool
}

// patientObservations is the cached set of a patient's current results.
func (h *Handler) patientObservations(r *http.Request, org, pid int64) (*observationSet, error) {
	v, err := h.cache.Get("obs\x00"+strconv.FormatInt(org, 10)+"\x00"+strconv.FormatInt(pid, 10), func() (any, int, []string, error) {
		rows, err := h.store.SearchObservations(r.Context(), org, store.ObservationSearch{PatientID: pid,
			Page: store.Page{Limit: maxCachedObservations + 1}})
		if err != nil {
			return nil, 0, nil, err
		}
		tags := []string{observationsTag(pid), tagAllObservations}
		if len(rows) > maxCachedObservations {
			return &observationSet{tooMany: true}, 0, tags, nil
		}
		set := &observationSet{rows: make([]*cachedObservation, len(rows))}
		// The results are encoded one after the other into a scratch
		// buffer and their bodies then share one allocation: one object
		// for the garbage collector to mark rather than one per result.
		scratch := getBuf()
		defer putBuf(scratch)
		buf, ends := *scratch, make([]int, len(rows))
		for i := range rows {
			if buf, err = appendResource(buf, h.toObservation(&rows[i])); err != nil {
				*scratch = buf
				return nil, 0, nil, err
			}
			ends[i] = len(buf)
		}
		*scratch = buf
		bodies := make([]byte, len(buf))
		copy(bodies, buf)
		size := 0
		devices := map[int64]bool{}
		for i := range rows {
			start := 0
			if i > 0 {
				start = ends[i-1]
			}
			body := bodies[start:ends[i]:ends[i]]
			set.rows[i] = &cachedObservation{facts: rows[i].Facts(), orgID: rows[i].OrgID, patientUUID: rows[i].PatientUUID, body: body}
			// The facts, their strings and the pointers: about 250 bytes.
			size += len(body) + 256
			if d := rows[i].DeviceID; d > 0 && !devices[d] {
				devices[d] = true
				tags = append(tags, deviceTag(d))
			}
		}
		return set, size, tags, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*observationSet), nil
}

// match is a result a search found, as the answer needs it: whose it is
// (for the audit and _include), and its resource.
type match struct {
	orgID, patientID int64
	patientUUID      string
	res              resource
}

// searchCachedObservations answers f from the patient's cached results;
// ok is false when the search is not one the cache can answer (no single
// patient, ids asked for, or a patient with too many results).
func (h *Handler) searchCachedObservations(r *http.Request, f *store.ObservationSearch) (out []match, ok bool, err error) {
	if h.cache == nil || f.PatientID <= 0 || len(f.UUIDs) > 0 || len(f.Messages) > 0 {
		return nil, false, nil
	}
	set, err := h.patientObservations(r, orgID(r), f.PatientID)
	if err != nil || set.tooMany {
		return nil, false, err
	}
	var hits []*cachedObservation
	for _, o := range set.rows {
		if f.Match(&o.facts) {
			hits = append(hits, o)
		}
	}
	hits = store.PageObservations(f, hits, func(o *cachedObservation) *store.ObservationFacts { return &o.facts })
	out = make([]match, len(hits))
	for i, o := range hits {
		out[i] = match{o.orgID, o.facts.PatientID, o.patientUUID, o}
	}
	return out, true, nil
}
