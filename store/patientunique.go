package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// DuplicatePatientError says another patient of the organisation already
// has the identifier: two records for one person would split their history.
type DuplicatePatientError struct {
	Field      string // "mrn" or "nationalId"
	ExistingID int64
}

func (e *DuplicatePatientError) Error() string {
	return fmt.Sprintf("patient %d already has this %s", e.ExistingID, e.Field)
}

// Is makes a duplicate an ErrConflict for the faces' error mappers.
func (e *DuplicatePatientError) Is(target error) bool { return target == ErrConflict }

// CreateUniquePatient stores a new patient unless another patient of the
// organisation has its MRN or national id; the check and the insert are one
// write, so two desks cannot both create the same person.
func (s *Store) CreateUniquePatient(ctx context.Context, orgID int64, p *Patient) error {
	p.OrgID = orgID
	if err := p.validateAt(s.Now()); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		if err := duplicateOf(tx, orgID, p, 0); err != nil {
			return err
		}
		return createPatient(tx, orgID, p)
	})
}

// UpdateUniquePatient is UpdatePatient by id, refusing a change that gives
// the patient another patient's MRN or national id.
func (s *Store) UpdateUniquePatient(ctx context.Context, orgID, id int64, change func(*Patient) error) (*Patient, error) {
	var out *Patient
	err := s.write(ctx, func(tx *txn) error {
		p, err := updatePatientTx(ctx, tx, orgID, ByID, fmt.Sprint(id), func(p *Patient) error {
			if err := change(p); err != nil {
				return err
			}
			return duplicateOf(tx, orgID, p, p.ID)
		})
		out = p
		return err
	})
	return out, err
}

// duplicateOf finds another patient (not self) with p's MRN or national
// id. A CPR number matches with or without its dash.
func duplicateOf(tx *txn, orgID int64, p *Patient, self int64) error {
	find := func(field, query string, args ...any) error {
		var id int64
		err := tx.QueryRow(query, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("duplicate check: %w", err)
		}
		return &DuplicatePatientError{Field: field, ExistingID: id}
	}
	if mrn := strings.TrimSpace(p.MRN); mrn != "" {
		if err := find("mrn", `SELECT id FROM patients WHERE org_id = ? AND mrn = ? AND id <> ? ORDER BY id LIMIT 1`,
			orgID, mrn, self); err != nil {
			return err
		}
	}
	if nid := strings.TrimSpace(p.NationalID); nid != "" {
		forms := cprForms(nid)
		if err := find("nationalId", `SELECT id FROM patients WHERE org_id = ? AND national_id IN (?, ?) AND id <> ?
			ORDER BY id LIMIT 1`, orgID, forms[0], forms[1], self); err != nil {
			return err
		}
	}
	return nil
}

// cprForms is a national id as typed and, for a Danish CPR number, in its
// other spelling (with or without the dash after the birth date).
func cprForms(nid string) [2]string {
	digits := strings.ReplaceAll(nid, "-", "")
	if len(digits) == 10 && strings.Trim(digits, "0123456789") == "" {
		return [2]string{digits, digits[:6] + "-" + digits[6:]}
	}
	return [2]string{nid, nid}
}
