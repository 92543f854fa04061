package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/clinicbox/clinicbox/store/internal/sqlite"
)

// Reads in the audit log reach the per-patient index in bulk (migration
// 0005): a background loop copies the (organisation, patient, row) of new
// reads into audit_read_index in batches sorted by patient, then moves the
// cursor. Until then AuditLog finds them by scanning the tail after the
// cursor, so nothing is ever missing from a patient's history.
const (
	auditIndexEvery = 5 * time.Second  // how often the loop looks
	auditIndexAfter = 30 * time.Second // index a small tail at least this often
	auditIndexMin   = 50_000           // ... or as soon as this many reads wait
	auditIndexMax   = 200_000          // reads per run
	auditIndexChunk = 5_000            // rows per write, so other writes are not held up
)

// startAuditIndex starts the loop that indexes reads in the background.
func (s *Store) startAuditIndex() (stop func()) {
	last := s.Now()
	return sqlite.Every(auditIndexEvery, func() {
		waiting, err := s.auditReadsWaiting(context.Background())
		if err != nil {
			s.log.Error("audit read index", "err", err)
			return
		}
		if waiting >= auditIndexMin || (waiting > 0 && s.Now().Sub(last) >= auditIndexAfter) {
			if _, err := s.IndexAuditReads(context.Background()); err != nil {
				s.log.Error("audit read index", "err", err)
			}
			last = s.Now()
		}
	})
}

// auditReadsWaiting is an upper bound of the audit rows past the cursor.
func (s *Store) auditReadsWaiting(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(id) FROM audit_log), 0) - last_id FROM audit_read_cursor`).Scan(&n)
	return n, err
}

// IndexAuditReads indexes up to auditIndexMax reads past the cursor and
// moves the cursor past them. It returns how many reads it indexed. A run
// cut short leaves index rows past the cursor; they are ignored by AuditLog
// and written again (INSERT OR IGNORE) by the next run.
func (s *Store) IndexAuditReads(ctx context.Context) (int, error) {
	var cursor, top int64
	if err := s.r.QueryRowContext(ctx, `SELECT last_id, COALESCE((SELECT MAX(id) FROM audit_log), 0) FROM audit_read_cursor`).
		Scan(&cursor, &top); err != nil {
		return 0, fmt.Errorf("index audit reads: %w", err)
	}
	if top <= cursor {
		return 0, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, org_id, patient_id FROM audit_log
		WHERE id > ? AND id <= ? AND action = 'read' AND patient_id IS NOT NULL ORDER BY id LIMIT ?`,
		cursor, top, auditIndexMax)
	if err != nil {
		return 0, fmt.Errorf("index audit reads: %w", err)
	}
	type entry struct{ id, org, patient int64 }
	var es []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.id, &e.org, &e.patient); err != nil {
			rows.Close()
			return 0, fmt.Errorf("index audit reads: %w", err)
		}
		es = append(es, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("index audit reads: %w", err)
	}
	// Rows up to top are committed (the log only grows, in id order), so
	// when the limit did not cut the list, every read up to top is here.
	upTo := top
	if len(es) == auditIndexMax {
		upTo = es[len(es)-1].id
	}
	// In index order, each chunk covers its own range of the index: the
	// pages it dirties are written once per run, not once per read.
	slices.SortFunc(es, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.org, b.org), cmp.Compare(a.patient, b.patient), cmp.Compare(a.id, b.id))
	})
	for chunk := range slices.Chunk(es, auditIndexChunk) {
		err := s.write(ctx, func(tx *txn) error {
			for _, e := range chunk {
				if _, err := tx.Exec(`INSERT OR IGNORE INTO audit_read_index (org_id, patient_id, audit_id) VALUES (?, ?, ?)`,
					e.org, e.patient, e.id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("index audit reads: %w", err)
		}
	}
	err = s.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`UPDATE audit_read_cursor SET last_id = ? WHERE last_id < ?`, upTo, upTo)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("index audit reads: %w", err)
	}
	return len(es), nil
}
