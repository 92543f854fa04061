package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"
)

// EventKVChanged is written when a key-value entry is set or deleted.
const EventKVChanged = "kv:changed"

// Limits of the key-value store.
const (
	MaxKVValue   = 256 << 10 // bytes per value
	MaxKVKey     = 512       // bytes per key
	MaxKVEntries = 10000     // entries per organisation and namespace
)

// ErrPreconditionFailed is a conditional write whose condition does not
// hold (the entry changed since the caller read it, or exists when it
// must not).
var ErrPreconditionFailed = errors.New("precondition failed")

// KVEntry is one value of the key-value store: configuration that does not
// fit the clinical model, per organisation and namespace. Version grows at
// every write; it is the entity tag of optimistic concurrency.
type KVEntry struct {
	Namespace   string
	Key         string
	Value       []byte
	ContentType string
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

var kvNamespaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateKVName checks a namespace and a key.
func ValidateKVName(namespace, key string) error {
	var v Validator
	v.Check(kvNamespaceRE.MatchString(namespace), "namespace", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	v.Check(key != "", "key", "is required")
	v.Check(len(key) <= MaxKVKey, "key", fmt.Sprintf("must be at most %d bytes", MaxKVKey))
	v.Check(utf8.ValidString(key), "key", "must be UTF-8")
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			v.Add("key", "must not hold control characters")
			break
		}
	}
	return v.Err()
}

// KVCondition is the precondition of a conditional write.
type KVCondition struct {
	IfMatch     int64 // > 0: only when the entry is at this version
	IfNoneMatch bool  // only when the entry does not exist
}

// PutKV creates or replaces an entry, if cond holds.
func (s *Store) PutKV(ctx context.Context, orgID int64, e *KVEntry, cond KVCondition) error {
	if err := ValidateKVName(e.Namespace, e.Key); err != nil {
		return err
	}
	if len(e.Value) > MaxKVValue {
		return Invalid("value", fmt.Sprintf("must be at most %d bytes", MaxKVValue))
	}
	if e.ContentType == "" || len(e.ContentType) > 200 {
		return Invalid("contentType", "is required (at most 200 characters)")
	}
	return s.write(ctx, func(tx *txn) error {
		var version, created int64
		err := tx.QueryRow(`SELECT version, created_at FROM kv_entries WHERE org_id = ? AND namespace = ? AND key = ?`,
			orgID, e.Namespace, e.Key).Scan(&version, &created)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("put kv: %w", err)
		}
		switch {
		case cond.IfNoneMatch && exists:
			return fmt.Errorf("%w: the key exists", ErrPreconditionFailed)
		case cond.IfMatch > 0 && (!exists || version != cond.IfMatch):
			return fmt.Errorf("%w: the entry is not at version %d", ErrPreconditionFailed, cond.IfMatch)
		}
		if !exists {
			var n int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM kv_entries WHERE org_id = ? AND namespace = ?`, orgID, e.Namespace).Scan(&n); err != nil {
				return fmt.Errorf("put kv: %w", err)
			}
			if n >= MaxKVEntries {
				return Conflict(fmt.Sprintf("namespace %q holds %d entries, the most allowed", e.Namespace, MaxKVEntries))
			}
			created = unix(tx.Now)
		}
		e.Version = version + 1
		e.CreatedAt, e.UpdatedAt = fromUnix(created), tx.Now
		_, err = tx.Exec(`INSERT INTO kv_entries (org_id, namespace, key, value, content_type, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, namespace, key) DO UPDATE SET value = excluded.value,
				content_type = excluded.content_type, version = excluded.version, updated_at = excluded.updated_at`,
			orgID, e.Namespace, e.Key, e.Value, e.ContentType, e.Version, created, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("put kv: %w", err)
		}
		return tx.Event(orgID, EventKVChanged, "kv", 0, map[string]any{"namespace": e.Namespace, "key": e.Key, "version": e.Version})
	})
}

const kvCols = `namespace, key, value, content_type, version, created_at, updated_at`

func scanKV(row interface{ Scan(...any) error }) (*KVEntry, error) {
	var e KVEntry
	var c, u int64
	err := row.Scan(&e.Namespace, &e.Key, &e.Value, &e.ContentType, &e.Version, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	e.CreatedAt, e.UpdatedAt = fromUnix(c), fromUnix(u)
	return &e, nil
}

// KV returns one entry.
func (s *Store) KV(ctx context.Context, orgID int64, namespace, key string) (*KVEntry, error) {
	if err := ValidateKVName(namespace, key); err != nil {
		return nil, err
	}
	e, err := scanKV(s.r.QueryRowContext(ctx, `SELECT `+kvCols+` FROM kv_entries WHERE org_id = ? AND namespace = ? AND key = ?`,
		orgID, namespace, key))
	if err != nil {
		return nil, fmt.Errorf("kv %s/%s: %w", namespace, key, err)
	}
	return e, nil
}

// DeleteKV removes an entry, if cond.IfMatch (when set) holds.
func (s *Store) DeleteKV(ctx context.Context, orgID int64, namespace, key string, cond KVCondition) error {
	if err := ValidateKVName(namespace, key); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		var version int64
		err := tx.QueryRow(`SELECT version FROM kv_entries WHERE org_id = ? AND namespace = ? AND key = ?`,
			orgID, namespace, key).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("delete kv: %w", err)
		}
		if cond.IfMatch > 0 && version != cond.IfMatch {
			return fmt.Errorf("%w: the entry is not at version %d", ErrPreconditionFailed, cond.IfMatch)
		}
		if _, err := tx.Exec(`DELETE FROM kv_entries WHERE org_id = ? AND namespace = ? AND key = ?`, orgID, namespace, key); err != nil {
			return fmt.Errorf("delete kv: %w", err)
		}
		return tx.Event(orgID, EventKVChanged, "kv", 0, map[string]any{"namespace": namespace, "key": key, "deleted": true})
	})
}

// KVList lists a namespace's entries whose key starts with Prefix, in key
// order, after the key After (paging), without their values.
type KVList struct {
	Prefix string
	After  string
	Limit  int
}

// KVEntries lists entries (values left empty).
func (s *Store) KVEntries(ctx context.Context, orgID int64, namespace string, f KVList) ([]KVEntry, error) {
	if !kvNamespaceRE.MatchString(namespace) {
		return nil, Invalid("namespace", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	lo := f.Prefix
	if f.After >= lo {
		lo = f.After + "\x00"
	}
	q := `SELECT namespace, key, X'', content_type, version, created_at, updated_at FROM kv_entries
		WHERE org_id = ? AND namespace = ? AND key >= ?`
	args := []any{orgID, namespace, lo}
	if f.Prefix != "" {
		// Keys starting with the prefix sort below prefix + U+10FFFF.
		q += ` AND key < ?`
		args = append(args, f.Prefix+"\U0010FFFF")
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY key LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("kv list: %w", err)
	}
	defer rows.Close()
	var out []KVEntry
	for rows.Next() {
		e, err := scanKV(rows)
		if err != nil {
			return nil, fmt.Errorf("kv list: %w", err)
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}
