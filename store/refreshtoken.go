package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// A token family is one sign-in to the monitoring API: a chain of refresh
// tokens, each replacing the one before. Only hashes of tokens are stored.

// ErrTokenReuse: a refresh token that was already exchanged came back. The
// whole family has been revoked (someone else may hold a copy).
var ErrTokenReuse = errors.New("refresh token reused; the sign-in has been revoked")

// ErrTokenInvalid: an unknown, expired or revoked refresh token.
var ErrTokenInvalid = errors.New("refresh token is not valid")

// TokenFamily is the sign-in a refresh token belongs to.
type TokenFamily struct {
	ID     string
	OrgID  int64
	UserID int64
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// StartTokenFamily records a sign-in and its first refresh token.
func (s *Store) StartTokenFamily(ctx context.Context, orgID, userID int64, refresh string, ttl time.Duration) (*TokenFamily, error) {
	f := &TokenFamily{ID: NewUUID(), OrgID: orgID, UserID: userID}
	err := s.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(`INSERT INTO refresh_families (id, org_id, user_id, created_at) VALUES (?, ?, ?, ?)`,
			f.ID, orgID, userID, unix(tx.Now)); err != nil {
			return fmt.Errorf("start token family: %w", err)
		}
		if _, err := tx.Exec(`INSERT INTO refresh_tokens (hash, family_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
			hashToken(refresh), f.ID, unix(tx.Now.Add(ttl)), unix(tx.Now)); err != nil {
			return fmt.Errorf("start token family: %w", err)
		}
		return tx.Audit(orgID, "sign-in", "monitoring-api", f.ID, 0, "")
	})
	return f, err
}

// RotateRefreshToken exchanges a refresh token for next (valid for ttl).
// A token exchanged before revokes its family and answers ErrTokenReuse; an
// unknown, expired or revoked one answers ErrTokenInvalid.
func (s *Store) RotateRefreshToken(ctx context.Context, old, next string, ttl time.Duration) (*TokenFamily, error) {
	var f TokenFamily
	reused := false
	err := s.write(ctx, func(tx *txn) error {
		reused = false
		var expires, used, revoked int64
		var active bool
		err := tx.QueryRow(`SELECT f.id, f.org_id, f.user_id, t.expires_at, t.used_at, f.revoked_at, u.active
			FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id JOIN users u ON u.id = f.user_id
			WHERE t.hash = ?`, hashToken(old)).Scan(&f.ID, &f.OrgID, &f.UserID, &expires, &used, &revoked, &active)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrTokenInvalid
		}
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		if revoked != 0 || !active || !tx.Now.Before(fromUnix(expires)) {
			return ErrTokenInvalid
		}
		if used != 0 {
			reused = true
			if _, err := tx.Exec(`UPDATE refresh_families SET revoked_at = ?, revoked_why = 'reuse' WHERE id = ?`, unix(tx.Now), f.ID); err != nil {
				return fmt.Errorf("revoke token family: %w", err)
			}
			if err := tx.credentialRevoked(f.OrgID, CredentialSignIn, f.UserID, map[string]any{"familyId": f.ID}); err != nil {
				return err
			}
			return tx.Audit(f.OrgID, "revoke", "monitoring-api", f.ID, 0, "refresh token reused")
		}
		if _, err := tx.Exec(`UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, unix(tx.Now), hashToken(old)); err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		_, err = tx.Exec(`INSERT INTO refresh_tokens (hash, family_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
			hashToken(next), f.ID, unix(tx.Now.Add(ttl)), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reused {
		return nil, ErrTokenReuse
	}
	return &f, nil
}

// RevokeTokenFamily ends a sign-in (sign-out): its refresh tokens stop
// working and so do the access tokens issued under it.
func (s *Store) RevokeTokenFamily(ctx context.Context, orgID int64, familyID string) error {
	return s.write(ctx, func(tx *txn) error {
		var userID int64
		err := tx.QueryRow(`UPDATE refresh_families SET revoked_at = ?, revoked_why = 'sign-out'
			WHERE org_id = ? AND id = ? AND revoked_at = 0 RETURNING user_id`, unix(tx.Now), orgID, familyID).Scan(&userID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// Ended before, or not this organisation's: nothing to tell.
		case err != nil:
			return fmt.Errorf("revoke token family: %w", err)
		default:
			if err := tx.credentialRevoked(orgID, CredentialSignIn, userID, map[string]any{"familyId": familyID}); err != nil {
				return err
			}
		}
		return tx.Audit(orgID, "sign-out", "monitoring-api", familyID, 0, "")
	})
}

// SignIn is a standing sign-in: who, in which organisation.
type SignIn struct {
	FamilyID  string
	OrgID     int64
	OrgUUID   string
	UserID    int64
	UserUUID  string
	UserEmail string
	UserRole  string
}

// LiveSignIn returns a sign-in that still stands (not revoked, its user
// still active); any other answers ErrTokenInvalid.
func (s *Store) LiveSignIn(ctx context.Context, familyID string) (*SignIn, error) {
	si := SignIn{FamilyID: familyID}
	var revoked int64
	var active bool
	err := s.r.QueryRowContext(ctx, `SELECT f.org_id, o.uuid, u.id, u.uuid, u.email, u.role, f.revoked_at, u.active
		FROM refresh_families f JOIN users u ON u.id = f.user_id JOIN orgs o ON o.id = f.org_id
		WHERE f.id = ?`, familyID).Scan(&si.OrgID, &si.OrgUUID, &si.UserID, &si.UserUUID, &si.UserEmail, &si.UserRole, &revoked, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	if revoked != 0 || !active {
		return nil, ErrTokenInvalid
	}
	return &si, nil
}
