package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Attachment limits and types, as the telehealth API documents them.
const MaxAttachmentSize = 5 << 20

// AttachmentMimeTypes are the accepted attachment types, in the documented order.
var AttachmentMimeTypes = []string{"application/pdf", "application/x-pdf", "image/pdf", "image/png", "image/jpeg"}

// Attachment is a file attached to an appointment. Its bytes live in the
// database; Data is only loaded by AttachmentData (CopyAttachment streams
// them instead).
type Attachment struct {
	ID            int64
	UUID          string
	OrgID         int64
	AppointmentID int64
	Title         string
	MimeType      string
	Size          int
	Data          []byte
	Deleted       bool
	UploadedAt    time.Time
}

// Validate checks an attachment's fields.
func (a *Attachment) Validate() error {
	var v Validator
	a.Title = strings.TrimSpace(a.Title)
	v.Check(a.Title != "", "fileName", "is required")
	v.Check(len(a.Title) <= 255, "fileName", "must be at most 255 characters")
	v.Line("fileName", a.Title, 255)
	v.Check(!strings.ContainsAny(a.Title, "/\\") && a.Title != "." && a.Title != "..", "fileName", "must be a plain file name without a path")
	v.Check(slices.Contains(AttachmentMimeTypes, a.MimeType), "mimeType", "is not supported")
	v.Check(len(a.Data) > 0, "file", "is empty")
	v.Check(len(a.Data) <= MaxAttachmentSize, "file", "must be at most 5 MB")
	return v.Err()
}

// CreateAttachment stores a file for an appointment of the organisation.
func (s *Store) CreateAttachment(ctx context.Context, orgID int64, a *Attachment) error {
	a.OrgID = orgID
	if err := a.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		appt, err := appointmentBy(txQueryer{tx}, ctx, orgID, ApptByID, fmt.Sprint(a.AppointmentID))
		if err != nil {
			return err
		}
		a.UUID, a.Size, a.UploadedAt = NewUUID(), len(a.Data), tx.Now
		res, err := tx.Exec(`INSERT INTO attachments (uuid, org_id, appointment_id, title, mime_type, size, data, uploaded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.UUID, orgID, appt.ID, a.Title, a.MimeType, a.Size, a.Data, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create attachment: %w", err)
		}
		a.ID, _ = res.LastInsertId()
		if err := tx.Event(orgID, "attachment:created", "appointment", appt.ID, map[string]any{"appointmentId": appt.ID, "attachmentId": a.UUID}); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "attachment", a.UUID, appt.PatientID, a.Title)
	})
}

// Attachments lists an appointment's attachments (not deleted), oldest first,
// without their bytes.
func (s *Store) Attachments(ctx context.Context, orgID, appointmentID int64) ([]Attachment, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, uuid, org_id, appointment_id, title, mime_type, size, deleted, uploaded_at
		FROM attachments WHERE org_id = ? AND appointment_id = ? AND deleted = 0 ORDER BY id`, orgID, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var a Attachment
		var up int64
		if err := rows.Scan(&a.ID, &a.UUID, &a.OrgID, &a.AppointmentID, &a.Title, &a.MimeType, &a.Size, &a.Deleted, &up); err != nil {
			return nil, fmt.Errorf("attachments: %w", err)
		}
		a.UploadedAt = fromUnix(up)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AttachmentData returns one attachment with its bytes.
func (s *Store) AttachmentData(ctx context.Context, orgID int64, uuid string) (*Attachment, error) {
	return s.attachment(ctx, orgID, uuid, true)
}

// AttachmentMeta returns one attachment without its bytes: CopyAttachment
// sends them.
func (s *Store) AttachmentMeta(ctx context.Context, orgID int64, uuid string) (*Attachment, error) {
	return s.attachment(ctx, orgID, uuid, false)
}

func (s *Store) attachment(ctx context.Context, orgID int64, uuid string, withData bool) (*Attachment, error) {
	var a Attachment
	var up int64
	cols := `id, uuid, org_id, appointment_id, title, mime_type, size, deleted, uploaded_at`
	dest := []any{&a.ID, &a.UUID, &a.OrgID, &a.AppointmentID, &a.Title, &a.MimeType, &a.Size, &a.Deleted, &up}
	if withData {
		cols += `, data`
		dest = append(dest, &a.Data)
	}
	err := s.r.QueryRowContext(ctx, `SELECT `+cols+` FROM attachments WHERE org_id = ? AND uuid = ? AND deleted = 0`,
		orgID, uuid).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("attachment %s: %w", uuid, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("attachment %s: %w", uuid, err)
	}
	a.UploadedAt = fromUnix(up)
	return &a, nil
}

// attachmentChunk is how much of an attachment one query of CopyAttachment
// reads.
const attachmentChunk = 256 << 10

// CopyAttachment writes the bytes of a (from AttachmentMeta) to w, 256 KiB
// per query (substr of the blob), so the server holds one chunk per
// download rather than the whole file on the Go heap, and no read
// transaction stays open while a slow client reads. mattn/go-sqlite3 has
// no incremental blob I/O; SQLite still reads the row's overflow pages for
// each chunk into its own memory, and frees them when the query ends. An
// attachment deleted part-way, or whose bytes do not add up to its size,
// is an error: the caller has sent part of it and must abort the response.
func (s *Store) CopyAttachment(ctx context.Context, a *Attachment, w io.Writer) (int64, error) {
	var sent int64
	for sent < int64(a.Size) {
		var chunk []byte
		err := s.r.QueryRowContext(ctx, `SELECT substr(data, ?, ?) FROM attachments WHERE org_id = ? AND id = ? AND deleted = 0`,
			sent+1, attachmentChunk, a.OrgID, a.ID).Scan(&chunk)
		if errors.Is(err, sql.ErrNoRows) {
			return sent, fmt.Errorf("attachment %s: deleted after %d of %d bytes: %w", a.UUID, sent, a.Size, ErrNotFound)
		}
		if err != nil {
			return sent, fmt.Errorf("attachment %s: %w", a.UUID, err)
		}
		if len(chunk) == 0 {
			return sent, fmt.Errorf("attachment %s: %d of %d bytes stored", a.UUID, sent, a.Size)
		}
		n, err := w.Write(chunk)
		sent += int64(n)
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// DeleteAttachment deletes an appointment's attachment: its bytes are
// erased, the row stays (deleted) for the record.
func (s *Store) DeleteAttachment(ctx context.Context, orgID, appointmentID int64, uuid string) error {
	return s.write(ctx, func(tx *txn) error {
		var patientID int64
		err := tx.QueryRow(`SELECT p.patient_id FROM attachments a JOIN appointments p ON p.id = a.appointment_id
			WHERE a.org_id = ? AND a.appointment_id = ? AND a.uuid = ? AND a.deleted = 0`, orgID, appointmentID, uuid).Scan(&patientID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("delete attachment: %w", err)
		}
		if _, err := tx.Exec(`UPDATE attachments SET deleted = 1, data = NULL, deleted_at = ? WHERE org_id = ? AND uuid = ?`,
			unix(tx.Now), orgID, uuid); err != nil {
			return fmt.Errorf("delete attachment: %w", err)
		}
		if err := tx.Event(orgID, "attachment:deleted", "appointment", appointmentID, map[string]any{"appointmentId": appointmentID, "attachmentId": uuid}); err != nil {
			return err
		}
		return tx.Audit(orgID, "delete", "attachment", uuid, patientID, "")
	})
}
