package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// APIKey is a telehealth API client's key. Only a hash of the secret is
// stored: the whole key is shown once, when it is created.
//
// A key is "cbk_" + 16 hex characters (the prefix, stored in clear to find
// the row) + "_" + 43 characters of base64url (32 random bytes). Because the
// secret has 256 bits of entropy, a fast SHA-256 of the whole key resists
// guessing as well as a slow password hash would, and keeps every API
// request cheap.
type APIKey struct {
	ID         int64
	OrgID      int64
	Name       string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero = never used; refreshed at most once a minute
	RevokedAt  time.Time // zero = active
}

const apiKeyPrefixLen = 4 + 16 // "cbk_" + hex

// Revoked reports whether the key was revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Validate checks a key's fields.
func (k *APIKey) Validate() error {
	var v Validator
	k.Name = strings.TrimSpace(k.Name)
	v.Check(k.Name != "", "name", "is required")
	v.Check(len(k.Name) <= 100, "name", "must be at most 100 characters")
	return v.Err()
}

func hashAPIKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey stores a new key for the organisation and returns the key
// itself, which is not stored and cannot be shown again.
func (s *Store) CreateAPIKey(ctx context.Context, orgID int64, k *APIKey) (string, error) {
	k.OrgID = orgID
	if err := k.Validate(); err != nil {
		return "", err
	}
	var p [8]byte
	rand.Read(p[:])
	k.Prefix = "cbk_" + hex.EncodeToString(p[:])
	token := k.Prefix + "_" + NewToken(32)
	err := s.write(ctx, func(tx *txn) error {
		k.CreatedAt = tx.Now
		res, err := tx.Exec(`INSERT INTO api_keys (org_id, name, prefix, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			orgID, k.Name, k.Prefix, hashAPIKey(token), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create api key: %w", err)
		}
		k.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "api-key", fmt.Sprint(k.ID), 0, k.Name)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

const apiKeyCols = `id, org_id, name, prefix, created_at, last_used_at, revoked_at`

func scanAPIKey(row interface{ Scan(...any) error }, extra ...any) (*APIKey, error) {
	var k APIKey
	var c, u, rv int64
	err := row.Scan(append([]any{&k.ID, &k.OrgID, &k.Name, &k.Prefix, &c, &u, &rv}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromUnix(c), fromUnix(u), fromUnix(rv)
	return &k, nil
}

// APIKeyByToken finds the active key that token is. A malformed, unknown or
// revoked key is ErrNotFound (callers answer 401 without saying which).
func (s *Store) APIKeyByToken(ctx context.Context, token string) (*APIKey, error) {
	if len(token) <= apiKeyPrefixLen || !strings.HasPrefix(token, "cbk_") {
		return nil, ErrNotFound
	}
	var hash string
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, `SELECT `+apiKeyCols+`, secret_hash FROM api_keys
		WHERE prefix = ?`, token[:apiKeyPrefixLen]), &hash)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("api key: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(hashAPIKey(token))) != 1 || k.Revoked() {
		return nil, ErrNotFound
	}
	return k, nil
}

// TouchAPIKey records that a key was just used.
func (s *Store) TouchAPIKey(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`, unix(tx.Now), id); err != nil {
			return fmt.Errorf("touch api key %d: %w", id, err)
		}
		return nil
	})
}

// APIKeys lists an organisation's keys (orgID 0: every organisation's),
// newest first.
func (s *Store) APIKeys(ctx context.Context, orgID int64) ([]APIKey, error) {
	q := `SELECT ` + apiKeyCols + ` FROM api_keys`
	var args []any
	if orgID > 0 {
		q += ` WHERE org_id = ?`
		args = append(args, orgID)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("api keys: %w", err)
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key of the organisation (orgID 0: of any
// organisation, for the command line). Revoking twice is not an error.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		var keyOrg int64
		var name string
		q := `SELECT org_id, name FROM api_keys WHERE id = ?`
		args := []any{id}
		if orgID > 0 {
			q += ` AND org_id = ?`
			args = append(args, orgID)
		}
		if err := tx.QueryRow(q, args...).Scan(&keyOrg, &name); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("revoke api key %d: %w", id, err)
		}
		if _, err := tx.Exec(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, unix(tx.Now), id); err != nil {
			return fmt.Errorf("revoke api key %d: %w", id, err)
		}
		return tx.Audit(keyOrg, "revoke", "api-key", fmt.Sprint(id), 0, name)
	})
}
