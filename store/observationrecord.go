package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// checkObservationRefs checks, within a write, that the patient, device and
// appointment an observation names are the organisation's (and that the
// appointment is the patient's).
func checkObservationRefs(tx *txn, orgID int64, o *Observation) error {
	var v Validator
	exists := func(q string, args ...any) (bool, error) {
		var one int
		err := tx.QueryRow(q, args...).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}
	if o.PatientID > 0 {
		ok, err := exists(`SELECT 1 FROM patients WHERE org_id = ? AND id = ?`, orgID, o.PatientID)
		if err != nil {
			return fmt.Errorf("observation patient: %w", err)
		}
		v.Check(ok, "subject", "does not exist")
	}
	if o.DeviceID > 0 {
		ok, err := exists(`SELECT 1 FROM devices WHERE org_id = ? AND id = ?`, orgID, o.DeviceID)
		if err != nil {
			return fmt.Errorf("observation device: %w", err)
		}
		v.Check(ok, "device", "does not exist")
	}
	if o.AppointmentID > 0 {
		ok, err := exists(`SELECT 1 FROM appointments WHERE org_id = ? AND id = ? AND patient_id = ?`, orgID, o.AppointmentID, o.PatientID)
		if err != nil {
			return fmt.Errorf("observation appointment: %w", err)
		}
		v.Check(ok, "encounter", "does not exist or is not the subject's")
	}
	return v.Err()
}

// RecordObservation stores one observation sent by an API client (an EHR
// writing back), after checking what it points to, with its event and an
// audit row.
func (s *Store) RecordObservation(ctx context.Context, orgID int64, o *Observation) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		if err := checkObservationRefs(tx, orgID, o); err != nil {
			return err
		}
		obs := []Observation{*o}
		if err := addObservationsTx(tx, orgID, obs); err != nil {
			return err
		}
		*o = obs[0]
		return tx.Audit(orgID, "create", "observation", o.UUID, o.PatientID, o.Code)
	})
}
