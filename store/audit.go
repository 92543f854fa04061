package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"
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
func (tx *Tx) Audit(orgID int64, action, entity, entityID string, patientID int64, detail string) error {
	a := ActorFrom(tx.ctx)
	return tx.appendAudit(AuditEntry{
		OrgID: orgID, UserID: a.UserID, Actor: a.Name, Action: action, Entity: entity,
		EntityID: entityID, PatientID: patientID, Detail: detail, RemoteAddr: a.RemoteAddr,
		CreatedAt: tx.Now,
	})
}

func (tx *Tx) appendAudit(e AuditEntry) error {
	return tx.appendAudits([]AuditEntry{e})
}

// appendAudits chains es to the log, in order.
func (tx *Tx) appendAudits(es []AuditEntry) error {
	// The previous hash is read once per transaction; later rows of the
	// same transaction chain to the hash kept in memory (commitBatch
	// restores it when a write is rolled back to its savepoint).
	b := tx.batch
	if b == nil {
		b = &txBatch{}
	}
	if !b.auditKnown {
		var prev string
		err := tx.QueryRow(`SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("audit: %w", err)
		}
		b.auditHash, b.auditKnown = prev, true
	}
	for i := range es {
		e := &es[i]
		e.PrevHash = b.auditHash
		e.Hash = e.computeHash()
		_, err := tx.Exec(`INSERT INTO audit_log (org_id, user_id, actor, action, entity, entity_id,
			patient_id, detail, remote_addr, created_at, prev_hash, hash)
			VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?)`,
			e.OrgID, e.UserID, e.Actor, e.Action, e.Entity, e.EntityID, e.PatientID, e.Detail,
			e.RemoteAddr, unix(e.CreatedAt), e.PrevHash, e.Hash)
		if err != nil {
			// The row may or may not be there: read the chain again next time.
			b.auditKnown = false
			return fmt.Errorf("audit: %w", err)
		}
		b.auditHash = e.Hash
	}
	return nil
}

// AuditRead records that the actor in ctx read a patient's data. Reads are
// queued and written in batches by one goroutine, so a busy read path costs
// one channel send, not one transaction; Close flushes the queue.
func (s *Store) AuditRead(ctx context.Context, orgID int64, entity, entityID string, patientID int64) {
	a := ActorFrom(ctx)
	e := AuditEntry{
		OrgID: orgID, UserID: a.UserID, Actor: a.Name, Action: "read", Entity: entity,
		EntityID: entityID, PatientID: patientID, RemoteAddr: a.RemoteAddr, CreatedAt: s.Now(),
	}
	select {
	case s.auditReads <- e:
	default:
		// The queue is full: write this one synchronously rather than lose it.
		if err := s.write(context.WithoutCancel(ctx), func(tx *Tx) error { return tx.appendAudit(e) }); err != nil {
			s.log.Error("audit read", "err", err)
		}
	}
}

// Read audits are gathered for up to auditGather (or auditGatherMax rows)
// and written as one write.
//
// The cost of a read audit is mostly the page of the per-patient index
// (audit_patient) that its row dirties: reads of random patients dirty one
// page each, and every commit writes each dirty page to the WAL. Within one
// transaction a page is written once however many rows land on it, so one
// write per window costs far fewer page writes than one per read or per
// small chunk (splitting a window into chunks of 512 rows measured ~8 %
// fewer reads per second). Rows are sorted by second, then organisation
// and patient, which keeps the index inserts close together. The price is
// that a write arriving during a busy window waits for it (tens of
// milliseconds at 10,000 reads/s), and that reads of the last window are
// lost if the power fails before it is written.
const (
	auditGather    = 250 * time.Millisecond
	auditGatherMax = 8192
)

func (s *Store) auditLoop() {
	defer close(s.auditDone)
	batch := make([]AuditEntry, 0, auditGatherMax)
	for first := range s.auditReads {
		batch = append(batch[:0], first)
		timer := time.NewTimer(auditGather)
	gather:
		for len(batch) < auditGatherMax {
			select {
			case e, ok := <-s.auditReads:
				if !ok {
					break gather
				}
				batch = append(batch, e)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		slices.SortStableFunc(batch, func(a, b AuditEntry) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.OrgID, b.OrgID), cmp.Compare(a.PatientID, b.PatientID))
		})
		if err := s.write(context.Background(), func(tx *Tx) error { return tx.appendAudits(batch) }); err != nil {
			s.log.Error("audit reads", "err", err, "rows", len(batch))
		}
	}
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
	q := `SELECT id, org_id, COALESCE(user_id, 0), actor, action, entity, entity_id,
		COALESCE(patient_id, 0), detail, remote_addr, created_at, prev_hash, hash
		FROM audit_log WHERE org_id = ?`
	args := []any{orgID}
	if f.PatientID > 0 {
		q += ` AND patient_id = ?`
		args = append(args, f.PatientID)
	}
	if f.UserID > 0 {
		q += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
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
