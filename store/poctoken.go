package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PoctToken is a bearer token of the point-of-care API, bound to one
// organisation: every request made with it reaches that organisation's data
// only. A distributor serving several clinics gets one token per clinic.
//
// A token is "cbp_" + 16 hex characters (the prefix, kept in clear to find
// the row) + "_" + 43 characters of base64url (32 random bytes); only its
// SHA-256 is stored (the secret's entropy makes a slow hash unnecessary).
type PoctToken struct {
	ID         int64
	OrgID      int64
	Name       string
	Prefix     string
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

const poctTokenPrefixLen = 4 + 16

// Revoked reports whether the token was revoked.
func (t *PoctToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Validate checks a token's fields.
func (t *PoctToken) Validate() error {
	var v Validator
	t.Name = strings.TrimSpace(t.Name)
	v.Check(t.Name != "", "name", "is required")
	v.Check(len(t.Name) <= 100, "name", "must be at most 100 characters")
	return v.Err()
}

// CreatePoctToken issues a token for the organisation and returns it; it is
// not stored and cannot be shown again.
func (s *Store) CreatePoctToken(ctx context.Context, orgID int64, t *PoctToken) (string, error) {
	t.OrgID = orgID
	if err := t.Validate(); err != nil {
		return "", err
	}
	var p [8]byte
	rand.Read(p[:])
	t.Prefix = "cbp_" + hex.EncodeToString(p[:])
	token := t.Prefix + "_" + NewToken(32)
	t.CreatedBy = ActorFrom(ctx).Name
	err := s.write(ctx, func(tx *txn) error {
		var one int
		if err := tx.QueryRow(`SELECT 1 FROM orgs WHERE id = ?`, orgID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("organisation %d: %w", orgID, ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("create poct token: %w", err)
		}
		t.CreatedAt = tx.Now
		res, err := tx.Exec(`INSERT INTO poct_tokens (org_id, name, prefix, secret_hash, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, orgID, t.Name, t.Prefix, hashAPIKey(token), t.CreatedBy, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create poct token: %w", err)
		}
		t.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "poct-token", fmt.Sprint(t.ID), 0, t.Name)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

const poctTokenCols = `id, org_id, name, prefix, created_by, created_at, last_used_at, revoked_at`

func scanPoctToken(row interface{ Scan(...any) error }, extra ...any) (*PoctToken, error) {
	var t PoctToken
	var c, u, r int64
	err := row.Scan(append([]any{&t.ID, &t.OrgID, &t.Name, &t.Prefix, &t.CreatedBy, &c, &u, &r}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromUnix(c), fromUnix(u), fromUnix(r)
	return &t, nil
}

// PoctTokenByToken finds the active token. Malformed, unknown and revoked
// tokens are all ErrNotFound.
func (s *Store) PoctTokenByToken(ctx context.Context, token string) (*PoctToken, error) {
	if len(token) <= poctTokenPrefixLen || !strings.HasPrefix(token, "cbp_") {
		return nil, ErrNotFound
	}
	var hash string
	t, err := scanPoctToken(s.r.QueryRowContext(ctx, `SELECT `+poctTokenCols+`, secret_hash FROM poct_tokens
		WHERE prefix = ?`, token[:poctTokenPrefixLen]), &hash)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("poct token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(hashAPIKey(token))) != 1 || t.Revoked() {
		return nil, ErrNotFound
	}
	return t, nil
}

// TouchPoctToken records that a token was just used.
func (s *Store) TouchPoctToken(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(`UPDATE poct_tokens SET last_used_at = ? WHERE id = ?`, unix(tx.Now), id); err != nil {
			return fmt.Errorf("touch poct token %d: %w", id, err)
		}
		return nil
	})
}

// PoctTokens lists an organisation's tokens, newest first.
func (s *Store) PoctTokens(ctx context.Context, orgID int64) ([]PoctToken, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+poctTokenCols+` FROM poct_tokens WHERE org_id = ? ORDER BY id DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("poct tokens: %w", err)
	}
	defer rows.Close()
	var out []PoctToken
	for rows.Next() {
		t, err := scanPoctToken(rows)
		if err != nil {
			return nil, fmt.Errorf("poct tokens: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// RevokePoctToken revokes a token of the organisation.
func (s *Store) RevokePoctToken(ctx context.Context, orgID, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		var name string
		err := tx.QueryRow(`SELECT name FROM poct_tokens WHERE org_id = ? AND id = ?`, orgID, id).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("poct token %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("revoke poct token: %w", err)
		}
		if _, err := tx.Exec(`UPDATE poct_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, unix(tx.Now), id); err != nil {
			return fmt.Errorf("revoke poct token: %w", err)
		}
		return tx.Audit(orgID, "revoke", "poct-token", fmt.Sprint(id), 0, name)
	})
}
