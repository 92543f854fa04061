package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// EventVisitNoteUpdated is written when a visit note's answers change.
const EventVisitNoteUpdated = "visit-note:updated"

// VisitNoteTemplate is a form a clinician fills in during a visit.
type VisitNoteTemplate struct {
	ID    int64
	UUID  string
	OrgID int64
	Name  string
	Flow  VisitNoteFlow // of the current version
	// Version counts edits of Flow; a note keeps the version it was started with.
	Version int
	Active  bool
}

// VisitNoteFlow is a template's sections and questions.
type VisitNoteFlow struct {
	Sections []VisitNoteSection
}

// VisitNoteSection groups questions under a title.
type VisitNoteSection struct {
	Title     string
	Questions []VisitNoteQuestion
}

// VisitNoteQuestion is one question; its id is stable across organisations
// for the default templates, so integrations can hard-code it, and across a
// template's versions.
type VisitNoteQuestion struct {
	ID       string
	Text     string
	Type     string   // one of QuestionTypes
	Options  []string // for choice and multichoice
	Required bool
	Help     string
	Unit     string   // for number
	Min      *float64 // for number
	Max      *float64 // for number
}

// question finds a question and its section title.
func (f *VisitNoteFlow) question(id string) (section string, q *VisitNoteQuestion) {
	for i := range f.Sections {
		for j := range f.Sections[i].Questions {
			if f.Sections[i].Questions[j].ID == id {
				return f.Sections[i].Title, &f.Sections[i].Questions[j]
			}
		}
	}
	return "", nil
}

// DefaultVisitNoteTemplates are given to every organisation on first use.
// They carry the questions the telehealth API's perfect-answer flow fills.
var DefaultVisitNoteTemplates = []VisitNoteTemplate{
	{Name: "Acute Neurology - Physician Services", Flow: VisitNoteFlow{Sections: []VisitNoteSection{
		{Title: "Patient", Questions: []VisitNoteQuestion{
			{ID: "923c5621-66a1-49a3-aa7b-a7753cbfd139", Text: "Sex", Type: "choice", Options: []string{"Male", "Female", "Other", "Unknown"}},
			{ID: "264d75b4-3a2b-44c9-890a-f865a466b1c3", Text: "Patient location", Type: "text"},
		}},
		{Title: "Consult", Questions: []VisitNoteQuestion{
			{ID: "6d24875f-ca61-4267-8b63-52fe5f9c765f", Text: "Consult type", Type: "choice", Options: []string{"new", "update"}},
			{ID: "3b3a886e-26cf-4387-a135-2cee7ef85766", Text: "Reason", Type: "choice", Options: []string{"Stroke", "EEG Stat", "EEG Routine"}},
			{ID: "a9517f08-97d3-4e9b-a48a-323f1ef3b8a5", Text: "Requesting provider", Type: "text"},
			{ID: "bbb30615-3c20-4178-b371-04193667c635", Text: "Physician callback number", Type: "text"},
			{ID: "184b81d0-7a98-4e85-9cbf-be79892af326", Text: "Call center notified", Type: "datetime"},
			{ID: "e76ac567-6f30-4e22-af67-68444910b3e8", Text: "Physician notified", Type: "datetime"},
			{ID: "38053bb8-20a8-4808-8efc-04f1706201c3", Text: "Caller", Type: "text"},
		}},
		{Title: "Assessment", Questions: []VisitNoteQuestion{
			{ID: "0611cb0c-d2f9-4b99-a88b-f4005183fa1e", Text: "Findings", Type: "text"},
			{ID: "e3b40248-1303-4f54-ae88-6469ce5255b1", Text: "Plan", Type: "text"},
		}},
	}}},
	{Name: "EEG - Physician Services", Flow: VisitNoteFlow{Sections: []VisitNoteSection{
		{Title: "Request", Questions: []VisitNoteQuestion{
			{ID: "49c1f08f-6be2-483e-b5fb-b1c37accc00a", Text: "Indication", Type: "text"},
			{ID: "d39ff193-db9c-4d4a-bad9-346c12438c91", Text: "Urgency", Type: "choice", Options: []string{"EEG Stat", "EEG Routine"}},
		}},
		{Title: "Interpretation", Questions: []VisitNoteQuestion{
			{ID: "31926205-2eba-4b16-97b1-763dc6e07f3e", Text: "Findings", Type: "text"},
			{ID: "189a5100-ad49-415a-b45e-1668f1429169", Text: "Impression", Type: "text"},
		}},
	}}},
}

// VisitNote is one template's part of an appointment's visit note.
type VisitNote struct {
	Template  VisitNoteTemplate
	Comments  []VisitNoteComment
	Responses []VisitNoteResponse
}

// VisitNoteComment is a comment a clinician left on a visit note.
type VisitNoteComment struct {
	UUID         string
	TemplateUUID string
	Message      string
	PostedAt     time.Time
	UserID       int64
	Author       string // the user's email
}

// VisitNoteResponse is the answer to one question.
type VisitNoteResponse struct {
	Section    string
	QuestionID string
	Question   string
	Value      []string
	AnsweredAt time.Time
}

// VisitNoteAnswer sets one question's answer.
type VisitNoteAnswer struct {
	QuestionID string
	Value      []string
}

// ensureVisitNoteTemplates gives an organisation the default templates the
// first time it needs them. Seeding on demand (rather than in a migration)
// also covers organisations created after the migration ran.
func (s *Store) ensureVisitNoteTemplates(ctx context.Context, orgID int64) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM visit_note_templates WHERE org_id = ?`, orgID).Scan(&n); err != nil {
		return fmt.Errorf("visit note templates: %w", err)
	}
	if n > 0 {
		return nil
	}
	return s.write(ctx, func(tx *txn) error {
		for _, t := range DefaultVisitNoteTemplates {
			flow := encodeFlow(t.Flow)
			res, err := tx.Exec(`INSERT INTO visit_note_templates (uuid, org_id, name, flow_json, created_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (org_id, name) DO NOTHING`, NewUUID(), orgID, t.Name, string(flow), unix(tx.Now))
			if err != nil {
				return fmt.Errorf("seed visit note templates: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				id, _ := res.LastInsertId()
				if err := insertTemplateVersion(tx, orgID, id, 1, string(flow)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func scanTemplate(row interface{ Scan(...any) error }) (*VisitNoteTemplate, error) {
	var t VisitNoteTemplate
	var flow string
	if err := row.Scan(&t.ID, &t.UUID, &t.OrgID, &t.Name, &flow); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	var err error
	if t.Flow, err = decodeFlow(flow); err != nil {
		return nil, fmt.Errorf("template %d flow: %w", t.ID, err)
	}
	if t.Flow.Sections == nil {
		t.Flow.Sections = []VisitNoteSection{}
	}
	return &t, nil
}

// VisitNoteTemplates lists an organisation's active templates by name.
func (s *Store) VisitNoteTemplates(ctx context.Context, orgID int64) ([]VisitNoteTemplate, error) {
	if err := s.ensureVisitNoteTemplates(ctx, orgID); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, uuid, org_id, name, flow_json FROM visit_note_templates
		WHERE org_id = ? AND active = 1 ORDER BY name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("visit note templates: %w", err)
	}
	defer rows.Close()
	var out []VisitNoteTemplate
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, fmt.Errorf("visit note templates: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// VisitNotes returns an appointment's visit note: every active template of
// the organisation with the comments and answers given for the appointment.
func (s *Store) VisitNotes(ctx context.Context, orgID, appointmentID int64) ([]VisitNote, error) {
	templates, err := s.VisitNoteTemplates(ctx, orgID)
	if err != nil {
		return nil, err
	}
	byID := map[int64]int{}
	notes := make([]VisitNote, len(templates))
	for i, t := range templates {
		notes[i] = VisitNote{Template: t, Comments: []VisitNoteComment{}, Responses: []VisitNoteResponse{}}
		byID[t.ID] = i
	}
	// A note started before its template was edited reads with the version
	// it was written with.
	flows, err := noteFlows(ctx, s.r, orgID, appointmentID)
	if err != nil {
		return nil, err
	}
	for tid, flow := range flows {
		if i, ok := byID[tid]; ok {
			notes[i].Template.Flow = flow
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT template_id, question_id, value_json, answered_at FROM visit_note_responses
		WHERE org_id = ? AND appointment_id = ? ORDER BY answered_at, question_id`, orgID, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("visit note: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tid, at int64
		var qid, val string
		if err := rows.Scan(&tid, &qid, &val, &at); err != nil {
			return nil, fmt.Errorf("visit note: %w", err)
		}
		i, ok := byID[tid]
		if !ok {
			continue // an inactive template
		}
		r := VisitNoteResponse{QuestionID: qid, AnsweredAt: fromUnix(at)}
		if err := json.Unmarshal([]byte(val), &r.Value); err != nil {
			return nil, fmt.Errorf("visit note answer %s: %w", qid, err)
		}
		section, q := notes[i].Template.Flow.question(qid)
		r.Section = section
		if q != nil {
			r.Question = q.Text
		}
		notes[i].Responses = append(notes[i].Responses, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("visit note: %w", err)
	}
	crows, err := s.r.QueryContext(ctx, `SELECT c.uuid, c.template_id, c.message, c.posted_at, COALESCE(c.user_id, 0), c.author
		FROM visit_note_comments c WHERE c.org_id = ? AND c.appointment_id = ? ORDER BY c.id`, orgID, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("visit note comments: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var c VisitNoteComment
		var tid, at int64
		if err := crows.Scan(&c.UUID, &tid, &c.Message, &at, &c.UserID, &c.Author); err != nil {
			return nil, fmt.Errorf("visit note comments: %w", err)
		}
		i, ok := byID[tid]
		if !ok {
			continue
		}
		c.TemplateUUID, c.PostedAt = notes[i].Template.UUID, fromUnix(at)
		notes[i].Comments = append(notes[i].Comments, c)
	}
	return notes, crows.Err()
}

// SetVisitNoteAnswers sets answers to questions of the named template for
// an appointment; questions not named keep their answers. An unknown
// template name or question id changes nothing.
func (s *Store) SetVisitNoteAnswers(ctx context.Context, orgID, appointmentID int64, templateName string, answers []VisitNoteAnswer) error {
	if err := s.ensureVisitNoteTemplates(ctx, orgID); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		return setVisitNoteAnswersTx(ctx, tx, orgID, appointmentID, templateName, answers)
	})
}

// setVisitNoteAnswersTx is SetVisitNoteAnswers within a larger write; the
// organisation's templates must exist already (VisitNoteTemplates makes them).
func setVisitNoteAnswersTx(ctx context.Context, tx *txn, orgID, appointmentID int64, templateName string, answers []VisitNoteAnswer) error {
	var v Validator
	if strings.TrimSpace(templateName) == "" {
		v.Add("name", "is required")
	}
	for i, a := range answers {
		v.Check(a.QuestionID != "", fmt.Sprintf("questions[%d].id", i), "is required")
		v.Check(len(a.Value) <= 100, fmt.Sprintf("questions[%d].value", i), "must have at most 100 entries")
		for _, val := range a.Value {
			v.Text(fmt.Sprintf("questions[%d].value", i), val, MaxLongText)
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	a, err := appointmentBy(txQueryer{tx}, ctx, orgID, ApptByID, fmt.Sprint(appointmentID))
	if err != nil {
		return err
	}
	t, err := scanTemplate(tx.QueryRow(`SELECT id, uuid, org_id, name, flow_json FROM visit_note_templates
		WHERE org_id = ? AND name = ? AND active = 1`, orgID, templateName))
	if errors.Is(err, ErrNotFound) {
		return Invalid("name", fmt.Sprintf("there is no visit note template named %q", templateName))
	}
	if err != nil {
		return fmt.Errorf("set visit note: %w", err)
	}
	_, err = writeNoteAnswers(ctx, tx, orgID, a, t.ID, answers, func(i int) string { return fmt.Sprintf("questions[%d]", i) })
	return err
}

// AddVisitNoteComment adds a clinician's comment to a visit note.
func (s *Store) AddVisitNoteComment(ctx context.Context, orgID, appointmentID int64, templateUUID string, userID int64, message string) (*VisitNoteComment, error) {
	message = strings.TrimSpace(message)
	if message == "" {
		return nil, Invalid("message", "is required")
	}
	var out *VisitNoteComment
	err := s.write(ctx, func(tx *txn) error {
		a, err := appointmentBy(txQueryer{tx}, ctx, orgID, ApptByID, fmt.Sprint(appointmentID))
		if err != nil {
			return err
		}
		var tid int64
		if err := tx.QueryRow(`SELECT id FROM visit_note_templates WHERE org_id = ? AND uuid = ?`, orgID, templateUUID).Scan(&tid); errors.Is(err, sql.ErrNoRows) {
			return Invalid("template", "does not exist")
		} else if err != nil {
			return fmt.Errorf("add comment: %w", err)
		}
		var email string
		if userID > 0 {
			if err := tx.QueryRow(`SELECT email FROM users WHERE org_id = ? AND id = ?`, orgID, userID).Scan(&email); err != nil {
				return Invalid("user", "does not exist")
			}
		}
		c := &VisitNoteComment{UUID: NewUUID(), TemplateUUID: templateUUID, Message: message, PostedAt: tx.Now, UserID: userID, Author: email}
		if _, err := tx.Exec(`INSERT INTO visit_note_comments (uuid, org_id, appointment_id, template_id, user_id, author, message, posted_at)
			VALUES (?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?)`, c.UUID, orgID, a.ID, tid, userID, email, message, unix(tx.Now)); err != nil {
			return fmt.Errorf("add comment: %w", err)
		}
		if err := touchNoteOf(tx, orgID, a.ID, tid); err != nil {
			return err
		}
		if err := tx.Event(orgID, EventVisitNoteUpdated, "appointment", a.ID, map[string]any{"appointmentId": a.ID}); err != nil {
			return err
		}
		out = c
		return tx.Audit(orgID, "comment", "visit-note", fmt.Sprint(a.ID), a.PatientID, "")
	})
	return out, err
}

// HasVisitNote reports whether an appointment has any visit note answer or comment.
func (s *Store) HasVisitNote(ctx context.Context, orgID, appointmentID int64) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM visit_note_responses WHERE org_id = ? AND appointment_id = ?)
		OR EXISTS (SELECT 1 FROM visit_note_comments WHERE org_id = ? AND appointment_id = ?)`,
		orgID, appointmentID, orgID, appointmentID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("has visit note: %w", err)
	}
	return n == 1, nil
}
