package fhir

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
)

// maxCachedObservations bounds what one patient's cache entry holds: a
// patient with more current results (years of home readings) is searched
// in SQL each time, which the index serves well; the entry then only says
// so.
const maxCachedObservations = 999

// cachedObservation is one of a patient's current results: the row, which
// searches filter on, and its resource, encoded once.
type cachedObservation struct {
	row  store.ObservationRow
	body []byte
}

func (c *cachedObservation) fhirType() string { return "Observation" }
func (c *cachedObservation) fhirID() string   { return c.row.UUID }

// MarshalJSON is the resource as encoded when it was cached; the bundle
// embeds it as it is.
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
		size := 0
		devices := map[int64]bool{}
		for i := range rows {
			body, err := json.Marshal(h.toObservation(&rows[i]))
			if err != nil {
				return nil, 0, nil, err
			}
			set.rows[i] = &cachedObservation{row: rows[i], body: body}
			// The row's strings are about as long as its encoding.
			size += 2*len(body) + 320
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

// searchCachedObservations answers f from the patient's cached results;
// ok is false when the search is not one the cache can answer (no single
// patient, ids asked for, or a patient with too many results).
func (h *Handler) searchCachedObservations(r *http.Request, f *store.ObservationSearch) (rows []*store.ObservationRow, res []resource, ok bool, err error) {
	if h.cache == nil || f.PatientID <= 0 || len(f.UUIDs) > 0 || len(f.Messages) > 0 {
		return nil, nil, false, nil
	}
	set, err := h.patientObservations(r, orgID(r), f.PatientID)
	if err != nil || set.tooMany {
		return nil, nil, false, err
	}
	var hits []*cachedObservation
	for _, o := range set.rows {
		if f.Match(&o.row.Observation) {
			hits = append(hits, o)
		}
	}
	hits = store.PageObservations(f, hits, func(o *cachedObservation) *store.Observation { return &o.row.Observation })
	rows, res = make([]*store.ObservationRow, len(hits)), make([]resource, len(hits))
	for i, o := range hits {
		rows[i], res[i] = &o.row, o
	}
	return rows, res, true, nil
}
