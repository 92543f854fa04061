package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// Roles a user can have.
const (
	RoleAdmin     = "admin"
	RoleClinician = "clinician"
	RoleFrontDesk = "frontdesk"
)

// Roles lists the roles in the order pages offer them.
var Roles = []string{RoleAdmin, RoleClinician, RoleFrontDesk}

// User is a member of staff who signs in to the clinician pages.
type User struct {
	ID           int64
	UUID         string
	OrgID        int64
	Email        string
	Name         string
	Role         string
	PasswordHash string
	Active       bool
	FailedLogins int
	LockedUntil  time.Time
	LastLoginAt  time.Time
	Language     string // "" = the organisation's
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// Validate checks a user's fields (not the password).
func (u *User) Validate() error {
	var v Validator
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.Name = strings.TrimSpace(u.Name)
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
		v.Add("email", "must be an email address")
	}
	v.Check(u.Name != "", "name", "is required")
	v.Check(len(u.Name) <= 200, "name", "must be at most 200 characters")
	v.Line("name", u.Name, 200)
	v.Line("email", u.Email, MaxShortText)
	v.Check(u.Role == RoleAdmin || u.Role == RoleClinician || u.Role == RoleFrontDesk, "role", "must be admin, clinician or frontdesk")
	return v.Err()
}

func validatePassword(pw string) error {
	if len(pw) < MinPasswordLength {
		return Invalid("password", fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	}
	if len(pw) > 256 {
		return Invalid("password", "must be at most 256 characters")
	}
	return nil
}

// CreateUser creates a user in the organisation with the given password.
func (s *Store) CreateUser(ctx context.Context, orgID int64, u *User, password string) error {
	u.OrgID = orgID
	u.Active = true
	var v Validator
	if err := u.Validate(); err != nil {
		for k, m := range err.(*ValidationError).Fields {
			v.Add(k, m)
		}
	}
	if err := validatePassword(password); err != nil {
		v.Add("password", err.(*ValidationError).Fields["password"])
	}
	if err := v.Err(); err != nil {
		return err
	}
	hash := HashSecret(password)
	return s.write(ctx, func(tx *txn) error {
		u.UUID = NewUUID()
		u.PasswordHash = hash
		u.CreatedAt, u.UpdatedAt = tx.Now, tx.Now
		res, err := tx.Exec(`INSERT INTO users (uuid, org_id, email, name, role, password_hash, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`, u.UUID, orgID, u.Email, u.Name, u.Role, hash, unix(tx.Now), unix(tx.Now))
		if isUnique(err) {
			return &ValidationError{Fields: map[string]string{"email": "is already in use"}}
		}
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		u.ID, _ = res.LastInsertId()
		return tx.Audit(orgID, "create", "user", u.Email, 0, "role "+u.Role)
	})
}

const userCols = `id, uuid, org_id, email, name, role, password_hash, active, failed_logins, locked_until,
	last_login_at, created_at, updated_at, language`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var locked, last, c, up int64
	if err := row.Scan(&u.ID, &u.UUID, &u.OrgID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.Active,
		&u.FailedLogins, &locked, &last, &c, &up, &u.Language); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	u.LockedUntil, u.LastLoginAt, u.CreatedAt, u.UpdatedAt = fromUnix(locked), fromUnix(last), fromUnix(c), fromUnix(up)
	return &u, nil
}

// User returns a user of the organisation.
func (s *Store) User(ctx context.Context, orgID, id int64) (*User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// UserByID returns a user by id alone: only for resolving a session, which
// is how the organisation becomes known.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// Users lists an organisation's users by name.
func (s *Store) Users(ctx context.Context, orgID int64) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE org_id = ? ORDER BY name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// UpdateUser changes a user's name, role and active flag.
func (s *Store) UpdateUser(ctx context.Context, orgID int64, u *User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		var oldRole string
		var wasActive bool
		err := tx.QueryRow(`SELECT role, active FROM users WHERE org_id = ? AND id = ?`, orgID, u.ID).Scan(&oldRole, &wasActive)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		res, err := tx.Exec(`UPDATE users SET name = ?, role = ?, active = ?, email = ?, updated_at = ?
			WHERE org_id = ? AND id = ?`, u.Name, u.Role, boolInt(u.Active), u.Email, unix(tx.Now), orgID, u.ID)
		if isUnique(err) {
			return Invalid("email", "is already in use")
		}
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if !u.Active {
			if _, err := tx.Exec(`DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
				return fmt.Errorf("update user: %w", err)
			}
		}
		// A sign-in held in memory (the monitoring API's) carries the
		// user's role and was checked while the user was active: tell
		// its holders in this write, so the next request reads it anew.
		if (wasActive && !u.Active) || oldRole != u.Role {
			if err := tx.credentialRevoked(orgID, CredentialUser, u.ID, nil); err != nil {
				return err
			}
		}
		return tx.Audit(orgID, "update", "user", u.Email, 0, fmt.Sprintf("role %s active %t", u.Role, u.Active))
	})
}

// SetPassword replaces a user's password and signs them out everywhere.
func (s *Store) SetPassword(ctx context.Context, orgID, userID int64, password string) error {
	if err := validatePassword(password); err != nil {
		return err
	}
	hash := HashSecret(password)
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.Exec(`UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0, updated_at = ?
			WHERE org_id = ? AND id = ?`, hash, unix(tx.Now), orgID, userID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.Exec(`DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		// Everywhere includes the monitoring API: its refresh tokens stop
		// working and so do the access tokens issued under them.
		if _, err := tx.Exec(`UPDATE refresh_families SET revoked_at = ?, revoked_why = 'password'
			WHERE org_id = ? AND user_id = ? AND revoked_at = 0`, unix(tx.Now), orgID, userID); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := tx.credentialRevoked(orgID, CredentialUser, userID, nil); err != nil {
			return err
		}
		return tx.Audit(orgID, "update", "user-password", fmt.Sprint(userID), 0, "")
	})
}

// Lock-out policy of the second factor (see totp.go): after lockAfter
// consecutive failures the account's codes are refused for a time that
// doubles with each further failure, capped.
const (
	lockAfter   = 5
	lockBase    = 30 * time.Second
	lockMaximum = 15 * time.Minute
)

// LockedError: too many failed attempts; try again after the time it carries.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "too many failed sign-in attempts; try again after " + e.Until.Format(time.Kitchen)
}

// ErrBadCredentials: the email or password is wrong (never says which).
var ErrBadCredentials = errors.New("wrong email or password")

// Authenticate checks an email and password. Failures are counted on the
// account (for the admin view); slowing guessing down is the sign-in
// face's job, which treats unknown e-mails exactly like real accounts.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, email))
	if errors.Is(err, ErrNotFound) {
		// Spend the same time as a real check so timing does not reveal accounts.
		CheckSecret(dummyHash(), password)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	// No lock here: the sign-in face slows guessing per account and per
	// address the same way for unknown e-mails, so an account's existence
	// never shows. Failures are still counted on the account (admin view).
	ok := CheckSecret(u.PasswordHash, password) && u.Active
	err = s.write(context.WithoutCancel(ctx), func(tx *txn) error {
		if ok {
			_, err := tx.Exec(`UPDATE users SET failed_logins = 0, locked_until = 0, last_login_at = ? WHERE id = ?`, unix(tx.Now), u.ID)
			if err != nil {
				return err
			}
			return tx.Audit(u.OrgID, "sign-in", "user", u.Email, 0, "")
		}
		_, err := tx.Exec(`UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?`, u.ID)
		if err != nil {
			return err
		}
		return tx.Audit(u.OrgID, "sign-in-failed", "user", u.Email, 0, "")
	})
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// dummyHash is made on first use, not at start-up: an argon2id hash costs
// tens of milliseconds and megabytes that a command may never need.
var dummyHash = sync.OnceValue(func() string { return HashSecret("clinicbox-timing-equaliser") })

// Session is a server-side record of a signed-in browser.
type Session struct {
	ID         string
	UserID     int64
	Data       []byte
	RemoteAddr string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// SaveSession inserts or replaces a session.
func (s *Store) SaveSession(ctx context.Context, sess *Session) error {
	return s.write(ctx, func(tx *txn) error {
		if sess.CreatedAt.IsZero() {
			sess.CreatedAt = tx.Now
		}
		sess.LastSeenAt = tx.Now
		_, err := tx.Exec(`INSERT INTO sessions (id, user_id, data, remote_addr, created_at, last_seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data, last_seen_at = excluded.last_seen_at,
				expires_at = excluded.expires_at`,
			sess.ID, sess.UserID, sess.Data, sess.RemoteAddr, unix(sess.CreatedAt), unix(sess.LastSeenAt), unix(sess.ExpiresAt))
		if err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		return nil
	})
}

// SessionByID returns a live (unexpired) session.
func (s *Store) SessionByID(ctx context.Context, id string) (*Session, error) {
	var sess Session
	var c, l, e int64
	err := s.r.QueryRowContext(ctx, `SELECT id, user_id, data, remote_addr, created_at, last_seen_at, expires_at
		FROM sessions WHERE id = ? AND expires_at > ?`, id, unix(s.Now())).
		Scan(&sess.ID, &sess.UserID, &sess.Data, &sess.RemoteAddr, &c, &l, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromUnix(c), fromUnix(l), fromUnix(e)
	return &sess, nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`DELETE FROM sessions WHERE id = ?`, id)
		return err
	})
}

// DeleteUserSessions signs a user out everywhere.
func (s *Store) DeleteUserSessions(ctx context.Context, orgID, userID int64) error {
	return s.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`DELETE FROM sessions WHERE user_id = ? AND user_id IN (SELECT id FROM users WHERE org_id = ?)`, userID, orgID)
		if err != nil {
			return fmt.Errorf("sign out everywhere: %w", err)
		}
		return tx.Audit(orgID, "sign-out-everywhere", "user", fmt.Sprint(userID), 0, "")
	})
}

// PurgeExpiredSessions deletes sessions past their expiry.
func (s *Store) PurgeExpiredSessions(ctx context.Context) error {
	return s.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`DELETE FROM sessions WHERE expires_at <= ?`, unix(tx.Now))
		return err
	})
}
