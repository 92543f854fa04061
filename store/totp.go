package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A staff member's second factor: a TOTP secret (RFC 6238) and one-time
// recovery codes. The store keeps the secret (it must be readable to check
// codes) and hashes of the recovery codes; checking a code is the caller's
// (web/auth, with pquerna/otp), passed in as a function so that the check
// and the "newest step used" bookkeeping happen in one transaction and a
// code is never accepted twice.

// CodeCheck checks a code against secret and answers the time step it
// matched; it must refuse steps at or before lastStep.
type CodeCheck func(secret string, lastStep int64) (step int64, ok bool)

// ErrBadSecondFactor: the code is wrong, expired or used before.
var ErrBadSecondFactor = errors.New("the code is not valid")

// SecondFactor is a user's TOTP state.
type SecondFactor struct {
	Enrolled      bool // a confirmed secret
	Pending       bool // enrolment started, not yet confirmed
	RecoveryCodes int  // unused recovery codes
}

// SecondFactorOf returns a user's TOTP state.
func (s *Store) SecondFactorOf(ctx context.Context, userID int64) (*SecondFactor, error) {
	var sf SecondFactor
	var confirmed int64
	err := s.r.QueryRowContext(ctx, `SELECT confirmed_at FROM user_totp WHERE user_id = ?`, userID).Scan(&confirmed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("second factor: %w", err)
	}
	if err == nil {
		sf.Enrolled, sf.Pending = confirmed != 0, confirmed == 0
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = ? AND used_at = 0`, userID).
		Scan(&sf.RecoveryCodes); err != nil {
		return nil, fmt.Errorf("second factor: %w", err)
	}
	return &sf, nil
}

// StartTOTPEnrollment stores a new, unconfirmed secret for a user who has
// no confirmed one (a confirmed factor must be removed first).
func (s *Store) StartTOTPEnrollment(ctx context.Context, orgID, userID int64, secret string) error {
	return s.write(ctx, func(tx *txn) error {
		var confirmed int64
		err := tx.QueryRow(`SELECT confirmed_at FROM user_totp t JOIN users u ON u.id = t.user_id WHERE u.org_id = ? AND t.user_id = ?`,
			orgID, userID).Scan(&confirmed)
		if err == nil && confirmed != 0 {
			return Conflict("a second factor is already set up; remove it first")
		}
		res, err := tx.Exec(`INSERT INTO user_totp (user_id, secret, created_at) SELECT id, ?, ? FROM users WHERE org_id = ? AND id = ?
			ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0`,
			secret, unix(tx.Now), orgID, userID)
		if err != nil {
			return fmt.Errorf("start totp: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// PendingTOTPSecret is the secret of an enrolment awaiting confirmation
// (to show as a QR code).
func (s *Store) PendingTOTPSecret(ctx context.Context, userID int64) (string, error) {
	var secret string
	err := s.r.QueryRowContext(ctx, `SELECT secret FROM user_totp WHERE user_id = ? AND confirmed_at = 0`, userID).Scan(&secret)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("pending totp: %w", err)
	}
	return secret, nil
}

// ConfirmTOTP completes an enrolment with a first valid code and stores the
// recovery codes (their hashes), replacing any earlier ones.
func (s *Store) ConfirmTOTP(ctx context.Context, orgID, userID int64, check CodeCheck, recoveryCodes []string) error {
	return s.write(ctx, func(tx *txn) error {
		var secret, email string
		err := tx.QueryRow(`SELECT t.secret, u.email FROM user_totp t JOIN users u ON u.id = t.user_id
			WHERE u.org_id = ? AND t.user_id = ? AND t.confirmed_at = 0`, orgID, userID).Scan(&secret, &email)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("confirm totp: %w", err)
		}
		step, ok := check(secret, 0)
		if !ok {
			return Invalid("code", "is not the current code of your authenticator app")
		}
		if _, err := tx.Exec(`UPDATE user_totp SET confirmed_at = ?, last_step = ? WHERE user_id = ?`, unix(tx.Now), step, userID); err != nil {
			return fmt.Errorf("confirm totp: %w", err)
		}
		if _, err := tx.Exec(`DELETE FROM user_recovery_codes WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("confirm totp: %w", err)
		}
		for _, c := range recoveryCodes {
			if _, err := tx.Exec(`INSERT INTO user_recovery_codes (user_id, hash) VALUES (?, ?)`, userID, hashToken(normaliseRecovery(c))); err != nil {
				return fmt.Errorf("confirm totp: %w", err)
			}
		}
		return tx.Audit(orgID, "enable", "second-factor", email, 0, "")
	})
}

// RemoveTOTP removes a user's second factor and recovery codes.
func (s *Store) RemoveTOTP(ctx context.Context, orgID, userID int64) error {
	return s.write(ctx, func(tx *txn) error {
		var email string
		if err := tx.QueryRow(`SELECT email FROM users WHERE org_id = ? AND id = ?`, orgID, userID).Scan(&email); err != nil {
			return ErrNotFound
		}
		if _, err := tx.Exec(`DELETE FROM user_totp WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("remove totp: %w", err)
		}
		if _, err := tx.Exec(`DELETE FROM user_recovery_codes WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("remove totp: %w", err)
		}
		return tx.Audit(orgID, "disable", "second-factor", email, 0, "")
	})
}

func normaliseRecovery(c string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(c)))
}

// VerifySecondFactor checks a code for a user with a confirmed factor: a
// TOTP code newer than the last one accepted, or an unused recovery code
// (then used up). A wrong code counts as a failed sign-in (the account
// locks after repeated failures, as for passwords).
func (s *Store) VerifySecondFactor(ctx context.Context, userID int64, code string, check CodeCheck) error {
	failed := false
	var lockedUntil time.Time
	err := s.write(context.WithoutCancel(ctx), func(tx *txn) error {
		failed = false
		var secret, email string
		var lastStep, locked int64
		var orgID int64
		var fails int
		err := tx.QueryRow(`SELECT t.secret, t.last_step, u.email, u.org_id, u.failed_logins, u.locked_until
			FROM user_totp t JOIN users u ON u.id = t.user_id WHERE t.user_id = ? AND t.confirmed_at <> 0 AND u.active = 1`, userID).
			Scan(&secret, &lastStep, &email, &orgID, &fails, &locked)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrBadSecondFactor
		}
		if err != nil {
			return fmt.Errorf("verify second factor: %w", err)
		}
		if tx.Now.Before(fromUnix(locked)) {
			lockedUntil = fromUnix(locked)
			return nil
		}
		if step, ok := check(secret, lastStep); ok && step > lastStep {
			if _, err := tx.Exec(`UPDATE user_totp SET last_step = ? WHERE user_id = ?`, step, userID); err != nil {
				return fmt.Errorf("verify second factor: %w", err)
			}
			_, err := tx.Exec(`UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?`, userID)
			return err
		}
		res, err := tx.Exec(`UPDATE user_recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at = 0`,
			unix(tx.Now), userID, hashToken(normaliseRecovery(code)))
		if err != nil {
			return fmt.Errorf("verify second factor: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if _, err := tx.Exec(`UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?`, userID); err != nil {
				return err
			}
			return tx.Audit(orgID, "recovery-code-used", "second-factor", email, 0, "")
		}
		failed = true
		fails++
		var until int64
		if fails >= lockAfter {
			until = unix(tx.Now.Add(min(lockBase<<min(fails-lockAfter, 10), lockMaximum)))
		}
		if _, err := tx.Exec(`UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?`, fails, until, userID); err != nil {
			return err
		}
		return tx.Audit(orgID, "second-factor-failed", "user", email, 0, "")
	})
	switch {
	case err != nil:
		return err
	case !lockedUntil.IsZero():
		return &LockedError{Until: lockedUntil}
	case failed:
		return ErrBadSecondFactor
	}
	return nil
}
