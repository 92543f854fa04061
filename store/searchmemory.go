package store

import (
	"cmp"
	"slices"
)

// An observation search over rows a face already holds in memory (a
// patient's results, cached between searches). Match, PageObservations and
// SearchObservations' SQL must agree row for row:
// TestObservationSearchInMemoryAgreesWithSQL compares them over many
// filters.

// contains is the SQL condition of the range over a unix-seconds value.
func (r TimeRange) contains(v int64) bool {
	in := true
	if !r.From.IsZero() && v < r.From.Unix() {
		in = false
	}
	if !r.To.IsZero() && v >= r.To.Unix() {
		in = false
	}
	if r.From.IsZero() && r.To.IsZero() {
		return !r.Not
	}
	return in != r.Not
}

// ObservationFacts are what a search filters and orders observations on:
// all a face needs to keep of a row to search it in memory (the row's other
// fields, its mapped and encoded form, it keeps as it likes).
type ObservationFacts struct {
	ID, PatientID, DeviceID, MessageID int64
	UUID                               string
	Code, CodeSystem, Status, Category string
	MeasuredAt                         int64 // unix seconds as stored; 0: none
	QC, Superseded                     bool
}

// Facts are the observation's search facts.
func (o *Observation) Facts() ObservationFacts {
	return ObservationFacts{ID: o.ID, PatientID: o.PatientID, DeviceID: o.DeviceID, MessageID: o.MessageID, UUID: o.UUID,
		Code: o.Code, CodeSystem: o.CodeSystem, Status: o.Status, Category: o.Category, MeasuredAt: unix(o.MeasuredAt),
		QC: o.QC, Superseded: !o.SupersededAt.IsZero()}
}

// Match tells whether the observation with facts o is a row
// SearchObservations would find with f, ignoring the order and the page
// (see PageObservations).
func (f *ObservationSearch) Match(o *ObservationFacts) bool {
	if o.QC {
		return false
	}
	if len(f.UUIDs) == 0 && o.Superseded {
		return false
	}
	if len(f.UUIDs) > 0 && !slices.Contains(f.UUIDs, o.UUID) {
		return false
	}
	if f.PatientID > 0 && o.PatientID != f.PatientID {
		return false
	}
	if len(f.Codes) > 0 && !slices.ContainsFunc(f.Codes, func(c CodeRef) bool {
		return o.Code == c.Code && (len(c.Systems) == 0 || slices.Contains(c.Systems, o.CodeSystem))
	}) {
		return false
	}
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, o.Status) {
		return false
	}
	if len(f.Category) > 0 && !slices.Contains(f.Category, o.Category) {
		return false
	}
	if len(f.Effective) > 0 {
		if o.MeasuredAt <= 0 {
			return false
		}
		for _, r := range f.Effective {
			if !r.contains(o.MeasuredAt) {
				return false
			}
		}
	}
	if f.DeviceID > 0 && o.DeviceID != f.DeviceID {
		return false
	}
	if len(f.Messages) > 0 && !slices.Contains(f.Messages, o.MessageID) {
		return false
	}
	return true
}

// PageObservations sorts matched rows as SearchObservations does
// (f.SortDate) and returns the page f.Page asks for. facts reads a row's
// facts. rows is sorted in place.
func PageObservations[T any](f *ObservationSearch, rows []T, facts func(T) *ObservationFacts) []T {
	byID := func(a, b *ObservationFacts) int { return cmp.Compare(a.ID, b.ID) }
	byDate := func(a, b *ObservationFacts) int {
		if c := cmp.Compare(a.MeasuredAt, b.MeasuredAt); c != 0 {
			return c
		}
		return byID(a, b)
	}
	switch {
	case f.SortDate > 0:
		slices.SortFunc(rows, func(a, b T) int { return byDate(facts(a), facts(b)) })
	case f.SortDate < 0:
		slices.SortFunc(rows, func(a, b T) int { return byDate(facts(b), facts(a)) })
	default:
		slices.SortFunc(rows, func(a, b T) int { return byID(facts(a), facts(b)) })
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	off := max(f.Offset, 0)
	if off >= len(rows) {
		return rows[:0]
	}
	return rows[off:min(off+limit, len(rows))]
}
