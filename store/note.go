package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Visit note statuses. A signed note is locked: its answers never change
// again; corrections are addenda.
const (
	NoteDraft  = "draft"
	NoteSigned = "signed"
)

// Events of a note's life besides EventVisitNoteUpdated.
const (
	EventVisitNoteSigned   = "visit-note:signed"
	EventVisitNoteAddendum = "visit-note:addendum"
)

// Note is one template's note for an appointment, read with the template
// version it was started with. Its answers and comments are the rows the
// telehealth API's visit-note endpoints read and write.
type Note struct {
	ID            int64 // 0: not started yet (nothing written)
	UUID          string
	OrgID         int64
	AppointmentID int64
	TemplateID    int64
	TemplateUUID  string
	TemplateName  string
	Version       int
	Flow          VisitNoteFlow
	Status        string
	Revision      int // counts changes; signing checks it
	SignedAt      time.Time
	SignedBy      int64
	Signer        string
	SummaryID     int64 // the attachment holding the summary printed at sign-off
	Answers       map[string]NoteAnswer
	Comments      []VisitNoteComment
	Addenda       []NoteAddendum
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// NoteAnswer is a question's answer: values as entered, one for most types,
// any number for a multiple choice.
type NoteAnswer struct {
	Value      []string
	AnsweredAt time.Time
}

// NoteAddendum is a correction or addition to a signed note.
type NoteAddendum struct {
	UUID      string
	UserID    int64
	Author    string
	Reason    string
	Body      string
	CreatedAt time.Time
}

// Signed reports whether the note is locked.
func (n *Note) Signed() bool { return n.Status == NoteSigned }

// Value returns a question's answer ("" for none; values joined by ", ").
func (n *Note) Value(questionID string) string {
	return strings.Join(n.Answers[questionID].Value, ", ")
}

// Question returns a question of the note's version, or nil.
func (n *Note) Question(id string) *VisitNoteQuestion {
	_, q := n.Flow.question(id)
	return q
}

// Missing lists the required questions without an answer.
func (n *Note) Missing() []VisitNoteQuestion {
	var out []VisitNoteQuestion
	for _, s := range n.Flow.Sections {
		for _, q := range s.Questions {
			if q.Required && !hasValue(n.Answers[q.ID].Value) {
				out = append(out, q)
			}
		}
	}
	return out
}

func hasValue(v []string) bool {
	return slices.ContainsFunc(v, func(s string) bool { return strings.TrimSpace(s) != "" })
}

// ParseNumber reads a number as clinicians type it: a decimal point or a
// decimal comma, an optional sign.
func ParseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Count(s, ",")+strings.Count(s, ".") > 1 || strings.ContainsAny(s, "eE_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// FormatNumber prints a range bound briefly (no trailing zeros).
func FormatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// CheckValue checks an answer against its question and returns a message
// for the clinician, or "" when it is acceptable. An empty answer is always
// acceptable here: required questions are enforced at sign-off.
func (q *VisitNoteQuestion) CheckValue(value []string) string {
	vals := make([]string, 0, len(value))
	for _, v := range value {
		if strings.TrimSpace(v) != "" {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return ""
	}
	for _, v := range vals {
		if utf8.RuneCountInString(v) > MaxLongText {
			return fmt.Sprintf("must be at most %d characters", MaxLongText)
		}
	}
	if q.Type != QuestionMulti && len(vals) > 1 {
		return "takes one answer"
	}
	v := strings.TrimSpace(vals[0])
	switch q.Type {
	case QuestionChoice, QuestionMulti:
		for _, v := range vals {
			if !slices.Contains(q.Options, v) {
				return fmt.Sprintf("%q is not one of the options: %s", v, strings.Join(q.Options, ", "))
			}
		}
		if len(vals) != len(uniq(vals)) {
			return "lists an option twice"
		}
	case QuestionNumber:
		f, ok := ParseNumber(v)
		if !ok {
			return fmt.Sprintf("%q is not a number", v)
		}
		switch {
		case q.Min != nil && q.Max != nil && (f < *q.Min || f > *q.Max):
			return fmt.Sprintf("must be between %s and %s%s", FormatNumber(*q.Min), FormatNumber(*q.Max), unitSuffix(q.Unit))
		case q.Min != nil && f < *q.Min:
			return fmt.Sprintf("must be at least %s%s", FormatNumber(*q.Min), unitSuffix(q.Unit))
		case q.Max != nil && f > *q.Max:
			return fmt.Sprintf("must be at most %s%s", FormatNumber(*q.Max), unitSuffix(q.Unit))
		}
	case QuestionDate:
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return fmt.Sprintf("%q is not a date (YYYY-MM-DD)", v)
		}
	case QuestionDateTime:
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			if _, err := time.Parse("2006-01-02T15:04", v); err != nil {
				return fmt.Sprintf("%q is not a date and time", v)
			}
		}
	case QuestionYesNo:
		if v != AnswerYes && v != AnswerNo {
			return fmt.Sprintf("must be %q or %q", AnswerYes, AnswerNo)
		}
	}
	return ""
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

func uniq(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckAnswer checks one answer against the note's version; the error's
// field is the question id.
func (n *Note) CheckAnswer(a VisitNoteAnswer) error {
	q := n.Question(a.QuestionID)
	if q == nil {
		return Invalid(a.QuestionID, "is not a question of this note")
	}
	if msg := q.CheckValue(a.Value); msg != "" {
		return Invalid(a.QuestionID, msg)
	}
	return nil
}

// AppointmentNote returns the note an appointment's page shows: the note
// already started (the room's template first), else a new, unsaved note
// (ID 0) from the current version of the room's template. It returns
// ErrNotFound when there is neither.
func (s *Store) AppointmentNote(ctx context.Context, orgID, appointmentID int64) (*Note, error) {
	if err := s.ensureVisitNoteTemplates(ctx, orgID); err != nil {
		return nil, err
	}
	a, err := s.Appointment(ctx, orgID, appointmentID)
	if err != nil {
		return nil, err
	}
	roomTemplate, err := roomTemplateID(ctx, s.r, orgID, a.WaitingRoomID)
	if err != nil {
		return nil, err
	}
	var tid int64
	err = s.r.QueryRowContext(ctx, `SELECT template_id FROM visit_notes WHERE org_id = ? AND appointment_id = ?
		ORDER BY template_id = ? DESC, id LIMIT 1`, orgID, a.ID, roomTemplate).Scan(&tid)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if roomTemplate == 0 {
			return nil, fmt.Errorf("visit note of appointment %d: %w", a.ID, ErrNotFound)
		}
		tid = roomTemplate
	case err != nil:
		return nil, fmt.Errorf("visit note: %w", err)
	}
	return loadNote(ctx, s.r, orgID, a.ID, tid)
}

// VisitNote returns an appointment's note of one template (unsaved, ID 0,
// at the template's current version when not started).
func (s *Store) VisitNote(ctx context.Context, orgID, appointmentID, templateID int64) (*Note, error) {
	if _, err := s.Appointment(ctx, orgID, appointmentID); err != nil {
		return nil, err
	}
	return loadNote(ctx, s.r, orgID, appointmentID, templateID)
}

// StartVisitNote begins an appointment's note of an active template at the
// template's current version (for a visit whose room names no template).
// Starting a note that exists changes nothing.
func (s *Store) StartVisitNote(ctx context.Context, orgID, appointmentID, templateID int64) error {
	return s.write(ctx, func(tx *txn) error {
		a, err := appointmentBy(txQueryer{tx}, ctx, orgID, ApptByID, fmt.Sprint(appointmentID))
		if err != nil {
			return err
		}
		var active bool
		if err := tx.QueryRow(`SELECT active FROM visit_note_templates WHERE org_id = ? AND id = ?`, orgID, templateID).Scan(&active); err != nil || !active {
			return Invalid("template", "is not an active template of this clinic")
		}
		n, err := loadNote(ctx, txRows{tx}, orgID, a.ID, templateID)
		if err != nil || n.ID != 0 {
			return err
		}
		if n, err = startNote(ctx, tx, orgID, a.ID, templateID); err != nil {
			return err
		}
		if err := tx.Event(orgID, EventVisitNoteUpdated, "appointment", a.ID, map[string]any{"appointmentId": a.ID, "template": n.TemplateName}); err != nil {
			return err
		}
		return tx.Audit(orgID, "create", "visit-note", fmt.Sprint(a.ID), a.PatientID, fmt.Sprintf("%s (version %d)", n.TemplateName, n.Version))
	})
}

// loadNote reads a note with its answers, comments and addenda. The caller
// has checked that the appointment belongs to the organisation.
func loadNote(ctx context.Context, q rowsQueryer, orgID, appointmentID, templateID int64) (*Note, error) {
	n := &Note{OrgID: orgID, AppointmentID: appointmentID, TemplateID: templateID, Status: NoteDraft, Answers: map[string]NoteAnswer{}}
	var flow string
	var signedAt, created, updated int64
	err := q.QueryRowContext(ctx, `SELECT n.id, n.uuid, t.uuid, t.name, n.template_version, v.flow_json, n.status, n.revision,
			n.signed_at, COALESCE(n.signed_by, 0), n.signer, COALESCE(n.summary_attachment_id, 0), n.created_at, n.updated_at
		FROM visit_notes n JOIN visit_note_templates t ON t.id = n.template_id
		JOIN visit_note_template_versions v ON v.template_id = n.template_id AND v.version = n.template_version
		WHERE n.org_id = ? AND n.appointment_id = ? AND n.template_id = ?`, orgID, appointmentID, templateID).Scan(
		&n.ID, &n.UUID, &n.TemplateUUID, &n.TemplateName, &n.Version, &flow, &n.Status, &n.Revision,
		&signedAt, &n.SignedBy, &n.Signer, &n.SummaryID, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		// Not started: the template's current version.
		err = q.QueryRowContext(ctx, `SELECT uuid, name, version, flow_json FROM visit_note_templates
			WHERE org_id = ? AND id = ?`, orgID, templateID).Scan(&n.TemplateUUID, &n.TemplateName, &n.Version, &flow)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("visit note template %d: %w", templateID, ErrNotFound)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("visit note: %w", err)
	}
	if n.Flow, err = decodeFlow(flow); err != nil {
		return nil, fmt.Errorf("visit note flow: %w", err)
	}
	n.SignedAt, n.CreatedAt, n.UpdatedAt = fromUnix(signedAt), fromUnix(created), fromUnix(updated)
	if signedAt == 0 {
		n.SignedAt = time.Time{}
	}

	rows, err := q.QueryContext(ctx, `SELECT question_id, value_json, answered_at FROM visit_note_responses
		WHERE org_id = ? AND appointment_id = ? AND template_id = ?`, orgID, appointmentID, templateID)
	if err != nil {
		return nil, fmt.Errorf("visit note answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var qid, val string
		var at int64
		if err := rows.Scan(&qid, &val, &at); err != nil {
			return nil, fmt.Errorf("visit note answers: %w", err)
		}
		var a NoteAnswer
		if err := json.Unmarshal([]byte(val), &a.Value); err != nil {
			return nil, fmt.Errorf("visit note answer %s: %w", qid, err)
		}
		a.AnsweredAt = fromUnix(at)
		n.Answers[qid] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("visit note answers: %w", err)
	}

	crows, err := q.QueryContext(ctx, `SELECT uuid, message, posted_at, COALESCE(user_id, 0), author FROM visit_note_comments
		WHERE org_id = ? AND appointment_id = ? AND template_id = ? ORDER BY id`, orgID, appointmentID, templateID)
	if err != nil {
		return nil, fmt.Errorf("visit note comments: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		c := VisitNoteComment{TemplateUUID: n.TemplateUUID}
		var at int64
		if err := crows.Scan(&c.UUID, &c.Message, &at, &c.UserID, &c.Author); err != nil {
			return nil, fmt.Errorf("visit note comments: %w", err)
		}
		c.PostedAt = fromUnix(at)
		n.Comments = append(n.Comments, c)
	}
	if err := crows.Err(); err != nil {
		return nil, fmt.Errorf("visit note comments: %w", err)
	}
	if n.ID == 0 {
		return n, nil
	}
	arows, err := q.QueryContext(ctx, `SELECT uuid, COALESCE(user_id, 0), author, reason, body, created_at FROM visit_note_addenda
		WHERE org_id = ? AND note_id = ? ORDER BY id`, orgID, n.ID)
	if err != nil {
		return nil, fmt.Errorf("visit note addenda: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var d NoteAddendum
		var at int64
		if err := arows.Scan(&d.UUID, &d.UserID, &d.Author, &d.Reason, &d.Body, &at); err != nil {
			return nil, fmt.Errorf("visit note addenda: %w", err)
		}
		d.CreatedAt = fromUnix(at)
		n.Addenda = append(n.Addenda, d)
	}
	return n, arows.Err()
}

// startNote returns the note row of an appointment and template, creating
// it at the template's current version when there is none.
func startNote(ctx context.Context, tx *txn, orgID, appointmentID, templateID int64) (*Note, error) {
	n, err := loadNote(ctx, txRows{tx}, orgID, appointmentID, templateID)
	if err != nil || n.ID != 0 {
		return n, err
	}
	n.UUID, n.CreatedAt, n.UpdatedAt = NewUUID(), tx.Now, tx.Now
	res, err := tx.Exec(`INSERT INTO visit_notes (uuid, org_id, appointment_id, template_id, template_version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, n.UUID, orgID, appointmentID, templateID, n.Version, unix(tx.Now), unix(tx.Now))
	if err != nil {
		return nil, fmt.Errorf("start visit note: %w", err)
	}
	n.ID, _ = res.LastInsertId()
	return n, nil
}

// touchNote counts a change of a note.
func touchNote(tx *txn, n *Note) error {
	n.Revision++
	n.UpdatedAt = tx.Now
	if _, err := tx.Exec(`UPDATE visit_notes SET revision = ?, updated_at = ? WHERE id = ?`, n.Revision, unix(tx.Now), n.ID); err != nil {
		return fmt.Errorf("visit note: %w", err)
	}
	return nil
}

// errNoteSigned is what any edit of a signed note gets.
var errNoteSigned = Conflict("the visit note is signed and can no longer be edited; add an addendum to correct it")

// writeNoteAnswers sets answers of an appointment's note of one template,
// checked against the note's version; field names the i-th answer in a
// validation error. It writes only answers that change and returns their
// question ids. Both the pages and the telehealth API write through it.
func writeNoteAnswers(ctx context.Context, tx *txn, orgID int64, a *Appointment, templateID int64, answers []VisitNoteAnswer, field func(i int) string) ([]string, error) {
	n, err := startNote(ctx, tx, orgID, a.ID, templateID)
	if err != nil {
		return nil, err
	}
	if n.Signed() {
		return nil, errNoteSigned
	}
	var v Validator
	for i, ans := range answers {
		q := n.Question(ans.QuestionID)
		if q == nil {
			v.Add(field(i)+".id", fmt.Sprintf("is not a question of template %q", n.TemplateName))
			continue
		}
		if len(ans.Value) > 100 {
			v.Add(field(i)+".value", "must have at most 100 entries")
		} else if msg := q.CheckValue(ans.Value); msg != "" {
			v.Add(field(i)+".value", q.Text+": "+msg)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var changed, detail []string
	for _, ans := range answers {
		val := nonNil(ans.Value)
		if old, ok := n.Answers[ans.QuestionID]; ok && slices.Equal(old.Value, val) {
			continue
		} else if !ok && len(val) == 0 {
			continue
		}
		js, _ := json.Marshal(val)
		if _, err := tx.Exec(`INSERT INTO visit_note_responses (org_id, appointment_id, template_id, question_id, value_json, answered_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (appointment_id, template_id, question_id)
			DO UPDATE SET value_json = excluded.value_json, answered_at = excluded.answered_at`,
			orgID, a.ID, templateID, ans.QuestionID, string(js), unix(tx.Now)); err != nil {
			return nil, fmt.Errorf("set visit note: %w", err)
		}
		n.Answers[ans.QuestionID] = NoteAnswer{Value: val, AnsweredAt: tx.Now}
		changed = append(changed, ans.QuestionID)
		detail = append(detail, ans.QuestionID+"="+clip(strings.Join(val, "|"), 200))
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := touchNote(tx, n); err != nil {
		return nil, err
	}
	if err := tx.Event(orgID, EventVisitNoteUpdated, "appointment", a.ID, map[string]any{"appointmentId": a.ID, "template": n.TemplateName}); err != nil {
		return nil, err
	}
	return changed, tx.Audit(orgID, "update", "visit-note", fmt.Sprint(a.ID), a.PatientID, clip(n.TemplateName+": "+strings.Join(detail, "; "), 4000))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// SaveVisitNoteAnswers sets answers of an appointment's note of one
// template, all or none: a validation error names the question ids. It
// returns the ids of the answers that changed.
func (s *Store) SaveVisitNoteAnswers(ctx context.Context, orgID, appointmentID, templateID int64, answers []VisitNoteAnswer) ([]string, error) {
	if err := s.ensureVisitNoteTemplates(ctx, orgID); err != nil {
		return nil, err
	}
	var changed []string
	err := s.write(ctx, func(tx *txn) error {
		a, err := appointmentBy(txQueryer{tx}, ctx, orgID, ApptByID, fmt.Sprint(appointmentID))
		if err != nil {
			return err
		}
		changed, err = writeNoteAnswers(ctx, tx, orgID, a, templateID, answers, func(i int) string { return answers[i].QuestionID })
		return err
	})
	if ve := (*ValidationError)(nil); errors.As(err, &ve) {
		// The page shows messages by question id.
		fields := map[string]string{}
		for k, m := range ve.Fields {
			fields[strings.TrimSuffix(strings.TrimSuffix(k, ".value"), ".id")] = m
		}
		return nil, &ValidationError{Fields: fields}
	}
	return changed, err
}

// AddNoteComment adds a comment to an appointment's note of one template.
// Comments are not edits: a signed note takes them too.
func (s *Store) AddNoteComment(ctx context.Context, orgID, appointmentID, templateID, userID int64, message string) (*VisitNoteComment, error) {
	var uuid string
	if err := s.r.QueryRowContext(ctx, `SELECT uuid FROM visit_note_templates WHERE org_id = ? AND id = ?`, orgID, templateID).Scan(&uuid); errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("comment: %w", err)
	}
	return s.AddVisitNoteComment(ctx, orgID, appointmentID, uuid, userID, message)
}

// touchNoteOf counts a change (a comment) of a note that exists.
func touchNoteOf(tx *txn, orgID, appointmentID, templateID int64) error {
	_, err := tx.Exec(`UPDATE visit_notes SET revision = revision + 1, updated_at = ? WHERE org_id = ? AND appointment_id = ? AND template_id = ?`,
		unix(tx.Now), orgID, appointmentID, templateID)
	if err != nil {
		return fmt.Errorf("visit note: %w", err)
	}
	return nil
}

// SignOff is a clinician signing a note. Revision is the note's revision as
// read to print Summary (the PDF kept with the appointment); At is when the
// summary says it was signed.
type SignOff struct {
	UserID      int64
	Revision    int
	At          time.Time
	Summary     []byte
	SummaryName string
}

// SignVisitNote locks a note: every required question must be answered
// and the note unchanged since revision. The summary printed for it is
// attached to the appointment (the telehealth API lists it) in the same
// transaction.
func (s *Store) SignVisitNote(ctx context.Context, orgID, appointmentID, templateID int64, so SignOff) (*Note, error) {
	var out *Note
	err := s.write(ctx, func(tx *txn) error {
		a, err := appointmentBy(txQueryer{tx}, ctx, orgID, ApptByID, fmt.Sprint(appointmentID))
		if err != nil {
			return err
		}
		n, err := loadNote(ctx, txRows{tx}, orgID, a.ID, templateID)
		if err != nil {
			return err
		}
		if n.ID == 0 {
			return Invalid("note", "is empty: answer its questions before signing")
		}
		if n.Signed() {
			return Conflict("the visit note is already signed")
		}
		if n.Revision != so.Revision {
			return Conflict("the visit note changed while it was being signed; review it and sign again")
		}
		var v Validator
		for _, q := range n.Missing() {
			v.Add(q.ID, q.Text+": must be answered before the note is signed")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if d := so.At.Sub(tx.Now); d > time.Minute || d < -5*time.Minute {
			return Invalid("signedAt", "must be now")
		}
		var signer string
		if err := tx.QueryRow(`SELECT CASE WHEN name <> '' THEN name ELSE email END FROM users WHERE org_id = ? AND id = ?`,
			orgID, so.UserID).Scan(&signer); err != nil {
			return Invalid("user", "does not exist")
		}
		var summaryID int64
		if len(so.Summary) > 0 {
			att := &Attachment{AppointmentID: a.ID, Title: so.SummaryName, MimeType: "application/pdf", Data: so.Summary}
			if err := att.Validate(); err != nil {
				return err
			}
			att.UUID = NewUUID()
			res, err := tx.Exec(`INSERT INTO attachments (uuid, org_id, appointment_id, title, mime_type, size, data, uploaded_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, att.UUID, orgID, a.ID, att.Title, att.MimeType, len(att.Data), att.Data, unix(tx.Now))
			if err != nil {
				return fmt.Errorf("attach visit summary: %w", err)
			}
			summaryID, _ = res.LastInsertId()
			if err := tx.Event(orgID, "attachment:created", "appointment", a.ID, map[string]any{"appointmentId": a.ID, "attachmentId": att.UUID}); err != nil {
				return err
			}
			if err := tx.Audit(orgID, "create", "attachment", att.UUID, a.PatientID, att.Title); err != nil {
				return err
			}
		}
		n.Status, n.SignedAt, n.SignedBy, n.Signer, n.SummaryID = NoteSigned, so.At.UTC().Truncate(time.Second), so.UserID, signer, summaryID
		n.Revision++
		if _, err := tx.Exec(`UPDATE visit_notes SET status = ?, signed_at = ?, signed_by = ?, signer = ?, summary_attachment_id = NULLIF(?, 0),
			revision = ?, updated_at = ? WHERE id = ?`, NoteSigned, unix(n.SignedAt), so.UserID, signer, summaryID, n.Revision, unix(tx.Now), n.ID); err != nil {
			return fmt.Errorf("sign visit note: %w", err)
		}
		if err := tx.Event(orgID, EventVisitNoteSigned, "appointment", a.ID, map[string]any{"appointmentId": a.ID, "template": n.TemplateName}); err != nil {
			return err
		}
		out = n
		return tx.Audit(orgID, "sign", "visit-note", fmt.Sprint(a.ID), a.PatientID, n.TemplateName)
	})
	return out, err
}

// AddVisitNoteAddendum adds a correction to a signed note, with the
// reason for it. A draft is edited directly instead.
func (s *Store) AddVisitNoteAddendum(ctx context.Context, orgID, appointmentID, templateID, userID int64, reason, body string) (*NoteAddendum, error) {
	reason, body = strings.TrimSpace(reason), strings.TrimSpace(body)
	var v Validator
	v.Check(reason != "", "reason", "is required")
	v.Check(len(reason) <= 500, "reason", "must be at most 500 characters")
	v.Check(body != "", "body", "is required")
	v.Check(len(body) <= 20000, "body", "must be at most 20000 characters")
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *NoteAddendum
	err := s.write(ctx, func(tx *txn) error {
		a, err := appointmentBy(txQueryer{tx}, ctx, orgID, ApptByID, fmt.Sprint(appointmentID))
		if err != nil {
			return err
		}
		n, err := loadNote(ctx, txRows{tx}, orgID, a.ID, templateID)
		if err != nil {
			return err
		}
		if !n.Signed() {
			return Conflict("the visit note is not signed yet: edit it directly")
		}
		var author string
		if err := tx.QueryRow(`SELECT CASE WHEN name <> '' THEN name ELSE email END FROM users WHERE org_id = ? AND id = ?`,
			orgID, userID).Scan(&author); err != nil {
			return Invalid("user", "does not exist")
		}
		d := &NoteAddendum{UUID: NewUUID(), UserID: userID, Author: author, Reason: reason, Body: body, CreatedAt: tx.Now}
		if _, err := tx.Exec(`INSERT INTO visit_note_addenda (uuid, org_id, note_id, user_id, author, reason, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, d.UUID, orgID, n.ID, userID, author, reason, body, unix(tx.Now)); err != nil {
			return fmt.Errorf("add addendum: %w", err)
		}
		if err := touchNote(tx, n); err != nil {
			return err
		}
		if err := tx.Event(orgID, EventVisitNoteAddendum, "appointment", a.ID, map[string]any{"appointmentId": a.ID, "addendumId": d.UUID}); err != nil {
			return err
		}
		out = d
		return tx.Audit(orgID, "addendum", "visit-note", fmt.Sprint(a.ID), a.PatientID, clip(n.TemplateName+": "+reason, 600))
	})
	return out, err
}
