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

// Match tells whether o is a row SearchObservations would find with f,
// ignoring the order and the page (see PageObservations).
func (f *ObservationSearch) Match(o *Observation) bool {
	if o.QC {
		return false
	}
	if len(f.UUIDs) == 0 && !o.SupersededAt.IsZero() {
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
		m := unix(o.MeasuredAt)
		if m <= 0 {
			return false
		}
		for _, r := range f.Effective {
			if !r.contains(m) {
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

// PageObservations sorts matched rows as SearchObservations does (f.SortDate) and
// returns the page f.Page asks for. obs reads a row's observation. rows is
// sorted in place.
func PageObservations[T any](f *ObservationSearch, rows []T, obs func(T) *Observation) []T {
	byID := func(a, b *Observation) int { return cmp.Compare(a.ID, b.ID) }
	byDate := func(a, b *Observation) int {
		if c := cmp.Compare(unix(a.MeasuredAt), unix(b.MeasuredAt)); c != 0 {
			return c
		}
		return byID(a, b)
	}
	switch {
	case f.SortDate > 0:
		slices.SortFunc(rows, func(a, b T) int { return byDate(obs(a), obs(b)) })
	case f.SortDate < 0:
		slices.SortFunc(rows, func(a, b T) int { return byDate(obs(b), obs(a)) })
	default:
		slices.SortFunc(rows, func(a, b T) int { return byID(obs(a), obs(b)) })
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
