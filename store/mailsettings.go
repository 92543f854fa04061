package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// MailSettings is the organisation's outgoing mail server, used to send
// visit links by e-mail. Without a host the pages only show the message.
type MailSettings struct {
	OrgID     int64
	Host      string
	Port      int
	Username  string
	Password  string
	From      string
	UpdatedAt time.Time
}

// Configured reports whether e-mail can be sent.
func (m *MailSettings) Configured() bool { return m != nil && m.Host != "" && m.From != "" }

// Validate checks the settings; an empty host turns sending off.
func (m *MailSettings) Validate() error {
	var v Validator
	m.Host, m.Username, m.From = strings.TrimSpace(m.Host), strings.TrimSpace(m.Username), strings.TrimSpace(m.From)
	if m.Port == 0 {
		m.Port = 587
	}
	v.Check(m.Port >= 1 && m.Port <= 65535, "port", "must be in range [1, 65535]")
	v.Check(len(m.Host) <= 253 && !strings.ContainsAny(m.Host, " /:"), "host", "must be a host name")
	if m.Host != "" {
		_, err := mail.ParseAddress(m.From)
		v.Check(err == nil, "from", "must be an e-mail address")
	}
	return v.Err()
}

// MailSettings returns the organisation's mail settings (empty when never set).
func (s *Store) MailSettings(ctx context.Context, orgID int64) (*MailSettings, error) {
	m := MailSettings{OrgID: orgID, Port: 587}
	var u int64
	err := s.r.QueryRowContext(ctx, `SELECT host, port, username, password, from_addr, updated_at
		FROM org_mail_settings WHERE org_id = ?`, orgID).Scan(&m.Host, &m.Port, &m.Username, &m.Password, &m.From, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return &m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mail settings: %w", err)
	}
	m.UpdatedAt = fromUnix(u)
	return &m, nil
}

// SaveMailSettings stores the organisation's mail settings. An empty
// password keeps the one stored before.
func (s *Store) SaveMailSettings(ctx context.Context, orgID int64, m *MailSettings) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		m.OrgID, m.UpdatedAt = orgID, tx.Now
		_, err := tx.Exec(`INSERT INTO org_mail_settings (org_id, host, port, username, password, from_addr, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET host = excluded.host, port = excluded.port, username = excluded.username,
				password = CASE WHEN excluded.password = '' THEN password ELSE excluded.password END,
				from_addr = excluded.from_addr, updated_at = excluded.updated_at`,
			orgID, m.Host, m.Port, m.Username, m.Password, m.From, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("save mail settings: %w", err)
		}
		return tx.Audit(orgID, "update", "mail-settings", fmt.Sprint(orgID), 0, "host "+m.Host)
	})
}
