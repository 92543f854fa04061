package store

import (
	"context"
	"fmt"
	"strings"
)

// PatientPageFilter selects one page of patients in id order, for APIs that
// page with a cursor (the next page starts after the last id seen, so
// patients added meanwhile neither repeat nor vanish).
type PatientPageFilter struct {
	Query   string // words, each the start of a name part or an identifier
	Active  *bool
	Program string // only patients with an enrollment in this programme
	AfterID int64
	Limit   int
}

// PatientPage lists patients with ids above AfterID, by id.
func (s *Store) PatientPage(ctx context.Context, orgID int64, f PatientPageFilter) ([]Patient, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where := `org_id = ? AND id > ?`
	args := []any{orgID, f.AfterID}
	words := strings.Fields(strings.ToLower(f.Query))
	if len(words) > 6 {
		words = words[:6]
	}
	for _, w := range words {
		where += ` AND id IN (SELECT patient_id FROM patient_terms WHERE org_id = ? AND term >= ? AND term < ?)`
		args = append(args, orgID, w, w+"\uffff")
	}
	if f.Active != nil {
		where += ` AND active = ?`
		args = append(args, boolInt(*f.Active))
	}
	if f.Program != "" {
		where += ` AND id IN (SELECT patient_id FROM enrollments WHERE org_id = ? AND program = ?)`
		args = append(args, orgID, f.Program)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM patients WHERE `+where+` ORDER BY id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("patient page: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("patient page: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("patient page: %w", err)
	}
	return s.patientsByIDs(ctx, orgID, ids)
}
