package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PatientDocument is a document (a questionnaire with its answers) added to
// a patient's record.
type PatientDocument struct {
	ID        int64
	UUID      string
	OrgID     int64
	PatientID int64
	Name      string
	DateTime  time.Time
	Responses []DocumentResponse
	CreatedAt time.Time
}

// DocumentResponse is one question of a document and its answer.
type DocumentResponse struct {
	Question string
	Response string
}

// documentResponseJSON is one entry of responses_json as stored: the
// database's format, whatever the API calls the fields.
type documentResponseJSON struct {
	Question string `json:"question"`
	Response string `json:"response"`
}

func responseToJSON(r DocumentResponse) documentResponseJSON   { return documentResponseJSON(r) }
func responseFromJSON(r documentResponseJSON) DocumentResponse { return DocumentResponse(r) }

// Validate checks a document's fields.
func (d *PatientDocument) Validate() error {
	var v Validator
	d.Name = strings.TrimSpace(d.Name)
	v.Check(d.Name != "", "name", "is required")
	v.Check(len(d.Name) <= 500, "name", "must be at most 500 characters")
	v.Line("name", d.Name, MaxShortText)
	v.Check(!d.DateTime.IsZero(), "dateTime", "is required")
	if !d.DateTime.IsZero() {
		v.Date("dateTime", d.DateTime)
	}
	v.Check(len(d.Responses) <= 1000, "responses", "must have at most 1000 entries")
	for i, r := range d.Responses {
		v.Check(strings.TrimSpace(r.Question) != "", fmt.Sprintf("responses[%d].question", i), "is required")
		v.Text(fmt.Sprintf("responses[%d].question", i), r.Question, MaxLongText)
		v.Text(fmt.Sprintf("responses[%d].response", i), r.Response, MaxLongText)
	}
	return v.Err()
}

// CreatePatientDocument stores a document for a patient of the organisation.
func (s *Store) CreatePatientDocument(ctx context.Context, orgID int64, d *PatientDocument) error {
	d.OrgID = orgID
	if err := d.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		if _, err := patientBy(ctx, txQueryer{tx}, orgID, ByID, fmt.Sprint(d.PatientID)); err != nil {
			return err
		}
		d.UUID, d.CreatedAt = NewUUID(), tx.Now
		resp := encodeList(d.Responses, responseToJSON)
		res, err := tx.Exec(`INSERT INTO patient_documents (uuid, org_id, patient_id, name, date_time, responses_json, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, d.UUID, orgID, d.PatientID, d.Name, unix(d.DateTime), resp, unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create patient document: %w", err)
		}
		d.ID, _ = res.LastInsertId()
		if err := tx.Event(orgID, "document:created", "patient", d.PatientID, map[string]any{"patientId": d.PatientID, "documentId": d.UUID}); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "document", d.UUID, d.PatientID, d.Name)
	})
}

const patientDocumentCols = `id, uuid, org_id, patient_id, name, date_time, responses_json, created_at`

func scanPatientDocument(row interface{ Scan(...any) error }) (*PatientDocument, error) {
	var d PatientDocument
	var dt, c int64
	var resp string
	if err := row.Scan(&d.ID, &d.UUID, &d.OrgID, &d.PatientID, &d.Name, &dt, &resp, &c); err != nil {
		return nil, err
	}
	var err error
	if d.Responses, err = decodeListAs(resp, responseFromJSON); err != nil {
		return nil, fmt.Errorf("patient document %d: %w", d.ID, err)
	}
	d.DateTime, d.CreatedAt = fromUnix(dt), fromUnix(c)
	return &d, nil
}

// patientDocument returns one document by row id.
func (s *Store) patientDocument(ctx context.Context, orgID, id int64) (*PatientDocument, error) {
	d, err := scanPatientDocument(s.r.QueryRowContext(ctx, `SELECT `+patientDocumentCols+` FROM patient_documents
		WHERE org_id = ? AND id = ?`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("patient document %d: %w", id, ErrNotFound)
	}
	return d, err
}

// PatientDocuments lists a patient's documents, newest first.
func (s *Store) PatientDocuments(ctx context.Context, orgID, patientID int64) ([]PatientDocument, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+patientDocumentCols+`
		FROM patient_documents WHERE org_id = ? AND patient_id = ? ORDER BY id DESC`, orgID, patientID)
	if err != nil {
		return nil, fmt.Errorf("patient documents: %w", err)
	}
	defer rows.Close()
	var out []PatientDocument
	for rows.Next() {
		d, err := scanPatientDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("patient documents: %w", err)
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}
