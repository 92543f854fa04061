package store

import (
	"context"
	"fmt"
)

// Languages are the languages the pages are written in.
var Languages = []string{"en", "da"}

// ValidLanguage reports whether lang is one of Languages.
func ValidLanguage(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// SetOrgLanguage sets the organisation's default page language.
func (s *Store) SetOrgLanguage(ctx context.Context, orgID int64, lang string) error {
	if !ValidLanguage(lang) {
		return Invalid("language", "must be en or da")
	}
	return s.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(`UPDATE orgs SET language = ?, updated_at = ? WHERE id = ?`, lang, unix(tx.Now), orgID); err != nil {
			return fmt.Errorf("org language: %w", err)
		}
		return tx.Audit(orgID, "update", "org", fmt.Sprint(orgID), 0, "language "+lang)
	})
}

// SetUserLanguage sets a user's own page language; "" follows the
// organisation.
func (s *Store) SetUserLanguage(ctx context.Context, orgID, userID int64, lang string) error {
	if lang != "" && !ValidLanguage(lang) {
		return Invalid("language", "must be en or da")
	}
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`UPDATE users SET language = ?, updated_at = ? WHERE org_id = ? AND id = ?`, lang, unix(tx.Now), orgID, userID)
		if err != nil {
			return fmt.Errorf("user language: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return tx.Audit(orgID, "update", "user", fmt.Sprint(userID), 0, "language "+lang)
	})
}
