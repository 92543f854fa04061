package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"
)

// EventPatientFileCreated is emitted when a file is added to a patient's
// record.
const EventPatientFileCreated = "patient-file:created"

// MaxPatientFileSize is the largest file a patient's record accepts.
const MaxPatientFileSize = 20 << 20

// PatientFile is a file in a patient's record: what an instrument sent (an
// ECG as PDF, a spirometry report). The patient page lists them.
type PatientFile struct {
	ID            int64
	UUID          string
	OrgID         int64
	PatientID     int64
	AppointmentID int64
	Title         string    // e.g. the measurement type
	MeasuredAt    time.Time // as the sender says, zero if unknown
	Filename      string
	ContentType   string
	Size          int64
	SHA256        string // hex, of Data
	Data          []byte // loaded by PatientFile, not by PatientFiles
	// Spool, when set, holds the bytes instead of Data (a large upload,
	// spooled to disk as it arrived): they are stored in chunks and never
	// held whole in memory.
	Spool     *Spool
	Source    string // instrument-api, upload, ...
	SourceRef string // who sent it: an API client's name, a user's email
	CreatedAt time.Time
}

// Validate checks a file's fields; the content type is guessed from the
// name, then the bytes, when not given.
func (f *PatientFile) Validate() error {
	var v Validator
	f.Filename = strings.TrimSpace(f.Filename)
	f.Title = strings.TrimSpace(f.Title)
	v.Check(f.PatientID > 0, "patient", "is required")
	v.Check(f.Source != "", "source", "is required")
	v.Check(f.Filename != "", "filename", "is required")
	v.Check(len(f.Filename) <= 255, "filename", "must be at most 255 characters")
	v.Check(!strings.ContainsAny(f.Filename, "/\\\x00") && f.Filename != "." && f.Filename != "..",
		"filename", "must be a plain file name without a path")
	v.Check(len(f.Title) <= 500, "title", "must be at most 500 characters")
	v.Line("filename", f.Filename, 255)
	v.Text("title", f.Title, MaxShortText)
	size, head := int64(len(f.Data)), f.Data
	if f.Spool != nil {
		size, head = f.Spool.Size(), f.Spool.Head()
	}
	v.Check(size <= MaxPatientFileSize, "data", fmt.Sprintf("must be at most %d bytes", MaxPatientFileSize))
	if f.ContentType == "" {
		f.ContentType = contentTypeOf(f.Filename, head)
	}
	return v.Err()
}

// contentTypeOf guesses a file's type from its extension, then its bytes.
func contentTypeOf(filename string, data []byte) string {
	switch strings.ToLower(path.Ext(filename)) {
	case ".pdf":
		return "application/pdf"
	case ".xml":
		return "application/xml"
	case ".json":
		return "application/json"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".txt", ".csv":
		return "text/plain; charset=utf-8"
	}
	return http.DetectContentType(data)
}

// addPatientFileTx stores a file within a larger write, with its event and
// audit row. The caller checks that the patient is the organisation's.
func addPatientFileTx(tx *txn, orgID int64, f *PatientFile) error {
	f.OrgID = orgID
	if err := f.Validate(); err != nil {
		return err
	}
	f.UUID = NewUUID()
	f.CreatedAt = tx.Now
	if f.Spool != nil {
		f.Data = nil
		f.Size, f.SHA256 = f.Spool.Size(), f.Spool.SHA256()
	} else {
		f.Size = int64(len(f.Data))
		sum := sha256.Sum256(f.Data)
		f.SHA256 = hex.EncodeToString(sum[:])
	}
	if f.Data == nil {
		f.Data = []byte{}
	}
	res, err := tx.Exec(`INSERT INTO patient_files (uuid, org_id, patient_id, appointment_id, title, measured_at,
		filename, content_type, size, sha256, data, source, source_ref, created_at)
		VALUES (?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.UUID, orgID, f.PatientID, f.AppointmentID, f.Title, unix(f.MeasuredAt), f.Filename, f.ContentType,
		f.Size, f.SHA256, f.Data, f.Source, f.SourceRef, unix(tx.Now))
	if err != nil {
		return fmt.Errorf("add patient file: %w", err)
	}
	f.ID, _ = res.LastInsertId()
	if f.Spool != nil {
		if err := copyChunksTx(tx, f.ID, f.Spool); err != nil {
			return err
		}
	}
	if err := tx.Event(orgID, EventPatientFileCreated, "patient-file", f.ID,
		map[string]any{"fileId": f.ID, "patientId": f.PatientID}); err != nil {
		return err
	}
	return tx.Audit(orgID, "create", "patient-file", fmt.Sprint(f.ID), f.PatientID, f.Filename)
}

// copyChunksTx stores a spooled file's bytes as chunk rows, reading the
// spool one chunk at a time: SQLite binds and writes 256 KiB at a time,
// whatever the file's size.
func copyChunksTx(tx *txn, fileID int64, sp *Spool) error {
	r, err := sp.reader()
	if err != nil {
		return err
	}
	buf := make([]byte, spoolChunk)
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if _, err := tx.Exec(`INSERT INTO patient_file_chunks (file_id, seq, data) VALUES (?, ?, ?)`,
				fileID, seq, buf[:n]); err != nil {
				return fmt.Errorf("add patient file: chunk %d: %w", seq, err)
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("add patient file: %w", err)
		}
	}
}

// AddPatientFile stores a file for a patient of the organisation.
func (s *Store) AddPatientFile(ctx context.Context, orgID int64, f *PatientFile) error {
	return s.write(ctx, func(tx *txn) error {
		if _, err := patientBy(ctx, txQueryer{tx}, orgID, ByID, fmt.Sprint(f.PatientID)); err != nil {
			return err
		}
		return addPatientFileTx(tx, orgID, f)
	})
}

const patientFileMetaCols = `id, uuid, org_id, patient_id, COALESCE(appointment_id, 0), title, measured_at, filename,
	content_type, size, sha256, source, source_ref, created_at`

func scanPatientFile(row interface{ Scan(...any) error }, extra ...any) (*PatientFile, error) {
	var f PatientFile
	var at, created int64
	err := row.Scan(append([]any{&f.ID, &f.UUID, &f.OrgID, &f.PatientID, &f.AppointmentID, &f.Title, &at,
		&f.Filename, &f.ContentType, &f.Size, &f.SHA256, &f.Source, &f.SourceRef, &created}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	f.MeasuredAt, f.CreatedAt = fromUnix(at), fromUnix(created)
	return &f, nil
}

// PatientFile returns one file of the organisation, with its bytes.
func (s *Store) PatientFile(ctx context.Context, orgID, id int64) (*PatientFile, error) {
	var data []byte
	f, err := scanPatientFile(s.r.QueryRowContext(ctx, `SELECT `+patientFileMetaCols+`, data FROM patient_files
		WHERE org_id = ? AND id = ?`, orgID, id), &data)
	if err != nil {
		return nil, fmt.Errorf("patient file %d: %w", id, err)
	}
	if int64(len(data)) < f.Size { // stored in chunks
		data = make([]byte, 0, f.Size)
		rows, err := s.r.QueryContext(ctx, `SELECT data FROM patient_file_chunks WHERE file_id = ? ORDER BY seq`, id)
		if err != nil {
			return nil, fmt.Errorf("patient file %d: %w", id, err)
		}
		defer rows.Close()
		for rows.Next() {
			var chunk sql.RawBytes
			if err := rows.Scan(&chunk); err != nil {
				return nil, fmt.Errorf("patient file %d: %w", id, err)
			}
			data = append(data, chunk...)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("patient file %d: %w", id, err)
		}
		if int64(len(data)) != f.Size {
			return nil, fmt.Errorf("patient file %d: %d of %d bytes stored", id, len(data), f.Size)
		}
	}
	f.Data = data
	return f, nil
}

// PatientFileMeta returns one file of the organisation without its bytes;
// CopyPatientFile then streams them.
func (s *Store) PatientFileMeta(ctx context.Context, orgID, id int64) (*PatientFile, error) {
	f, err := scanPatientFile(s.r.QueryRowContext(ctx, `SELECT `+patientFileMetaCols+` FROM patient_files
		WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("patient file %d: %w", id, err)
	}
	return f, nil
}

// PatientFileMetaByUUID returns a file by its public id, without its bytes.
func (s *Store) PatientFileMetaByUUID(ctx context.Context, orgID int64, uuid string) (*PatientFile, error) {
	f, err := scanPatientFile(s.r.QueryRowContext(ctx, `SELECT `+patientFileMetaCols+` FROM patient_files
		WHERE org_id = ? AND uuid = ?`, orgID, uuid))
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", uuid, err)
	}
	return f, nil
}

// CopyPatientFile writes the bytes of f (from PatientFileMeta) to w as a
// download streams them: a file stored in chunks is read one chunk (256
// KiB) per query, so a server sending many large files at once holds one
// chunk per download rather than whole files, and no read transaction
// stays open while a slow client takes its time. A file kept in its row
// (written before chunks existed) is read at once. A file whose stored
// bytes do not add up to its size is an error: the caller has sent part of
// it and must abort the response.
func (s *Store) CopyPatientFile(ctx context.Context, f *PatientFile, w io.Writer) (int64, error) {
	var inRow int64
	if err := s.r.QueryRowContext(ctx, `SELECT length(data) FROM patient_files WHERE org_id = ? AND id = ?`,
		f.OrgID, f.ID).Scan(&inRow); err != nil {
		return 0, fmt.Errorf("patient file %d: %w", f.ID, err)
	}
	if inRow > 0 || f.Size == 0 {
		var data []byte
		if err := s.r.QueryRowContext(ctx, `SELECT data FROM patient_files WHERE org_id = ? AND id = ?`,
			f.OrgID, f.ID).Scan(&data); err != nil {
			return 0, fmt.Errorf("patient file %d: %w", f.ID, err)
		}
		n, err := w.Write(data)
		return int64(n), err
	}
	var sent int64
	for seq := 0; sent < f.Size; seq++ {
		var chunk []byte
		err := s.r.QueryRowContext(ctx, `SELECT data FROM patient_file_chunks WHERE file_id = ? AND seq = ?`,
			f.ID, seq).Scan(&chunk)
		if errors.Is(err, sql.ErrNoRows) {
			return sent, fmt.Errorf("patient file %d: %d of %d bytes stored", f.ID, sent, f.Size)
		}
		if err != nil {
			return sent, fmt.Errorf("patient file %d: chunk %d: %w", f.ID, seq, err)
		}
		n, err := w.Write(chunk)
		sent += int64(n)
		if err != nil {
			return sent, err
		}
	}
	if sent != f.Size {
		return sent, fmt.Errorf("patient file %d: %d of %d bytes stored", f.ID, sent, f.Size)
	}
	return sent, nil
}

// PatientFiles lists a patient's files, newest first, without their bytes.
func (s *Store) PatientFiles(ctx context.Context, orgID, patientID int64) ([]PatientFile, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+patientFileMetaCols+` FROM patient_files
		WHERE org_id = ? AND patient_id = ? ORDER BY created_at DESC, id DESC LIMIT 1000`, orgID, patientID)
	if err != nil {
		return nil, fmt.Errorf("patient files: %w", err)
	}
	defer rows.Close()
	var out []PatientFile
	for rows.Next() {
		f, err := scanPatientFile(rows)
		if err != nil {
			return nil, fmt.Errorf("patient files: %w", err)
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}

// PatientFileByUUID returns a file (with its bytes) by its public id.
func (s *Store) PatientFileByUUID(ctx context.Context, orgID int64, uuid string) (*PatientFile, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT id FROM patient_files WHERE org_id = ? AND uuid = ?`, orgID, uuid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("file %s: %w", uuid, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", uuid, err)
	}
	return s.PatientFile(ctx, orgID, id)
}

// EncounterFiles lists the files attached to an encounter, newest first.
func (s *Store) EncounterFiles(ctx context.Context, orgID, appointmentID int64) ([]PatientFile, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+patientFileMetaCols+` FROM patient_files
		WHERE org_id = ? AND appointment_id = ? ORDER BY id DESC`, orgID, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("encounter files: %w", err)
	}
	defer rows.Close()
	out := []PatientFile{}
	for rows.Next() {
		f, err := scanPatientFile(rows)
		if err != nil {
			return nil, fmt.Errorf("encounter files: %w", err)
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}
