package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/clinicbox/clinicbox/store/internal/journal"
	"github.com/clinicbox/clinicbox/store/internal/sqlite"
)

// Actor is who is acting: a signed-in user, an API client, a device or the
// system itself. Faces put it in the request context; the store writes it
// into the audit log.
type Actor struct {
	OrgID      int64
	UserID     int64  // 0 when not a user
	Name       string // "jane@clinic.example", "apikey:Integration X", "device:Cobas"
	RemoteAddr string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or the system actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Name: "system"}
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID         int64
	OrgID      int64
	UserID     int64
	Actor      string
	Action     string // read, create, update, delete, sign-in, ...
	Entity     string // patient, appointment, ...
	EntityID   string
	PatientID  int64
	Detail     string
	RemoteAddr string
	CreatedAt  time.Time
	PrevHash   string
	Hash       string
}

func (e *AuditEntry) computeHash() string {
	h := sha256.New()
	for _, f := range []string{
		e.PrevHash, strconv.FormatInt(e.OrgID, 10), strconv.FormatInt(e.UserID, 10), e.Actor,
		e.Action, e.Entity, e.EntityID, strconv.FormatInt(e.PatientID, 10), e.Detail,
		e.RemoteAddr, strconv.FormatInt(unix(e.CreatedAt), 10),
	} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Audit appends an audit row within the write, attributed to the actor in
// the write's context.
func (tx *txn) Audit(orgID int64, action, entity, entityID string, patientID int64, detail string) error {
	a := ActorFrom(tx.Context())
	return tx.appendAudit(AuditEntry{
		OrgID: orgID, UserID: a.UserID, Actor: a.Name, Action: action, Entity: entity,
		EntityID: entityID, PatientID: patientID, Detail: detail, RemoteAddr: a.RemoteAddr,
		CreatedAt: tx.Now,
	})
}

func (tx *txn) appendAudit(e AuditEntry) error {
	return tx.appendAudits([]AuditEntry{e})
}

// auditChain is the hash of the newest audit row written in the current
// group-commit transaction (valid when known): the next row chains to it
// without reading it back. The transaction holds SQLite's write lock, so
// no other connection can append in between.
type auditChain struct {
	hash  string
	known bool
}

type auditChainKey struct{}

// appendAudits chains es to the log, in order.
func (tx *txn) appendAudits(es []AuditEntry) error {
	// The previous hash is read once per transaction; later rows of the
	// same transaction chain to the hash kept in memory. A write rolled
	// back to its savepoint must not leave the chain pointing at a row
	// that no longer exists: it puts the hash back.
	c := tx.Shared(auditChainKey{}, func() any { return &auditChain{} }).(*auditChain)
	saved := *c
	tx.OnRollback(func() { *c = saved })
	if !c.known {
		var prev string
		err := tx.QueryRow(`SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("audit: %w", err)
		}
		c.hash, c.known = prev, true
	}
	for i := range es {
		e := &es[i]
		e.PrevHash = c.hash
		e.Hash = e.computeHash()
		_, err := tx.Exec(`INSERT INTO audit_log (org_id, user_id, actor, action, entity, entity_id,
			patient_id, detail, remote_addr, created_at, prev_hash, hash)
			VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?)`,
			e.OrgID, e.UserID, e.Actor, e.Action, e.Entity, e.EntityID, e.PatientID, e.Detail,
			e.RemoteAddr, unix(e.CreatedAt), e.PrevHash, e.Hash)
		if err != nil {
			// The row may or may not be there: read the chain again next time.
			c.known = false
			return fmt.Errorf("audit: %w", err)
		}
		c.hash = e.Hash
	}
	return nil
}

// AuditRead records that the actor in ctx read a patient's data. Call it
// before the answer is sent: when it returns, the row is in the read-audit
// journal (one write(2), auditjournal.go), which a crash of the process
// after the answer (kill -9 included) cannot lose; it is fsynced at most
// journal.SyncDelay (50 ms) later, so a power cut can lose at most the
// read audits of the last 50 ms. The row reaches audit_log within
// 250 ms (defaultReadMoveEvery), or at once when the log is read. When another process
// owns the journal, the row rides the writer's next transaction instead
// and AuditRead waits for its commit. A failure is logged; the read goes
// ahead.
func (s *Store) AuditRead(ctx context.Context, orgID int64, entity, entityID string, patientID int64) {
	a := ActorFrom(ctx)
	e := AuditEntry{
		OrgID: orgID, UserID: a.UserID, Actor: a.Name, Action: "read", Entity: entity,
		EntityID: entityID, PatientID: patientID, RemoteAddr: a.RemoteAddr, CreatedAt: s.Now(),
	}
	if s.rj != nil {
		err := s.rj.add(e)
		if err == nil {
			return
		}
		if !errors.Is(err, journal.ErrClosed) {
			s.log.Error("audit read journal", "err", err)
		}
	}
	err := s.reads.Add(ctx, e)
	if errors.Is(err, sqlite.ErrClosed) {
		err = s.write(context.WithoutCancel(ctx), func(tx *txn) error { return tx.appendAudit(e) })
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("audit read", "err", err)
	}
}

// writeReadAudits writes one group of read audits in the writer's
// transaction (when this process does not own the journal). Reads are indexed by patient later, in bulk (auditindex.go).
func (s *Store) writeReadAudits(t *sqlite.Tx, group []AuditEntry) error {
	err := (&txn{Tx: t, s: s}).appendAudits(group)
	if err != nil {
		s.log.Error("audit reads", "err", err, "rows", len(group))
	}
	return err
}

// AuditFilter selects audit rows.
type AuditFilter struct {
	PatientID int64
	UserID    int64
	BeforeID  int64 // page backwards from this id (0 = newest)
	Limit     int
}

// AuditLog lists an organisation's audit rows, newest first.
func (s *Store) AuditLog(ctx context.Context, orgID int64, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	if err := s.flushReadAudits(ctx); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	before := int64(math.MaxInt64)
	if f.BeforeID > 0 {
		before = f.BeforeID
	}
	const cols = `SELECT id, org_id, COALESCE(user_id, 0), actor, action, entity, entity_id,
		COALESCE(patient_id, 0), detail, remote_addr, created_at, prev_hash, hash FROM audit_log`
	user := ``
	if f.UserID > 0 {
		user = ` AND user_id = ?5`
	}
	var q string
	if f.PatientID > 0 {
		// A patient's rows are in three places (see migration 0005): other
		// actions in audit_patient, indexed reads in audit_read_index, and
		// reads not yet indexed in the tail after the cursor. A read in both
		// the index and the tail (a run cut short) comes once: IN is a set.
		// Each part is cut to the page size before they are merged, except
		// indexed reads when filtering by user too (the index does not know
		// the user).
		readLimit := ` LIMIT ?4`
		if f.UserID > 0 {
			readLimit = ``
		}
		q = cols + ` WHERE id IN (
			SELECT id FROM (SELECT id FROM audit_log WHERE org_id = ?1 AND patient_id = ?2 AND action <> 'read'
				AND id < ?3` + user + ` ORDER BY id DESC LIMIT ?4)
			UNION ALL
			SELECT audit_id FROM (SELECT audit_id FROM audit_read_index WHERE org_id = ?1 AND patient_id = ?2
				AND audit_id < ?3
				ORDER BY audit_id DESC` + readLimit + `)
			UNION ALL
			SELECT id FROM audit_log WHERE org_id = ?1 AND id > (SELECT last_id FROM audit_read_cursor)
				AND id < ?3 AND action = 'read' AND patient_id = ?2)` + user + ` ORDER BY id DESC LIMIT ?4`
	} else {
		q = cols + ` WHERE org_id = ?1 AND id < ?3` + user + ` ORDER BY id DESC LIMIT ?4`
	}
	args := []any{orgID, f.PatientID, before, f.Limit}
	if f.UserID > 0 {
		args = append(args, f.UserID)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var created int64
		if err := rows.Scan(&e.ID, &e.OrgID, &e.UserID, &e.Actor, &e.Action, &e.Entity, &e.EntityID,
			&e.PatientID, &e.Detail, &e.RemoteAddr, &created, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.CreatedAt = fromUnix(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// VerifyAuditChain walks the whole log and returns the id of the first row
// whose hash does not match (0 when the chain is intact).
func (s *Store) VerifyAuditChain(ctx context.Context) (int64, error) {
	if err := s.flushReadAudits(ctx); err != nil {
		return 0, fmt.Errorf("verify audit: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, org_id, COALESCE(user_id, 0), actor, action, entity,
		entity_id, COALESCE(patient_id, 0), detail, remote_addr, created_at, prev_hash, hash
		FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("verify audit: %w", err)
	}
	defer rows.Close()
	prev := ""
	for rows.Next() {
		var e AuditEntry
		var created int64
		if err := rows.Scan(&e.ID, &e.OrgID, &e.UserID, &e.Actor, &e.Action, &e.Entity, &e.EntityID,
			&e.PatientID, &e.Detail, &e.RemoteAddr, &created, &e.PrevHash, &e.Hash); err != nil {
			return 0, fmt.Errorf("verify audit: %w", err)
		}
		e.CreatedAt = fromUnix(created)
		if e.PrevHash != prev || e.computeHash() != e.Hash {
			return e.ID, nil
		}
		prev = e.Hash
	}
	return 0, rows.Err()
}
