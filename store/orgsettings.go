package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// API plans: they set an organisation's request rate on the monitoring API.
const (
	PlanStandard   = "standard"
	PlanEnterprise = "enterprise"
)

// OrgSettings are an organisation's policy switches. An organisation that
// never changed them has the defaults (standard plan, MFA optional).
type OrgSettings struct {
	OrgID           int64
	APIPlan         string
	RequireAdminMFA bool // admins must use a TOTP second factor
}

// Validate checks the settings.
func (o *OrgSettings) Validate() error {
	var v Validator
	v.Check(o.APIPlan == PlanStandard || o.APIPlan == PlanEnterprise, "apiPlan", "must be standard or enterprise")
	return v.Err()
}

// OrgSettings returns an organisation's settings (the defaults when unset).
func (s *Store) OrgSettings(ctx context.Context, orgID int64) (*OrgSettings, error) {
	o := &OrgSettings{OrgID: orgID, APIPlan: PlanStandard}
	err := s.r.QueryRowContext(ctx, `SELECT api_plan, require_admin_mfa FROM org_settings WHERE org_id = ?`, orgID).
		Scan(&o.APIPlan, &o.RequireAdminMFA)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("org settings %d: %w", orgID, err)
	}
	return o, nil
}

// SetOrgSettings saves an organisation's settings.
func (s *Store) SetOrgSettings(ctx context.Context, o *OrgSettings) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`INSERT INTO org_settings (org_id, api_plan, require_admin_mfa, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET api_plan = excluded.api_plan,
				require_admin_mfa = excluded.require_admin_mfa, updated_at = excluded.updated_at`,
			o.OrgID, o.APIPlan, boolInt(o.RequireAdminMFA), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("set org settings: %w", err)
		}
		return tx.Audit(o.OrgID, "update", "org-settings", "", 0,
			fmt.Sprintf("plan %s, admin MFA required %t", o.APIPlan, o.RequireAdminMFA))
	})
}

// OrgByUUID returns an organisation by its public id.
func (s *Store) OrgByUUID(ctx context.Context, uuid string) (*Org, error) {
	o, err := scanOrg(s.r.QueryRowContext(ctx, `SELECT `+orgCols+` FROM orgs WHERE uuid = ?`, uuid))
	if err != nil {
		return nil, fmt.Errorf("org %q: %w", uuid, err)
	}
	return o, nil
}
