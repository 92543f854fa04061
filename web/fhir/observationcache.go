package fhir

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
)

// maxCachedObservations bounds what one patient's index holds: a patient
// with more current results (years of home readings) is searched in SQL
// each time, which the index serves well; the entry then only says so.
const maxCachedObservations = 999

// A search of one patient's results is answered from two kinds of cache
// entry, so that a patient's first search reads little more than the
// search itself needs:
//
//   - the patient's index: the search facts (store.ObservationFacts) of
//     each current result, read in one narrow query, without the rows;
//     a search filters, sorts and pages them in memory;
//   - each result's resource, mapped and encoded the first time a page
//     shows it, and kept on its own: the results a page needs that are not
//     kept yet are read by id in one query.
//
// A patient's first search thus reads the index and the rows of its page
// only (not every result the patient has). The patient's next search that
// needs a result no page has shown reads all of them, in one query, so
// that the searches after it, of any code, read nothing: the first search
// of a patient costs little more than the search itself, and a patient
// searched again is soon answered from memory alone.

// observationIndex is a patient's current results in id order, as
// SearchObservations finds them with no filter but the patient; nil facts
// with tooMany.
type observationIndex struct {
	facts   []store.ObservationFacts
	tooMany bool
}

// cachedObservation is one result's resource, encoded once, and whose it
// is (for the audit and _include).
type cachedObservation struct {
	id, orgID, patientID int64
	uuid, patientUUID    string
	body                 []byte
}

func (c *cachedObservation) fhirType() string { return "Observation" }
func (c *cachedObservation) fhirID() string   { return c.uuid }

// MarshalJSON is the resource as encoded when it was cached; the bundle
// embeds it as it is.
func (c *cachedObservation) MarshalJSON() ([]byte, error) { return c.body, nil }

func observationIndexKey(org, pid int64) string {
	return "obs-index\x00" + strconv.FormatInt(org, 10) + "\x00" + strconv.FormatInt(pid, 10)
}

func observationKey(org, id int64) string {
	return "obs\x00" + strconv.FormatInt(org, 10) + "\x00" + strconv.FormatInt(id, 10)
}

// patientObservationIndex is the cached index of a patient's current
// results.
// filled says whether this call read it.
func (h *Handler) patientObservationIndex(ctx context.Context, org, pid int64) (idx *observationIndex, filled bool, err error) {
	v, err := h.cache.Get(observationIndexKey(org, pid), func() (any, int, []string, error) {
		filled = true
		facts, err := h.store.PatientObservationFacts(ctx, org, pid, maxCachedObservations+1)
		if err != nil {
			return nil, 0, nil, err
		}
		// The index holds no device's name (the resources do): only the
		// patient's results change it.
		tags := []string{observationsTag(pid), tagAllObservations}
		if len(facts) > maxCachedObservations {
			return &observationIndex{tooMany: true}, 0, tags, nil
		}
		size := 0
		for i := range facts {
			// The struct, its strings' headers and bytes: about 150 bytes.
			size += 120 + len(facts[i].Code) + len(facts[i].CodeSystem) + len(facts[i].Status) + len(facts[i].Category)
		}
		return &observationIndex{facts: facts}, size, tags, nil
	})
	if err != nil {
		return nil, false, err
	}
	return v.(*observationIndex), filled, nil
}

// match is a result a search found, as the answer needs it: whose it is
// (for the audit and _include), and its resource.
type match struct {
	orgID, patientID int64
	patientUUID      string
	res              resource
}

// searchCachedObservations answers f from the patient's cached index and
// resources; ok is false when the search is not one the cache can answer
// (no single patient, ids asked for, a patient with too many results, or
// a result gone between the index and its read). The page p is what the
// answer shows: f asks for one row more, which only tells whether there is
// a next page, so its resource is not read (its match has none).
func (h *Handler) searchCachedObservations(r *http.Request, f *store.ObservationSearch, p store.Page) (out []match, ok bool, err error) {
	if h.cache == nil || f.PatientID <= 0 || len(f.UUIDs) > 0 || len(f.Messages) > 0 {
		return nil, false, nil
	}
	org := orgID(r)
	idx, filled, err := h.patientObservationIndex(r.Context(), org, f.PatientID)
	if err != nil || idx.tooMany {
		return nil, false, err
	}
	var hits []*store.ObservationFacts
	for i := range idx.facts {
		if f.Match(&idx.facts[i]) {
			hits = append(hits, &idx.facts[i])
		}
	}
	hits = store.PageObservations(f, hits, func(o *store.ObservationFacts) *store.ObservationFacts { return o })
	shown := min(len(hits), max(p.Limit, 0))
	out = make([]match, len(hits))
	// Take the mark before reading: a resource read after a change
	// dropped its tags is not kept.
	mark := h.cache.Mark()
	var missing []int64
	for i, o := range hits[:shown] {
		if v, ok := h.cache.Peek(observationKey(org, o.ID)); ok {
			c := v.(*cachedObservation)
			out[i] = match{c.orgID, c.patientID, c.patientUUID, c}
		} else {
			missing = append(missing, o.ID)
		}
	}
	if len(missing) == 0 {
		return out, true, nil
	}
	if !filled {
		// Searched before: read every result not kept yet, not only the
		// page's.
		missing = missing[:0]
		for i := range idx.facts {
			if _, ok := h.cache.Peek(observationKey(org, idx.facts[i].ID)); !ok {
				missing = append(missing, idx.facts[i].ID)
			}
		}
	}
	read, err := h.readObservations(r.Context(), mark, org, missing)
	if err != nil {
		return nil, false, err
	}
	for i, o := range hits[:shown] {
		if out[i].res != nil {
			continue
		}
		c := read[o.ID]
		if c == nil {
			// Changed since the index was read (a re-ingested message
			// replaces its results): SQL answers this search.
			return nil, false, nil
		}
		out[i] = match{c.orgID, c.patientID, c.patientUUID, c}
	}
	return out, true, nil
}

// readObservations reads the results with the given ids, encodes them
// and keeps them (unless a change since mark dropped what they depend on).
func (h *Handler) readObservations(ctx context.Context, mark uint64, org int64, ids []int64) (map[int64]*cachedObservation, error) {
	rows, err := h.store.ObservationRowsByID(ctx, org, ids)
	if err != nil {
		return nil, err
	}
	read := make(map[int64]*cachedObservation, len(rows))
	for i := range rows {
		c, err := h.cacheObservation(mark, &rows[i])
		if err != nil {
			return nil, err
		}
		read[c.id] = c
	}
	return read, nil
}

// cacheObservation encodes a result read by id and keeps it, unless a
// change since mark dropped what it depends on.
func (h *Handler) cacheObservation(mark uint64, row *store.ObservationRow) (*cachedObservation, error) {
	body, err := json.Marshal(h.toObservation(row))
	if err != nil {
		return nil, err
	}
	c := &cachedObservation{id: row.ID, orgID: row.OrgID, patientID: row.PatientID, uuid: row.UUID, patientUUID: row.PatientUUID, body: body}
	tags := []string{observationsTag(row.PatientID), tagAllObservations}
	if row.DeviceID > 0 {
		tags = append(tags, deviceTag(row.DeviceID))
	}
	// The struct and its uuids, besides the body.
	h.cache.Put(mark, observationKey(row.OrgID, row.ID), c, len(body)+144, tags)
	return c, nil
}
