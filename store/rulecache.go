package store

import (
	"fmt"
	"sync"
	"time"
)

// ruleCache keeps, for the writer, the threshold rules of each patient's
// active enrollments, so that checking a reading costs no query when the
// patient's rules are known. It is filled and dropped inside writes only:
// a write that changes enrollments or rules drops it at once, again if it
// is rolled back and again when its transaction ends (so nothing read from
// a transaction that did not commit outlives it), and it is dropped when
// another connection has written to the file (Tx.OutsideWrites).
type ruleCache struct {
	mu      sync.Mutex
	outside uint64
	m       map[[2]int64][]patientRule
}

// maxRuleCachePatients bounds the cache; past it, it starts again empty.
const maxRuleCachePatients = 100_000

// patientRule is a threshold rule and the enrollment it belongs to.
type patientRule struct {
	AlertRule
	enrollmentID int64
}

// thresholdRules returns the active threshold rules on metric for the
// patient, from the cache or the database.
func (tx *txn) thresholdRules(orgID, patientID int64, metric string) ([]patientRule, error) {
	c := &tx.s.rules
	key := [2]int64{orgID, patientID}
	c.mu.Lock()
	if c.m == nil || c.outside != tx.OutsideWrites() || len(c.m) > maxRuleCachePatients {
		c.m, c.outside = map[[2]int64][]patientRule{}, tx.OutsideWrites()
	}
	all, ok := c.m[key]
	c.mu.Unlock()
	if !ok {
		var err error
		if all, err = loadThresholdRules(tx, orgID, patientID); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.m != nil {
			c.m[key] = all
		}
		c.mu.Unlock()
	}
	var out []patientRule
	for _, r := range all {
		if r.MetricKey == metric {
			out = append(out, r)
		}
	}
	return out, nil
}

func loadThresholdRules(tx *txn, orgID, patientID int64) ([]patientRule, error) {
	rows, err := tx.Query(`SELECT r.id, r.kind, r.metric_key, r.operator, r.threshold, r.count, r.window_seconds, r.severity, e.id
		FROM alert_rules r JOIN enrollments e ON e.id = r.enrollment_id
		WHERE r.org_id = ? AND e.patient_id = ? AND e.status = 'ACTIVE' AND r.active = 1 AND r.kind = 'threshold'
		ORDER BY r.id`, orgID, patientID)
	if err != nil {
		return nil, fmt.Errorf("alert rules: %w", err)
	}
	defer rows.Close()
	all := []patientRule{} // not nil: "no rules" is cached too
	for rows.Next() {
		var r patientRule
		var win int64
		if err := rows.Scan(&r.ID, &r.Kind, &r.MetricKey, &r.Operator, &r.Threshold, &r.Count, &win, &r.Severity, &r.enrollmentID); err != nil {
			return nil, fmt.Errorf("alert rules: %w", err)
		}
		r.Window = time.Duration(win) * time.Second
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert rules: %w", err)
	}
	return all, nil
}

// rulesChanged drops the rule cache: the write changes enrollments or
// their rules.
func (tx *txn) rulesChanged() {
	c := &tx.s.rules
	drop := func() {
		c.mu.Lock()
		c.m = nil
		c.mu.Unlock()
	}
	drop()
	tx.OnRollback(drop)
	tx.AfterCommit(drop)
}
