package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// InstrumentTokenTTL is how long an instrument API access token is valid,
// as the instrument integrations API documents.
const InstrumentTokenTTL = 10 * time.Minute

// ErrBadClientCredentials is a client id, secret or token that does not open the
// instrument API (unknown, wrong, revoked or expired: the caller is not told
// which).
var ErrBadClientCredentials = errors.New("bad credentials")

// InstrumentClient is an instrument vendor's software allowed to use the
// instrument integrations API for one organisation. Its secret is stored
// only as a hash and shown once, when the client is created.
type InstrumentClient struct {
	ID         int64
	OrgID      int64
	ClientID   string
	Name       string
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Revoked reports whether the client may no longer sign in.
func (c *InstrumentClient) Revoked() bool { return !c.RevokedAt.IsZero() }

// hashSecret hashes a client secret or access token. Both are 32 random
// bytes, so a fast hash is as strong as a slow one.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// CreateInstrumentClient issues a client and returns it with its secret,
// which is never retrievable again.
func (s *Store) CreateInstrumentClient(ctx context.Context, orgID int64, name string) (*InstrumentClient, string, error) {
	name = strings.TrimSpace(name)
	var v Validator
	v.Check(name != "", "name", "is required")
	v.Check(len(name) <= 200, "name", "must be at most 200 characters")
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	c := &InstrumentClient{OrgID: orgID, Name: name, ClientID: "ic_" + NewToken(16), CreatedBy: ActorFrom(ctx).Name}
	secret := NewToken(32)
	err := s.write(ctx, func(tx *txn) error {
		c.CreatedAt = tx.Now
		res, err := tx.Exec(`INSERT INTO instrument_clients (org_id, client_id, secret_hash, name, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, orgID, c.ClientID, hashSecret(secret), c.Name, c.CreatedBy, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create instrument client: %w", err)
		}
		c.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "instrument-client", c.ClientID, 0, c.Name)
	})
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

const instrumentClientCols = `id, org_id, client_id, name, created_by, created_at, last_used_at, revoked_at`

func scanInstrumentClient(row interface{ Scan(...any) error }) (*InstrumentClient, error) {
	var c InstrumentClient
	var created, used, revoked int64
	err := row.Scan(&c.ID, &c.OrgID, &c.ClientID, &c.Name, &c.CreatedBy, &created, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastUsedAt, c.RevokedAt = fromUnix(created), fromUnix(used), fromUnix(revoked)
	return &c, nil
}

// InstrumentClients lists an organisation's clients, newest first.
func (s *Store) InstrumentClients(ctx context.Context, orgID int64) ([]InstrumentClient, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+instrumentClientCols+` FROM instrument_clients
		WHERE org_id = ? ORDER BY id DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("instrument clients: %w", err)
	}
	defer rows.Close()
	var out []InstrumentClient
	for rows.Next() {
		c, err := scanInstrumentClient(rows)
		if err != nil {
			return nil, fmt.Errorf("instrument clients: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// RevokeInstrumentClient stops a client: it can no longer get tokens, and
// the tokens it holds stop working at once.
func (s *Store) RevokeInstrumentClient(ctx context.Context, orgID int64, clientID string) error {
	return s.write(ctx, func(tx *txn) error {
		c, err := scanInstrumentClient(tx.QueryRow(`SELECT `+instrumentClientCols+` FROM instrument_clients
			WHERE org_id = ? AND client_id = ?`, orgID, clientID))
		if err != nil {
			return fmt.Errorf("instrument client %s: %w", clientID, err)
		}
		if c.Revoked() {
			return nil
		}
		if _, err := tx.Exec(`UPDATE instrument_clients SET revoked_at = ? WHERE id = ?`, unix(tx.Now), c.ID); err != nil {
			return fmt.Errorf("revoke instrument client: %w", err)
		}
		if _, err := tx.Exec(`DELETE FROM instrument_tokens WHERE client_id = ?`, c.ID); err != nil {
			return fmt.Errorf("revoke instrument client: %w", err)
		}
		if err := tx.credentialRevoked(orgID, CredentialInstrumentClient, c.ID, nil); err != nil {
			return err
		}
		return tx.Audit(orgID, "revoke", "instrument-client", c.ClientID, 0, c.Name)
	})
}

// IssueInstrumentToken checks client credentials and returns a new access
// token, valid for InstrumentTokenTTL, with its client and expiry.
func (s *Store) IssueInstrumentToken(ctx context.Context, clientID, secret string) (string, *InstrumentClient, time.Time, error) {
	var hash string
	var c *InstrumentClient
	row := s.r.QueryRowContext(ctx, `SELECT `+instrumentClientCols+`, secret_hash FROM instrument_clients WHERE client_id = ?`, clientID)
	c, err := scanInstrumentClient(scanExtra{row, []any{&hash}})
	if errors.Is(err, ErrNotFound) {
		hashSecret(secret) // spend the same time as a known client
		return "", nil, time.Time{}, ErrBadClientCredentials
	}
	if err != nil {
		return "", nil, time.Time{}, fmt.Errorf("issue instrument token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(hash)) != 1 || c.Revoked() {
		return "", nil, time.Time{}, ErrBadClientCredentials
	}
	token := NewToken(32)
	var expires time.Time
	err = s.write(ctx, func(tx *txn) error {
		expires = tx.Now.Add(InstrumentTokenTTL)
		// Revocation may have happened since the read above.
		res, err := tx.Exec(`UPDATE instrument_clients SET last_used_at = ? WHERE id = ? AND revoked_at = 0`, unix(tx.Now), c.ID)
		if err != nil {
			return fmt.Errorf("issue instrument token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrBadClientCredentials
		}
		if _, err := tx.Exec(`DELETE FROM instrument_tokens WHERE expires_at <= ?`, unix(tx.Now)); err != nil {
			return fmt.Errorf("issue instrument token: %w", err)
		}
		_, err = tx.Exec(`INSERT INTO instrument_tokens (token_hash, client_id, org_id, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, hashSecret(token), c.ID, c.OrgID, unix(tx.Now), unix(expires))
		if err != nil {
			return fmt.Errorf("issue instrument token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", nil, time.Time{}, err
	}
	return token, c, expires, nil
}

// InstrumentClientByToken returns the client an unexpired access token was
// issued to, or ErrBadClientCredentials.
func (s *Store) InstrumentClientByToken(ctx context.Context, token string) (*InstrumentClient, error) {
	if token == "" {
		return nil, ErrBadClientCredentials
	}
	c, err := scanInstrumentClient(s.r.QueryRowContext(ctx, `SELECT `+prefixCols("c.", instrumentClientCols)+`
		FROM instrument_tokens t JOIN instrument_clients c ON c.id = t.client_id
		WHERE t.token_hash = ? AND t.expires_at > ? AND c.revoked_at = 0`, hashSecret(token), unix(s.Now())))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadClientCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("instrument token: %w", err)
	}
	return c, nil
}

// scanExtra appends destinations to a row's Scan.
type scanExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (s scanExtra) Scan(dst ...any) error { return s.row.Scan(append(dst, s.extra...)...) }

// RecordInstrumentResults stores what an instrument's software posted for a
// patient: the observations and the files, in one transaction. The patient
// must be the organisation's (else ErrNotFound and nothing is stored).
func (s *Store) RecordInstrumentResults(ctx context.Context, orgID, patientID int64, obs []Observation, files []PatientFile) error {
	return s.write(ctx, func(tx *txn) error {
		if _, err := patientBy(ctx, txQueryer{tx}, orgID, ByID, fmt.Sprint(patientID)); err != nil {
			return err
		}
		for i := range obs {
			obs[i].PatientID = patientID
		}
		if err := addObservationsTx(tx, orgID, obs); err != nil {
			return err
		}
		for i := range files {
			files[i].PatientID = patientID
			if err := addPatientFileTx(tx, orgID, &files[i]); err != nil {
				return err
			}
		}
		if len(obs) > 0 {
			return tx.Audit(orgID, "create", "observation", "", patientID, fmt.Sprintf("%d results from an instrument client", len(obs)))
		}
		return nil
	})
}
