package store

import "context"

// PoctToken is a bearer token of the point-of-care API ("cbp_…"), bound to
// one organisation: every request made with it reaches that organisation's
// data only. A distributor serving several clinics gets one token per
// clinic. It is the same mechanism as the telehealth API keys (bearer.go).
type PoctToken = BearerToken

// CreatePoctToken issues a token for the organisation and returns it; it is
// not stored and cannot be shown again.
func (s *Store) CreatePoctToken(ctx context.Context, orgID int64, t *PoctToken) (string, error) {
	return s.issueBearer(ctx, poctTokenKind, orgID, t)
}

// PoctTokenByToken finds the active token. Malformed, unknown and revoked
// tokens are all ErrNotFound.
func (s *Store) PoctTokenByToken(ctx context.Context, token string) (*PoctToken, error) {
	return s.bearerByToken(ctx, poctTokenKind, token)
}

// TouchPoctToken records that a token was just used.
func (s *Store) TouchPoctToken(ctx context.Context, id int64) error {
	return s.touchBearer(ctx, poctTokenKind, id)
}

// PoctTokens lists an organisation's tokens, newest first.
func (s *Store) PoctTokens(ctx context.Context, orgID int64) ([]PoctToken, error) {
	if orgID <= 0 {
		return nil, nil // only ever one organisation's
	}
	return s.listBearers(ctx, poctTokenKind, orgID)
}

// RevokePoctToken revokes a token of the organisation.
func (s *Store) RevokePoctToken(ctx context.Context, orgID, id int64) error {
	if orgID <= 0 {
		return ErrNotFound
	}
	return s.revokeBearer(ctx, poctTokenKind, orgID, id)
}
