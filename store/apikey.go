package store

import "context"

// APIKey is a telehealth API client's key ("cbk_…"): a bearer credential
// (bearer.go), one organisation's, shown once.
type APIKey = BearerToken

// CreateAPIKey stores a new key for the organisation and returns the key
// itself, which is not stored and cannot be shown again.
func (s *Store) CreateAPIKey(ctx context.Context, orgID int64, k *APIKey) (string, error) {
	return s.issueBearer(ctx, apiKeyKind, orgID, k)
}

// APIKeyByToken finds the active key that token is. A malformed, unknown or
// revoked key is ErrNotFound (callers answer 401 without saying which).
func (s *Store) APIKeyByToken(ctx context.Context, token string) (*APIKey, error) {
	return s.bearerByToken(ctx, apiKeyKind, token)
}

// TouchAPIKey records that a key was just used.
func (s *Store) TouchAPIKey(ctx context.Context, id int64) error {
	return s.touchBearer(ctx, apiKeyKind, id)
}

// APIKeys lists an organisation's keys (orgID 0: every organisation's),
// newest first.
func (s *Store) APIKeys(ctx context.Context, orgID int64) ([]APIKey, error) {
	return s.listBearers(ctx, apiKeyKind, orgID)
}

// RevokeAPIKey revokes a key of the organisation (orgID 0: of any
// organisation, for the command line). Revoking twice is not an error.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, id int64) error {
	return s.revokeBearer(ctx, apiKeyKind, orgID, id)
}
