package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// OAuthTokenTTL is how long an access token of the FHIR, key-value,
// reporting and event APIs is valid. SMART backend services asks for tokens
// of at most five minutes.
const OAuthTokenTTL = 5 * time.Minute

// OAuth client kinds.
const (
	ClientKindFHIR = "fhir" // FHIR R4 and the key-value, reporting and event APIs
)

// OAuthClient is a system allowed to call the appliance's OAuth2-protected
// APIs for one organisation, with the scopes it may be granted. Its secret
// is stored only as a hash and shown once, when the client is created.
type OAuthClient struct {
	ID         int64
	OrgID      int64
	ClientID   string
	Kind       string
	Name       string
	Scopes     []string
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Revoked reports whether the client may no longer get tokens.
func (c *OAuthClient) Revoked() bool { return !c.RevokedAt.IsZero() }

// OAuthGrant is what a valid access token carries: its client and the scopes
// granted to this token.
type OAuthGrant struct {
	Client    OAuthClient
	Scopes    []string
	ExpiresAt time.Time
}

// scopeRE is the grammar of a scope: SMART v1 system scopes
// (system/Patient.read, system/*.write, system/*.*) and the appliance's own
// API scopes.
var scopeRE = regexp.MustCompile(`^(system/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*)|kv\.(read|write)|reports\.read|events\.read)$`)

// ValidScope reports whether s is a scope the appliance knows.
func ValidScope(s string) bool { return scopeRE.MatchString(s) }

// ParseScopes splits a space-separated scope string, keeping each scope
// once, in the order given.
func ParseScopes(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// ScopeCovers reports whether the granted scope g allows what the scope w
// asks for: system/*.read covers system/Patient.read, system/Patient.*
// covers system/Patient.write.
func ScopeCovers(g, w string) bool {
	if g == w {
		return true
	}
	gr, gs, ok1 := splitSystemScope(g)
	wr, ws, ok2 := splitSystemScope(w)
	if !ok1 || !ok2 {
		return false
	}
	return (gr == "*" || gr == wr) && (gs == "*" || gs == ws)
}

func splitSystemScope(s string) (resource, access string, ok bool) {
	rest, ok := strings.CutPrefix(s, "system/")
	if !ok {
		return "", "", false
	}
	resource, access, ok = strings.Cut(rest, ".")
	return resource, access, ok
}

// Allows reports whether the grant covers the scope w.
func (g *OAuthGrant) Allows(w string) bool {
	for _, s := range g.Scopes {
		if ScopeCovers(s, w) {
			return true
		}
	}
	return false
}

// CreateOAuthClient issues a client and returns it with its secret, which is
// never retrievable again.
func (s *Store) CreateOAuthClient(ctx context.Context, orgID int64, kind, name string, scopes []string) (*OAuthClient, string, error) {
	name = strings.TrimSpace(name)
	var v Validator
	v.Check(kind == ClientKindFHIR, "kind", "must be fhir")
	v.Check(name != "", "name", "is required")
	v.Check(len(name) <= 200, "name", "must be at most 200 characters")
	v.Check(len(scopes) > 0, "scope", "is required (e.g. system/*.read)")
	for _, sc := range scopes {
		v.Check(ValidScope(sc), "scope", fmt.Sprintf("%q is not a known scope (system/Patient.read, system/*.read, system/Observation.write, kv.read, kv.write, reports.read, events.read)", sc))
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	c := &OAuthClient{OrgID: orgID, Kind: kind, Name: name, Scopes: scopes, ClientID: "fc_" + NewToken(16),
		CreatedBy: ActorFrom(ctx).Name}
	secret := NewToken(32)
	err := s.write(ctx, func(tx *txn) error {
		c.CreatedAt = tx.Now
		res, err := tx.Exec(`INSERT INTO oauth_clients (org_id, client_id, secret_hash, kind, name, scopes, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, orgID, c.ClientID, hashSecret(secret), kind, c.Name,
			strings.Join(scopes, " "), c.CreatedBy, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create oauth client: %w", err)
		}
		c.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "oauth-client", c.ClientID, 0, c.Name+" ("+strings.Join(scopes, " ")+")")
	})
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

const oauthClientCols = `id, org_id, client_id, kind, name, scopes, created_by, created_at, last_used_at, revoked_at`

func scanOAuthClient(row interface{ Scan(...any) error }, extra ...any) (*OAuthClient, error) {
	var c OAuthClient
	var scopes string
	var created, used, revoked int64
	err := row.Scan(append([]any{&c.ID, &c.OrgID, &c.ClientID, &c.Kind, &c.Name, &scopes, &c.CreatedBy,
		&created, &used, &revoked}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.Scopes = ParseScopes(scopes)
	c.CreatedAt, c.LastUsedAt, c.RevokedAt = fromUnix(created), fromUnix(used), fromUnix(revoked)
	return &c, nil
}

// OAuthClients lists an organisation's clients, newest first.
func (s *Store) OAuthClients(ctx context.Context, orgID int64) ([]OAuthClient, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+oauthClientCols+` FROM oauth_clients WHERE org_id = ? ORDER BY id DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("oauth clients: %w", err)
	}
	defer rows.Close()
	var out []OAuthClient
	for rows.Next() {
		c, err := scanOAuthClient(rows)
		if err != nil {
			return nil, fmt.Errorf("oauth clients: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// RevokeOAuthClient stops a client: it can no longer get tokens, and the
// tokens it holds stop working with the answer (EventCredentialRevoked).
func (s *Store) RevokeOAuthClient(ctx context.Context, orgID int64, clientID string) error {
	return s.write(ctx, func(tx *txn) error {
		c, err := scanOAuthClient(tx.QueryRow(`SELECT `+oauthClientCols+` FROM oauth_clients
			WHERE org_id = ? AND client_id = ?`, orgID, clientID))
		if err != nil {
			return fmt.Errorf("oauth client %s: %w", clientID, err)
		}
		if c.Revoked() {
			return nil
		}
		if _, err := tx.Exec(`UPDATE oauth_clients SET revoked_at = ? WHERE id = ?`, unix(tx.Now), c.ID); err != nil {
			return fmt.Errorf("revoke oauth client: %w", err)
		}
		if _, err := tx.Exec(`DELETE FROM oauth_tokens WHERE client_id = ?`, c.ID); err != nil {
			return fmt.Errorf("revoke oauth client: %w", err)
		}
		if err := tx.credentialRevoked(orgID, CredentialOAuthClient, c.ID, nil); err != nil {
			return err
		}
		return tx.Audit(orgID, "revoke", "oauth-client", c.ClientID, 0, c.Name)
	})
}

// ErrInvalidScope is a token request for a scope the client was not issued.
var ErrInvalidScope = errors.New("invalid scope")

// IssueOAuthToken checks client credentials and returns a new access token
// for the requested scopes (all of the client's when requested is empty),
// valid for OAuthTokenTTL. Unknown, wrong or revoked credentials are
// ErrBadClientCredentials (the caller is not told which); a scope the
// client does not hold is ErrInvalidScope.
func (s *Store) IssueOAuthToken(ctx context.Context, clientID, secret string, requested []string) (string, *OAuthGrant, error) {
	var hash string
	c, err := scanOAuthClient(s.r.QueryRowContext(ctx, `SELECT `+oauthClientCols+`, secret_hash FROM oauth_clients
		WHERE client_id = ?`, clientID), &hash)
	if errors.Is(err, ErrNotFound) {
		hashSecret(secret) // spend the same time as for a known client
		return "", nil, ErrBadClientCredentials
	}
	if err != nil {
		return "", nil, fmt.Errorf("issue oauth token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(hash)) != 1 || c.Revoked() {
		return "", nil, ErrBadClientCredentials
	}
	granted := c.Scopes
	if len(requested) > 0 {
		granted = nil
		for _, r := range requested {
			ok := false
			for _, have := range c.Scopes {
				ok = ok || ScopeCovers(have, r)
			}
			if !ok {
				return "", nil, fmt.Errorf("%w: %s", ErrInvalidScope, r)
			}
			granted = append(granted, r)
		}
	}
	token := NewToken(32)
	g := &OAuthGrant{Client: *c, Scopes: granted}
	err = s.write(ctx, func(tx *txn) error {
		g.ExpiresAt = tx.Now.Add(OAuthTokenTTL)
		// Revocation may have happened since the read above.
		res, err := tx.Exec(`UPDATE oauth_clients SET last_used_at = ? WHERE id = ? AND revoked_at = 0`, unix(tx.Now), c.ID)
		if err != nil {
			return fmt.Errorf("issue oauth token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrBadClientCredentials
		}
		if _, err := tx.Exec(`DELETE FROM oauth_tokens WHERE expires_at <= ?`, unix(tx.Now)); err != nil {
			return fmt.Errorf("issue oauth token: %w", err)
		}
		_, err = tx.Exec(`INSERT INTO oauth_tokens (token_hash, client_id, org_id, scopes, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, hashSecret(token), c.ID, c.OrgID, strings.Join(granted, " "), unix(tx.Now), unix(g.ExpiresAt))
		if err != nil {
			return fmt.Errorf("issue oauth token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return token, g, nil
}

// OAuthGrantByToken returns what an unexpired access token grants, or
// ErrBadClientCredentials.
func (s *Store) OAuthGrantByToken(ctx context.Context, token string) (*OAuthGrant, error) {
	if token == "" {
		return nil, ErrBadClientCredentials
	}
	var scopes string
	var expires int64
	c, err := scanOAuthClient(s.r.QueryRowContext(ctx, `SELECT `+prefixCols("c.", oauthClientCols)+`, t.scopes, t.expires_at
		FROM oauth_tokens t JOIN oauth_clients c ON c.id = t.client_id
		WHERE t.token_hash = ? AND t.expires_at > ? AND c.revoked_at = 0`, hashSecret(token), unix(s.Now())), &scopes, &expires)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadClientCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("oauth token: %w", err)
	}
	return &OAuthGrant{Client: *c, Scopes: ParseScopes(scopes), ExpiresAt: fromUnix(expires)}, nil
}
