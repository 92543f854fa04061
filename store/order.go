package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// An order is a sample labelled for a patient (SampleOrder, station.go):
// what was requested for an encounter. Its state follows its results,
// matched by the sample (specimen) id the analyser reports:
//
//   - requested: an analyser asked the host about a sample nobody had
//     labelled (an ASTM host query): the order exists so the request is
//     seen and the results find it, but no one ordered it here yet;
//   - ordered: no result yet;
//   - partial: some ordered tests have a result, or a result is preliminary;
//   - resulted: every ordered test (or, with no test list, at least one) has
//     a result that is not preliminary.

// Order states.
const (
	OrderRequested = "requested"
	OrderOrdered   = "ordered"
	OrderPartial   = "partial"
	OrderResulted  = "resulted"
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
// the given sample ids and writes order:updated for each that changed. An
// order that has no patient yet (a host query's) takes the patient and
// encounter of its sample's results once they are matched to exactly one
// patient.
func updateOrderStates(tx *txn, orgID int64, sampleIDs []string) error {
	slices.Sort(sampleIDs)
	for _, sid := range slices.Compact(sampleIDs) {
		if sid == "" {
			continue
		}
		var id, patientID int64
		var tests, state string
		err := tx.QueryRow(`SELECT id, tests, state, COALESCE(patient_id, 0) FROM sample_orders WHERE org_id = ? AND sample_id = ?`,
			orgID, sid).Scan(&id, &tests, &state, &patientID)
		if err != nil {
			continue // a sample nobody labelled
		}
		rows, err := tx.Query(`SELECT code, status, COALESCE(patient_id, 0), COALESCE(appointment_id, 0) FROM observations
			WHERE org_id = ? AND specimen_id = ? AND superseded_at = 0 AND is_qc = 0`, orgID, sid)
		if err != nil {
			return fmt.Errorf("order state: %w", err)
		}
		codes := map[string]bool{}
		prelim := false
		patients := map[int64]int64{} // patient -> an encounter of theirs the results name
		for rows.Next() {
			var code, status string
			var pid, appt int64
			if err := rows.Scan(&code, &status, &pid, &appt); err != nil {
				rows.Close()
				return fmt.Errorf("order state: %w", err)
			}
			codes[code] = true
			prelim = prelim || preliminary(status)
			if pid > 0 && (patients[pid] == 0 || appt > 0) {
				patients[pid] = appt
			}
		}
		rows.Close()
		changed := false
		if patientID == 0 && len(patients) == 1 {
			for pid, appt := range patients {
				if appt == 0 {
					if appt, err = openEncounterOf(tx, orgID, pid); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(`UPDATE sample_orders SET patient_id = ?, appointment_id = NULLIF(?, 0), updated_at = ?
					WHERE id = ?`, pid, appt, unix(tx.Now), id); err != nil {
					return fmt.Errorf("order patient: %w", err)
				}
			}
			changed = true
		}
		next := orderState(strings.Fields(tests), codes, prelim)
		if next == OrderOrdered && state == OrderRequested {
			next = state // still only requested: no result has come
		}
		if next != state {
			if _, err := tx.Exec(`UPDATE sample_orders SET state = ?, updated_at = ? WHERE id = ?`, next, unix(tx.Now), id); err != nil {
				return fmt.Errorf("order state: %w", err)
			}
			changed = true
		}
		if !changed {
			continue
		}
		if err := tx.Event(orgID, EventOrderUpdated, "order", id, map[string]any{"orderId": id, "state": next}); err != nil {
			return err
		}
	}
	return nil
}

// HostQuery is an analyser's question about a sample (an ASTM Q record).
type HostQuery struct {
	SampleID string
	Tests    []string // the tests asked about; none (or ALL) for every test
	Station  string   // the asking device's station
}

// RequestSampleOrder is the order a host query is answered from: the
// sample's order if it has one, else a new one in state requested, source
// host-query, with the tests the analyser asked about. A sample is known
// when results already carry it on exactly one patient: the new order is
// then that patient's, on the encounter those results belong to (or the
// patient's open encounter). created reports whether the order is new. A
// second query for the same sample finds the first one's order.
func (s *Store) RequestSampleOrder(ctx context.Context, orgID int64, q HostQuery) (o *SampleOrder, created bool, err error) {
	// The tests asked about become the order's test list; a name that
	// cannot be a test code (spaces, delimiters) is left out of it (the
	// query itself stays in the device's message log as sent).
	var tests []string
	for _, t := range q.Tests {
		t = strings.TrimSpace(t)
		if t == "" || strings.EqualFold(t, "ALL") || len(t) > 50 || strings.ContainsAny(t, "|\\^& \r\n") || slices.Contains(tests, t) {
			continue
		}
		tests = append(tests, t)
	}
	n := &SampleOrder{SampleID: q.SampleID, Station: strings.TrimSpace(q.Station), Tests: tests, Source: "host-query"}
	if err := n.validate(false); err != nil {
		return nil, false, err
	}
	err = s.write(ctx, func(tx *txn) error {
		old, err := scanSampleOrder(tx.QueryRow(`SELECT `+sampleOrderCols+` FROM sample_orders WHERE org_id = ? AND sample_id = ?`,
			orgID, n.SampleID))
		if err == nil {
			o, created = old, false
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("request order: %w", err)
		}
		patients := map[int64]int64{}
		rows, err := tx.Query(`SELECT patient_id, COALESCE(appointment_id, 0) FROM observations WHERE org_id = ? AND specimen_id = ?
			AND patient_id IS NOT NULL AND is_qc = 0 AND superseded_at = 0`, orgID, n.SampleID)
		if err != nil {
			return fmt.Errorf("request order: %w", err)
		}
		for rows.Next() {
			var pid, appt int64
			if err := rows.Scan(&pid, &appt); err != nil {
				rows.Close()
				return fmt.Errorf("request order: %w", err)
			}
			if patients[pid] == 0 || appt > 0 {
				patients[pid] = appt
			}
		}
		rows.Close()
		if len(patients) == 1 {
			for pid, appt := range patients {
				n.PatientID, n.AppointmentID = pid, appt
			}
			if n.AppointmentID == 0 {
				if n.AppointmentID, err = openEncounterOf(tx, orgID, n.PatientID); err != nil {
					return err
				}
			}
		}
		n.OrgID, n.UUID = orgID, NewUUID()
		n.CreatedAt, n.UpdatedAt, n.State = tx.Now, tx.Now, OrderRequested
		res, err := tx.Exec(`INSERT INTO sample_orders (uuid, org_id, sample_id, patient_id, appointment_id, station,
			tests, priority, created_at, state, source, updated_at)
			VALUES (?, ?, ?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?)`,
			n.UUID, orgID, n.SampleID, n.PatientID, n.AppointmentID, n.Station, strings.Join(n.Tests, " "),
			n.Priority, unix(tx.Now), n.State, n.Source, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("request order: %w", err)
		}
		n.ID, _ = res.LastInsertId()
		// Results that arrived before the query count at once.
		if err := updateOrderStates(tx, orgID, []string{n.SampleID}); err != nil {
			return err
		}
		if err := tx.Event(orgID, EventOrderUpdated, "order", n.ID, map[string]any{"orderId": n.ID, "state": n.State}); err != nil {
			return err
		}
		if err := tx.Audit(orgID, "create", "sample-order", n.SampleID, n.PatientID, "host query "+strings.Join(n.Tests, " ")); err != nil {
			return err
		}
		o, created = n, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if created {
		// The state may have moved on with results already stored.
		if cur, err := s.SampleOrderBySample(ctx, orgID, o.SampleID); err == nil {
			o = cur
		}
	}
	return o, created, nil
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

const orderRowCols = `, COALESCE(p.uuid, ''), COALESCE(a.uuid, '')`

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
		LEFT JOIN patients p ON p.id = o.patient_id LEFT JOIN appointments a ON a.id = o.appointment_id WHERE `+where, args...)
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
