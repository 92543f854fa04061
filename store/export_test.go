package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// Hooks for the store's own tests (package store_test), compiled only with
// them: faces never get a transaction.

// Tx is one write, for tests that forge rows the model would not write.
type Tx = txn

// Write runs fn as one write.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error { return s.write(ctx, fn) }

// QueryRowForTest runs a read on the reader pool (tests count rows the
// model has no listing for).
func (s *Store) QueryRowForTest(ctx context.Context, q string, args ...any) *sql.Row {
	return s.r.QueryRowContext(ctx, q, args...)
}

// ReadingQueryPlans is the query plan (EXPLAIN QUERY PLAN, one line per
// step) of each query that reads monitoring readings, by name.
func (s *Store) ReadingQueryPlans(ctx context.Context) (map[string][]string, error) {
	const org, patient, from, to = 1, 2, 1_700_000_000, 1_800_000_000
	queries := map[string]struct {
		q    string
		args []any
	}{
		"duplicate reading":           {storedReadingQuery, []any{org, patient, "bp_systolic", "", from}},
		"readings beyond a threshold": {readingsBeyondQuery(">"), []any{org, patient, "bp_systolic", from, to, 180.0}},
	}
	for name, f := range map[string]ReadingFilter{
		"readings of a patient":           {HomeOnly: true, PatientID: patient},
		"readings of a patient's metric":  {HomeOnly: true, PatientID: patient, MetricKey: "bp_systolic"},
		"a metric's readings in a window": {HomeOnly: true, PatientID: patient, MetricKey: "bp_systolic", From: fromUnix(from), To: fromUnix(to)},
		"next page":                       {HomeOnly: true, PatientID: patient, MetricKey: "bp_systolic", Before: &ReadingCursor{MeasuredAt: to, ID: 99}},
	} {
		q, args := readingsQuery(org, f)
		queries[name] = struct {
			q    string
			args []any
		}{q, append(args, 100)}
	}
	out := map[string][]string{}
	for name, q := range queries {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.q, q.args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				rows.Close()
				return nil, err
			}
			out[name] = append(out[name], detail)
		}
		rows.Close()
	}
	return out, nil
}

// ObservationSearchPlan is the query plan of SearchObservations' query
// for f (EXPLAIN QUERY PLAN, one line per step).
func (s *Store) ObservationSearchPlan(ctx context.Context, orgID int64, f ObservationSearch) ([]string, error) {
	q, args := observationSearchSQL(orgID, f)
	rows, err := s.r.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT o.id FROM observations o
		LEFT JOIN patients p ON p.id = o.patient_id
		LEFT JOIN devices d ON d.id = o.device_id
		LEFT JOIN appointments a ON a.id = o.appointment_id
		WHERE `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}

// NewTimeUUID is newTimeUUID.
var NewTimeUUID = newTimeUUID

// SecretChecks is how many argon2id derivations CheckSecret has run.
func SecretChecks() int64 { return secretChecks.Load() }

// WithReadMoveEvery sets how often read audits are moved from the journal
// into audit_log (tests hold them in the journal, or move them all the
// time).
func WithReadMoveEvery(d time.Duration) Option { return func(s *Store) { s.readMoveEvery = d } }

// ReadJournalFiles lists the read-audit journal's record files.
func (s *Store) ReadJournalFiles() ([]string, error) {
	return filepath.Glob(s.db.Path() + "-reads.[0-9]*")
}

// ReadQuery is a query the reader ran, with its arguments.
type ReadQuery struct {
	Query string
	Args  []any
}

// RecordReads records the queries the reader runs until the returned
// function is called; it returns them.
func (s *Store) RecordReads() func() []ReadQuery {
	var mu sync.Mutex
	var out []ReadQuery
	s.r.Record(func(q string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, ReadQuery{q, append([]any(nil), args...)})
	})
	return func() []ReadQuery {
		s.r.Record(nil)
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

// Recompiles counts the times SQLite compiles q again when it runs with
// args (sqlite.DB.Recompiles).
func (s *Store) Recompiles(ctx context.Context, q ReadQuery) (int, error) {
	return s.db.Recompiles(ctx, q.Query, q.Args)
}

// QueryPlan is the query plan of q (EXPLAIN QUERY PLAN, one line per
// step).
func (s *Store) QueryPlan(ctx context.Context, q ReadQuery) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.Query, q.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}
