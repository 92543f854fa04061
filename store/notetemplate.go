package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Question types of a visit note template.
const (
	QuestionText     = "text"        // free text
	QuestionChoice   = "choice"      // one of Options
	QuestionMulti    = "multichoice" // any of Options
	QuestionNumber   = "number"      // a number, with Unit, Min and Max
	QuestionDate     = "date"        // YYYY-MM-DD
	QuestionDateTime = "datetime"    // RFC 3339 (the telehealth default templates use it)
	QuestionYesNo    = "yesno"       // AnswerYes or AnswerNo
)

// QuestionTypes lists the question types in the order the builder offers them.
var QuestionTypes = []string{QuestionText, QuestionChoice, QuestionMulti, QuestionNumber, QuestionDate, QuestionDateTime, QuestionYesNo}

// The stored values of a yes/no answer; pages show them in the clinician's language.
const (
	AnswerYes = "yes"
	AnswerNo  = "no"
)

// EventVisitNoteTemplateSaved is written when a template is created or edited.
const EventVisitNoteTemplateSaved = "visit-note-template:saved"

// Limits of a template, generous for any real form and small enough that a
// template always renders as one page.
const (
	maxSections  = 50
	maxQuestions = 200
	maxOptions   = 50
)

// Validate trims a template and checks it; questions without an id get one,
// so an edited question keeps its id (and its answers) from version to version.
func (t *VisitNoteTemplate) Validate() error {
	var v Validator
	t.Name = strings.TrimSpace(t.Name)
	v.Check(t.Name != "", "name", "is required")
	v.Check(len(t.Name) <= 200, "name", "must be at most 200 characters")
	f := &t.Flow
	v.Check(len(f.Sections) > 0, "sections", "a template needs at least one section")
	v.Check(len(f.Sections) <= maxSections, "sections", fmt.Sprintf("at most %d sections", maxSections))
	seen := map[string]bool{}
	n := 0
	for i := range f.Sections {
		sec := &f.Sections[i]
		p := fmt.Sprintf("sections[%d]", i)
		sec.Title = strings.TrimSpace(sec.Title)
		v.Check(sec.Title != "", p+".title", "is required")
		v.Check(len(sec.Title) <= 200, p+".title", "must be at most 200 characters")
		v.Check(len(sec.Questions) > 0, p+".questions", "a section needs at least one question")
		for j := range sec.Questions {
			n++
			q := &sec.Questions[j]
			qp := fmt.Sprintf("%s.questions[%d]", p, j)
			q.ID = strings.TrimSpace(q.ID)
			if q.ID == "" {
				q.ID = NewUUID()
			}
			v.Check(len(q.ID) <= 64, qp+".id", "must be at most 64 characters")
			v.Check(!seen[q.ID], qp+".id", "is used by another question")
			seen[q.ID] = true
			q.Text, q.Help, q.Unit = strings.TrimSpace(q.Text), strings.TrimSpace(q.Help), strings.TrimSpace(q.Unit)
			v.Check(q.Text != "", qp+".text", "is required")
			v.Check(len(q.Text) <= 500, qp+".text", "must be at most 500 characters")
			v.Check(len(q.Help) <= 1000, qp+".help", "must be at most 1000 characters")
			v.Check(slices.Contains(QuestionTypes, q.Type), qp+".type", "must be one of "+strings.Join(QuestionTypes, ", "))
			switch q.Type {
			case QuestionChoice, QuestionMulti:
				opts := q.Options[:0:0]
				for _, o := range q.Options {
					if o = strings.TrimSpace(o); o != "" {
						v.Check(!slices.Contains(opts, o), qp+".options", fmt.Sprintf("%q is listed twice", o))
						v.Check(len(o) <= 200, qp+".options", "each option must be at most 200 characters")
						opts = append(opts, o)
					}
				}
				q.Options = opts
				v.Check(len(opts) > 0, qp+".options", "a choice question needs at least one option")
				v.Check(len(opts) <= maxOptions, qp+".options", fmt.Sprintf("at most %d options", maxOptions))
			default:
				q.Options = nil
			}
			if q.Type == QuestionNumber {
				v.Check(len(q.Unit) <= 50, qp+".unit", "must be at most 50 characters")
				v.Check(q.Min == nil || q.Max == nil || *q.Min <= *q.Max, qp+".max", "must not be below the minimum")
			} else {
				q.Unit, q.Min, q.Max = "", nil, nil
			}
		}
	}
	v.Check(n <= maxQuestions, "sections", fmt.Sprintf("at most %d questions in all", maxQuestions))
	return v.Err()
}

const templateCols = `id, uuid, org_id, name, flow_json, version, active`

func scanTemplateRow(row interface{ Scan(...any) error }) (*VisitNoteTemplate, error) {
	var t VisitNoteTemplate
	var flow string
	if err := row.Scan(&t.ID, &t.UUID, &t.OrgID, &t.Name, &flow, &t.Version, &t.Active); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	var err error
	if t.Flow, err = decodeFlow(flow); err != nil {
		return nil, fmt.Errorf("template %d flow: %w", t.ID, err)
	}
	return &t, nil
}

// VisitNoteTemplateByID returns one template of the organisation at its
// current version, active or not.
func (s *Store) VisitNoteTemplateByID(ctx context.Context, orgID, id int64) (*VisitNoteTemplate, error) {
	if err := s.ensureVisitNoteTemplates(ctx, orgID); err != nil {
		return nil, err
	}
	t, err := scanTemplateRow(s.r.QueryRowContext(ctx, `SELECT `+templateCols+` FROM visit_note_templates
		WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("visit note template %d: %w", id, err)
	}
	return t, nil
}

// AllVisitNoteTemplates lists every template of the organisation, inactive
// ones too, by name (the admin pages).
func (s *Store) AllVisitNoteTemplates(ctx context.Context, orgID int64) ([]VisitNoteTemplate, error) {
	if err := s.ensureVisitNoteTemplates(ctx, orgID); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+templateCols+` FROM visit_note_templates WHERE org_id = ? ORDER BY name, id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("visit note templates: %w", err)
	}
	defer rows.Close()
	var out []VisitNoteTemplate
	for rows.Next() {
		t, err := scanTemplateRow(rows)
		if err != nil {
			return nil, fmt.Errorf("visit note templates: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// CreateVisitNoteTemplate creates a template at version 1.
func (s *Store) CreateVisitNoteTemplate(ctx context.Context, orgID int64, t *VisitNoteTemplate) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := s.ensureVisitNoteTemplates(ctx, orgID); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		if err := templateNameFree(tx, orgID, 0, t.Name); err != nil {
			return err
		}
		flow := encodeFlow(t.Flow)
		t.UUID, t.OrgID, t.Version, t.Active = NewUUID(), orgID, 1, true
		res, err := tx.Exec(`INSERT INTO visit_note_templates (uuid, org_id, name, flow_json, active, created_at, version)
			VALUES (?, ?, ?, ?, 1, ?, 1)`, t.UUID, orgID, t.Name, string(flow), unix(tx.Now))
		if err != nil {
			return fmt.Errorf("create visit note template: %w", err)
		}
		t.ID, _ = res.LastInsertId()
		if err := insertTemplateVersion(tx, orgID, t.ID, 1, string(flow)); err != nil {
			return err
		}
		if err := tx.Event(orgID, EventVisitNoteTemplateSaved, "visit-note-template", t.ID, map[string]any{"templateId": t.UUID, "version": 1}); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "visit-note-template", t.UUID, 0, fmt.Sprintf("%s (version 1)", t.Name))
	})
}

// UpdateVisitNoteTemplate saves a template's name, active flag and flow. A
// changed flow becomes a new version; notes already started keep theirs.
func (s *Store) UpdateVisitNoteTemplate(ctx context.Context, orgID int64, t *VisitNoteTemplate) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		old, err := scanTemplateRow(tx.QueryRow(`SELECT `+templateCols+` FROM visit_note_templates WHERE org_id = ? AND id = ?`, orgID, t.ID))
		if err != nil {
			return fmt.Errorf("visit note template %d: %w", t.ID, err)
		}
		if err := templateNameFree(tx, orgID, t.ID, t.Name); err != nil {
			return err
		}
		t.UUID, t.OrgID, t.Version = old.UUID, orgID, old.Version
		var changes []string
		if old.Name != t.Name {
			changes = append(changes, fmt.Sprintf("renamed from %q", old.Name))
		}
		if old.Active != t.Active {
			changes = append(changes, map[bool]string{true: "activated", false: "deactivated"}[t.Active])
		}
		flow := encodeFlow(t.Flow)
		if encodeFlow(old.Flow) != flow {
			t.Version++
			if err := insertTemplateVersion(tx, orgID, t.ID, t.Version, string(flow)); err != nil {
				return err
			}
			changes = append(changes, fmt.Sprintf("version %d", t.Version))
		}
		if len(changes) == 0 {
			return nil
		}
		if _, err := tx.Exec(`UPDATE visit_note_templates SET name = ?, active = ?, flow_json = ?, version = ? WHERE org_id = ? AND id = ?`,
			t.Name, boolInt(t.Active), string(flow), t.Version, orgID, t.ID); err != nil {
			return fmt.Errorf("update visit note template: %w", err)
		}
		if err := tx.Event(orgID, EventVisitNoteTemplateSaved, "visit-note-template", t.ID, map[string]any{"templateId": t.UUID, "version": t.Version}); err != nil {
			return err
		}
		return tx.Audit(orgID, "update", "visit-note-template", t.UUID, 0, t.Name+": "+strings.Join(changes, ", "))
	})
}

// flowJSON is how a flow is stored (flow_json columns): the keys are the
// database's format, whatever any API calls them.
type flowJSON struct {
	Sections []sectionJSON `json:"sections"`
}

type sectionJSON struct {
	Title     string         `json:"title"`
	Questions []questionJSON `json:"questions"`
}

type questionJSON struct {
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Type     string   `json:"type"`
	Options  []string `json:"options,omitempty"`
	Required bool     `json:"required,omitempty"`
	Help     string   `json:"help,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
}

// encodeFlow is a flow as stored; equal flows encode equally, so it also
// tells whether an edit changed the flow.
func encodeFlow(f VisitNoteFlow) string {
	out := flowJSON{Sections: make([]sectionJSON, len(f.Sections))}
	for i, s := range f.Sections {
		sec := sectionJSON{Title: s.Title, Questions: make([]questionJSON, len(s.Questions))}
		for j, q := range s.Questions {
			sec.Questions[j] = questionJSON(q)
		}
		out.Sections[i] = sec
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func decodeFlow(s string) (VisitNoteFlow, error) {
	var in flowJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return VisitNoteFlow{}, err
	}
	f := VisitNoteFlow{Sections: make([]VisitNoteSection, len(in.Sections))}
	for i, s := range in.Sections {
		sec := VisitNoteSection{Title: s.Title, Questions: make([]VisitNoteQuestion, len(s.Questions))}
		for j, q := range s.Questions {
			sec.Questions[j] = VisitNoteQuestion(q)
		}
		f.Sections[i] = sec
	}
	return f, nil
}

func templateNameFree(tx *txn, orgID, id int64, name string) error {
	var other int64
	err := tx.QueryRow(`SELECT id FROM visit_note_templates WHERE org_id = ? AND name = ? AND id <> ?`, orgID, name, id).Scan(&other)
	if err == nil {
		return Invalid("name", "another template has this name")
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("visit note template name: %w", err)
	}
	return nil
}

func insertTemplateVersion(tx *txn, orgID, templateID int64, version int, flow string) error {
	a := ActorFrom(tx.Context())
	if _, err := tx.Exec(`INSERT INTO visit_note_template_versions (org_id, template_id, version, flow_json, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, NULLIF(?, 0))`, orgID, templateID, version, flow, unix(tx.Now), a.UserID); err != nil {
		return fmt.Errorf("visit note template version: %w", err)
	}
	return nil
}

// VisitNoteTemplateVersion is one saved version of a template.
type VisitNoteTemplateVersion struct {
	Version   int
	Flow      VisitNoteFlow
	CreatedAt time.Time
}

// VisitNoteTemplateVersions lists a template's versions, newest first.
func (s *Store) VisitNoteTemplateVersions(ctx context.Context, orgID, templateID int64) ([]VisitNoteTemplateVersion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT version, flow_json, created_at FROM visit_note_template_versions
		WHERE org_id = ? AND template_id = ? ORDER BY version DESC`, orgID, templateID)
	if err != nil {
		return nil, fmt.Errorf("template versions: %w", err)
	}
	defer rows.Close()
	var out []VisitNoteTemplateVersion
	for rows.Next() {
		var v VisitNoteTemplateVersion
		var flow string
		var at int64
		if err := rows.Scan(&v.Version, &flow, &at); err != nil {
			return nil, fmt.Errorf("template versions: %w", err)
		}
		if v.Flow, err = decodeFlow(flow); err != nil {
			return nil, fmt.Errorf("template versions: %w", err)
		}
		v.CreatedAt = fromUnix(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// rowsQueryer is what both the reader pool and a write transaction offer.
type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// noteFlows returns, per template, the flow of the version each of an
// appointment's notes was started with.
func noteFlows(ctx context.Context, q rowsQueryer, orgID, appointmentID int64) (map[int64]VisitNoteFlow, error) {
	rows, err := q.QueryContext(ctx, `SELECT n.template_id, v.flow_json FROM visit_notes n
		JOIN visit_note_template_versions v ON v.template_id = n.template_id AND v.version = n.template_version
		WHERE n.org_id = ? AND n.appointment_id = ?`, orgID, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("note versions: %w", err)
	}
	defer rows.Close()
	out := map[int64]VisitNoteFlow{}
	for rows.Next() {
		var tid int64
		var flow string
		if err := rows.Scan(&tid, &flow); err != nil {
			return nil, fmt.Errorf("note versions: %w", err)
		}
		f, err := decodeFlow(flow)
		if err != nil {
			return nil, fmt.Errorf("note versions: %w", err)
		}
		out[tid] = f
	}
	return out, rows.Err()
}

// SetWaitingRoomNoteTemplate names the template the notes of a room's
// appointments start from (templateID 0: none).
func (s *Store) SetWaitingRoomNoteTemplate(ctx context.Context, orgID, roomID, templateID int64) error {
	return s.write(ctx, func(tx *txn) error {
		var roomName string
		if err := tx.QueryRow(`SELECT name FROM waiting_rooms WHERE org_id = ? AND id = ?`, orgID, roomID).Scan(&roomName); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("room note template: %w", err)
		}
		detail := "no note template"
		if templateID != 0 {
			var name string
			if err := tx.QueryRow(`SELECT name FROM visit_note_templates WHERE org_id = ? AND id = ? AND active = 1`, orgID, templateID).Scan(&name); errors.Is(err, sql.ErrNoRows) {
				return Invalid("noteTemplate", "is not an active template of this clinic")
			} else if err != nil {
				return fmt.Errorf("room note template: %w", err)
			}
			detail = "note template " + name
		}
		if _, err := tx.Exec(`UPDATE waiting_rooms SET note_template_id = NULLIF(?, 0) WHERE org_id = ? AND id = ?`, templateID, orgID, roomID); err != nil {
			return fmt.Errorf("room note template: %w", err)
		}
		return tx.Audit(orgID, "update", "waiting-room", fmt.Sprint(roomID), 0, roomName+": "+detail)
	})
}

// WaitingRoomNoteTemplate returns the id of the template a room's notes
// start from (0: none).
func (s *Store) WaitingRoomNoteTemplate(ctx context.Context, orgID, roomID int64) (int64, error) {
	return roomTemplateID(ctx, s.r, orgID, roomID)
}

func roomTemplateID(ctx context.Context, q rowsQueryer, orgID, roomID int64) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(w.note_template_id, 0) FROM waiting_rooms w
		LEFT JOIN visit_note_templates t ON t.id = w.note_template_id AND t.active = 1
		WHERE w.org_id = ? AND w.id = ? AND (w.note_template_id IS NULL OR t.id IS NOT NULL)`, orgID, roomID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // no room, or its template was deactivated
	}
	if err != nil {
		return 0, fmt.Errorf("room note template: %w", err)
	}
	return id, nil
}

// txRows reads within a write through rowsQueryer.
type txRows struct{ tx *txn }

func (q txRows) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.tx.Query(query, args...)
}

func (q txRows) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return q.tx.QueryRow(query, args...)
}
