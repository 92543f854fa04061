package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// An order is a sample labelled for a patient (SampleOrder, station.go):
// what was requested for an encounter. Its state follows its results,
// matched by the sample (specimen) id the analyser reports:
//
//   - ordered: no result yet;
//   - partial: some ordered tests have a result, or a result is preliminary;
//   - resulted: every ordered test (or, with no test list, at least one) has
//     a result that is not preliminary.

// Order states.
const (
	OrderOrdered  = "ordered"
	OrderPartial  = "partial"
	OrderResulted = "resulted"
)

// EventOrderUpdated is an order created or whose state changed (payload:
// orderId, state).
const EventOrderUpdated = "order:updated"

// preliminary reports a result status that says more is to come (HL7 P, I,
// ASTM P/I; "preliminary", "pending").
func preliminary(status string) bool {
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "p", "i", "preliminary", "pending", "registered":
		return true
	}
	return false
}

// orderState derives an order's state from its current results.
func orderState(tests []string, codes map[string]bool, anyPrelim bool) string {
	if len(codes) == 0 {
		return OrderOrdered
	}
	if len(tests) == 0 {
		if anyPrelim {
			return OrderPartial
		}
		return OrderResulted
	}
	for _, t := range tests {
		if !codes[t] {
			return OrderPartial
		}
	}
	if anyPrelim {
		return OrderPartial
	}
	return OrderResulted
}

// updateOrderStates recomputes, within a write, the state of the orders of
// the given sample ids and writes order:updated for each that changed.
func updateOrderStates(tx *txn, orgID int64, sampleIDs []string) error {
	slices.Sort(sampleIDs)
	for _, sid := range slices.Compact(sampleIDs) {
		if sid == "" {
			continue
		}
		var id int64
		var tests, state string
		err := tx.QueryRow(`SELECT id, tests, state FROM sample_orders WHERE org_id = ? AND sample_id = ?`, orgID, sid).Scan(&id, &tests, &state)
		if err != nil {
			continue // a sample nobody labelled
		}
		rows, err := tx.Query(`SELECT code, status FROM observations WHERE org_id = ? AND specimen_id = ?
			AND superseded_at = 0 AND is_qc = 0`, orgID, sid)
		if err != nil {
			return fmt.Errorf("order state: %w", err)
		}
		codes := map[string]bool{}
		prelim := false
		for rows.Next() {
			var code, status string
			if err := rows.Scan(&code, &status); err != nil {
				rows.Close()
				return fmt.Errorf("order state: %w", err)
			}
			codes[code] = true
			prelim = prelim || preliminary(status)
		}
		rows.Close()
		next := orderState(strings.Fields(tests), codes, prelim)
		if next == state {
			continue
		}
		if _, err := tx.Exec(`UPDATE sample_orders SET state = ?, updated_at = ? WHERE id = ?`, next, unix(tx.Now), id); err != nil {
			return fmt.Errorf("order state: %w", err)
		}
		if err := tx.Event(orgID, EventOrderUpdated, "order", id, map[string]any{"orderId": id, "state": next}); err != nil {
			return err
		}
	}
	return nil
}

// OrderRow is an order with the public ids of its patient and encounter.
type OrderRow struct {
	SampleOrder
	PatientUUID   string
	EncounterUUID string
}

// OrderFilter selects orders.
type OrderFilter struct {
	PatientID   int64
	EncounterID int64
	State       string
	AfterID     int64
	Limit       int
}

const orderRowCols = `, p.uuid, COALESCE(a.uuid, '')`

// Orders lists orders oldest first by id (a stable cursor).
func (s *Store) Orders(ctx context.Context, orgID int64, f OrderFilter) ([]OrderRow, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	where := `o.org_id = ?`
	args := []any{orgID}
	if f.PatientID > 0 {
		where += ` AND o.patient_id = ?`
		args = append(args, f.PatientID)
	}
	if f.EncounterID > 0 {
		where += ` AND o.appointment_id = ?`
		args = append(args, f.EncounterID)
	}
	if f.State != "" {
		where += ` AND o.state = ?`
		args = append(args, f.State)
	}
	if f.AfterID > 0 {
		where += ` AND o.id > ?`
		args = append(args, f.AfterID)
	}
	return s.queryOrders(ctx, where+` ORDER BY o.id LIMIT ?`, append(args, f.Limit)...)
}

// Order returns one order by its public id.
func (s *Store) Order(ctx context.Context, orgID int64, uuid string) (*OrderRow, error) {
	out, err := s.queryOrders(ctx, `o.org_id = ? AND o.uuid = ?`, orgID, uuid)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("order %s: %w", uuid, ErrNotFound)
	}
	return &out[0], nil
}

// OrderByID returns one order by row id.
func (s *Store) OrderByID(ctx context.Context, orgID, id int64) (*OrderRow, error) {
	out, err := s.queryOrders(ctx, `o.org_id = ? AND o.id = ?`, orgID, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("order %d: %w", id, ErrNotFound)
	}
	return &out[0], nil
}

func (s *Store) queryOrders(ctx context.Context, where string, args ...any) ([]OrderRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixCols("o.", sampleOrderCols)+orderRowCols+` FROM sample_orders o
		JOIN patients p ON p.id = o.patient_id LEFT JOIN appointments a ON a.id = o.appointment_id WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	defer rows.Close()
	out := []OrderRow{}
	for rows.Next() {
		var r OrderRow
		var tests string
		var c, u int64
		o := &r.SampleOrder
		if err := rows.Scan(&o.ID, &o.UUID, &o.OrgID, &o.SampleID, &o.PatientID, &o.AppointmentID, &o.Station, &tests,
			&o.Priority, &o.CreatedBy, &c, &o.State, &o.Source, &u, &r.PatientUUID, &r.EncounterUUID); err != nil {
			return nil, fmt.Errorf("orders: %w", err)
		}
		o.Tests = strings.Fields(tests)
		o.CreatedAt, o.UpdatedAt = fromUnix(c), fromUnix(u)
		out = append(out, r)
	}
	return out, rows.Err()
}
