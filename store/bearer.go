package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Bearer credentials: the telehealth API's keys and the point-of-care
// API's tokens are one mechanism with two tables. A credential is bound to
// one organisation, shown once when issued, and kept only as a hash:
//
//	<scheme>_<16 hex: the prefix, stored in clear to find the row>_<43 base64url: 32 random bytes>
//
// Because the secret has 256 bits of entropy, a fast SHA-256 of the whole
// credential resists guessing as well as a slow password hash would, and
// keeps every API request cheap. Lookup compares the hash in constant time;
// a malformed, unknown or revoked credential is ErrNotFound alike (callers
// answer 401 without saying which).

// BearerToken is an issued credential (never its secret).
type BearerToken struct {
	ID         int64
	OrgID      int64
	Name       string
	Prefix     string
	CreatedBy  string    // who issued it ("" where the kind does not record it)
	CreatedAt  time.Time //
	LastUsedAt time.Time // zero = never used; callers refresh it at most once a minute
	RevokedAt  time.Time // zero = active
}

// Revoked reports whether the credential was revoked.
func (t *BearerToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Validate checks a credential's fields.
func (t *BearerToken) Validate() error {
	var v Validator
	t.Name = strings.TrimSpace(t.Name)
	v.Check(t.Name != "", "name", "is required")
	v.Check(len(t.Name) <= 100, "name", "must be at most 100 characters")
	v.Line("name", t.Name, 100)
	return v.Err()
}

// bearerKind is one family of credentials: its table, its scheme (the
// start of every credential, which also tells a client's mistakes apart),
// the audit entity, and whether the table records who issued it.
type bearerKind struct {
	table, scheme, entity string
	createdBy             bool
}

var (
	apiKeyKind    = bearerKind{table: "api_keys", scheme: "cbk_", entity: "api-key"}
	poctTokenKind = bearerKind{table: "poct_tokens", scheme: "cbp_", entity: "poct-token", createdBy: true}
)

// prefixLen is the scheme and the 16 hex characters of the prefix.
func (k bearerKind) prefixLen() int { return len(k.scheme) + 16 }

func (k bearerKind) cols() string {
	by := `''`
	if k.createdBy {
		by = `created_by`
	}
	return `id, org_id, name, prefix, ` + by + `, created_at, last_used_at, revoked_at`
}

func hashBearer(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// issue stores a new credential for the organisation and returns it; it
// is not stored and cannot be shown again.
func (s *Store) issueBearer(ctx context.Context, k bearerKind, orgID int64, t *BearerToken) (string, error) {
	t.OrgID = orgID
	if err := t.Validate(); err != nil {
		return "", err
	}
	var p [8]byte
	rand.Read(p[:])
	t.Prefix = k.scheme + hex.EncodeToString(p[:])
	token := t.Prefix + "_" + NewToken(32)
	if k.createdBy {
		t.CreatedBy = ActorFrom(ctx).Name
	}
	err := s.write(ctx, func(tx *txn) error {
		var one int
		if err := tx.QueryRow(`SELECT 1 FROM orgs WHERE id = ?`, orgID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("organisation %d: %w", orgID, ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("create %s: %w", k.entity, err)
		}
		t.CreatedAt = tx.Now
		cols, marks, args := `org_id, name, prefix, secret_hash, created_at`, `?, ?, ?, ?, ?`,
			[]any{orgID, t.Name, t.Prefix, hashBearer(token), unix(tx.Now)}
		if k.createdBy {
			cols, marks, args = cols+`, created_by`, marks+`, ?`, append(args, t.CreatedBy)
		}
		res, err := tx.Exec(`INSERT INTO `+k.table+` (`+cols+`) VALUES (`+marks+`)`, args...)
		if err != nil {
			return fmt.Errorf("create %s: %w", k.entity, err)
		}
		t.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", k.entity, fmt.Sprint(t.ID), 0, t.Name)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

func scanBearer(row interface{ Scan(...any) error }, extra ...any) (*BearerToken, error) {
	var t BearerToken
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

// bearerByToken finds the active credential that token is.
func (s *Store) bearerByToken(ctx context.Context, k bearerKind, token string) (*BearerToken, error) {
	if len(token) <= k.prefixLen() || !strings.HasPrefix(token, k.scheme) {
		return nil, ErrNotFound
	}
	var hash string
	t, err := scanBearer(s.r.QueryRowContext(ctx, `SELECT `+k.cols()+`, secret_hash FROM `+k.table+`
		WHERE prefix = ?`, token[:k.prefixLen()]), &hash)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("%s: %w", k.entity, err)
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(hashBearer(token))) != 1 || t.Revoked() {
		return nil, ErrNotFound
	}
	return t, nil
}

// touchBearer records that a credential was just used.
func (s *Store) touchBearer(ctx context.Context, k bearerKind, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(`UPDATE `+k.table+` SET last_used_at = ? WHERE id = ?`, unix(tx.Now), id); err != nil {
			return fmt.Errorf("touch %s %d: %w", k.entity, id, err)
		}
		return nil
	})
}

// listBearers lists an organisation's credentials (orgID 0: every
// organisation's), newest first.
func (s *Store) listBearers(ctx context.Context, k bearerKind, orgID int64) ([]BearerToken, error) {
	q := `SELECT ` + k.cols() + ` FROM ` + k.table
	var args []any
	if orgID > 0 {
		q += ` WHERE org_id = ?`
		args = append(args, orgID)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s list: %w", k.entity, err)
	}
	defer rows.Close()
	var out []BearerToken
	for rows.Next() {
		t, err := scanBearer(rows)
		if err != nil {
			return nil, fmt.Errorf("%s list: %w", k.entity, err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// revokeBearer revokes a credential of the organisation (orgID 0: of any
// organisation, for the command line). Revoking twice is not an error.
func (s *Store) revokeBearer(ctx context.Context, k bearerKind, orgID, id int64) error {
	return s.write(ctx, func(tx *txn) error {
		var tokOrg int64
		var name string
		q := `SELECT org_id, name FROM ` + k.table + ` WHERE id = ?`
		args := []any{id}
		if orgID > 0 {
			q += ` AND org_id = ?`
			args = append(args, orgID)
		}
		if err := tx.QueryRow(q, args...).Scan(&tokOrg, &name); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s %d: %w", k.entity, id, ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("revoke %s %d: %w", k.entity, id, err)
		}
		res, err := tx.Exec(`UPDATE `+k.table+` SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, unix(tx.Now), id)
		if err != nil {
			return fmt.Errorf("revoke %s %d: %w", k.entity, id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // revoked before: nothing changed, nothing to tell
		}
		if err := tx.credentialRevoked(tokOrg, k.entity, id, nil); err != nil {
			return err
		}
		return tx.Audit(tokOrg, "revoke", k.entity, fmt.Sprint(id), 0, name)
	})
}

// EventCredentialRevoked is appended, in the revoking write, whenever a
// credential stops working: an API key, a point-of-care token, an OAuth2
// or instrument client revoked, a monitoring sign-in ended (sign-out or a
// reused refresh token). What keeps verified credentials in memory (the
// OAuth2 grant cache, the monitoring API's sign-in cache) watches for it
// (WatchEvents), so the first request after the revoke's answer is refused,
// on this node at once and on others within their event poll. The subject
// type says which kind; it is bookkeeping, never sent to integrators.
const EventCredentialRevoked = "credential:revoked"

// The subject types of EventCredentialRevoked. SubjectID is the row id of
// the key, token or client; for a sign-in it is the user's id and the
// payload names the family (EndedSignIn reads it).
const (
	CredentialAPIKey           = "api-key"
	CredentialPoctToken        = "poct-token"
	CredentialOAuthClient      = "oauth-client"
	CredentialInstrumentClient = "instrument-client"
	CredentialSignIn           = "sign-in"
	// CredentialUser: every sign-in of one staff account at once (the
	// account deactivated, its role changed or its password replaced);
	// SubjectID is the user's id.
	CredentialUser = "user"
)

// EndedSignIn returns the monitoring sign-in (token family) that e ended,
// if e is the revocation of one.
func EndedSignIn(e Event) (familyID string, ok bool) {
	if e.Type != EventCredentialRevoked || e.SubjectType != CredentialSignIn {
		return "", false
	}
	var p struct{ FamilyID string }
	if json.Unmarshal(e.Payload, &p) != nil || p.FamilyID == "" {
		return "", false
	}
	return p.FamilyID, true
}

// EndedUser returns the user whose every sign-in e ended, if e says so.
func EndedUser(e Event) (userID int64, ok bool) {
	if e.Type != EventCredentialRevoked || e.SubjectType != CredentialUser {
		return 0, false
	}
	return e.SubjectID, true
}

// credentialRevoked appends EventCredentialRevoked to the write.
func (tx *txn) credentialRevoked(orgID int64, kind string, id int64, payload any) error {
	return tx.Event(orgID, EventCredentialRevoked, kind, id, payload)
}
