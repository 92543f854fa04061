package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Org is an organisation: a clinic, or one practice of a group. Every row of
// clinic data belongs to exactly one.
type Org struct {
	ID            int64
	UUID          string
	Slug          string
	Name          string
	LinkingSecret string // context-aware linking (telehealth API)
	Language      string // the staff pages' default language: "en" or "da"
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Validate checks an organisation's fields.
func (o *Org) Validate() error {
	var v Validator
	o.Name = strings.TrimSpace(o.Name)
	v.Check(o.Name != "", "name", "is required")
	v.Check(len(o.Name) <= 200, "name", "must be at most 200 characters")
	v.Line("name", o.Name, 200)
	v.Check(slugRE.MatchString(o.Slug), "slug", "must be lower-case letters, digits and dashes")
	v.Check(o.Language == "" || ValidLanguage(o.Language), "language", "must be en or da")
	return v.Err()
}

// CreateOrg creates an organisation with a fresh linking secret.
func (s *Store) CreateOrg(ctx context.Context, o *Org) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		o.UUID = NewUUID()
		o.LinkingSecret = NewToken(32)
		o.CreatedAt, o.UpdatedAt = tx.Now, tx.Now
		if o.Language == "" {
			o.Language = "en"
		}
		res, err := tx.Exec(`INSERT INTO orgs (uuid, slug, name, linking_secret, created_at, updated_at, language)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, o.UUID, o.Slug, o.Name, o.LinkingSecret, unix(tx.Now), unix(tx.Now), o.Language)
		if isUnique(err) {
			return Conflict(fmt.Sprintf("an organisation with slug %q already exists", o.Slug))
		}
		if err != nil {
			return fmt.Errorf("create org: %w", err)
		}
		o.ID, _ = res.LastInsertId()
		return tx.Audit(o.ID, "create", "org", o.Slug, 0, o.Name)
	})
}

const orgCols = `id, uuid, slug, name, linking_secret, created_at, updated_at, language`

func scanOrg(row interface{ Scan(...any) error }) (*Org, error) {
	var o Org
	var c, u int64
	if err := row.Scan(&o.ID, &o.UUID, &o.Slug, &o.Name, &o.LinkingSecret, &c, &u, &o.Language); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = fromUnix(c), fromUnix(u)
	return &o, nil
}

// Org returns an organisation by id.
func (s *Store) Org(ctx context.Context, id int64) (*Org, error) {
	o, err := scanOrg(s.r.QueryRowContext(ctx, `SELECT `+orgCols+` FROM orgs WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("org %d: %w", id, err)
	}
	return o, nil
}

// OrgBySlug returns an organisation by slug.
func (s *Store) OrgBySlug(ctx context.Context, slug string) (*Org, error) {
	o, err := scanOrg(s.r.QueryRowContext(ctx, `SELECT `+orgCols+` FROM orgs WHERE slug = ?`, slug))
	if err != nil {
		return nil, fmt.Errorf("org %q: %w", slug, err)
	}
	return o, nil
}

// Orgs lists every organisation, by name.
func (s *Store) Orgs(ctx context.Context) ([]Org, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+orgCols+` FROM orgs ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("orgs: %w", err)
	}
	defer rows.Close()
	var out []Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, fmt.Errorf("orgs: %w", err)
		}
		out = append(out, *o)
	}
	return out, rows.Err()
}

// DefaultOrg resolves slug, or when slug is empty the only organisation
// (commands on a single-clinic appliance need not name it).
func (s *Store) DefaultOrg(ctx context.Context, slug string) (*Org, error) {
	if slug != "" {
		return s.OrgBySlug(ctx, slug)
	}
	orgs, err := s.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	switch len(orgs) {
	case 0:
		return nil, fmt.Errorf("no organisation exists yet: create one with 'clinicbox org add': %w", ErrNotFound)
	case 1:
		return &orgs[0], nil
	default:
		return nil, Invalid("org", "there are several organisations: name one with --org SLUG")
	}
}

// RotateLinkingSecret replaces an organisation's context-aware linking secret.
func (s *Store) RotateLinkingSecret(ctx context.Context, orgID int64) (string, error) {
	secret := NewToken(32)
	err := s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`UPDATE orgs SET linking_secret = ?, updated_at = ? WHERE id = ?`, secret, unix(tx.Now), orgID)
		if err != nil {
			return fmt.Errorf("rotate linking secret: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return tx.Audit(orgID, "rotate", "linking-secret", "", 0, "")
	})
	return secret, err
}

// SetLinkingSecret sets an organisation's context-aware linking secret to
// one agreed with the EHR vendor (RotateLinkingSecret makes a new one).
func (s *Store) SetLinkingSecret(ctx context.Context, orgID int64, secret string) error {
	if strings.TrimSpace(secret) == "" {
		return Invalid("linkingSecret", "is required")
	}
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`UPDATE orgs SET linking_secret = ?, updated_at = ? WHERE id = ?`, secret, unix(tx.Now), orgID)
		if err != nil {
			return fmt.Errorf("set linking secret: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return tx.Audit(orgID, "set", "linking-secret", "", 0, "")
	})
}

// isUnique reports whether err is a UNIQUE constraint violation.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
