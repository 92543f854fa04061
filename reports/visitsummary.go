package reports

import (
	"fmt"
	"strings"

	"github.com/clinicbox/clinicbox/store"
)

// VisitSummary prints an appointment's summary: clinic, patient,
// appointment and clinician, the note's answers by section, comments and
// addenda, the day's observations exactly as recorded, the attachments,
// and the sign-off line. lang is "da" or "en".
func (PDF) VisitSummary(s *store.VisitSummary, lang string) ([]byte, error) {
	t := textFor(lang)
	loc := s.Room.Location()
	printed := t.dateTime(s.PrintedAt, loc)
	d := newDoc(t, s.Org.Name, t.VisitSummary, printed)
	d.AddPage()
	writeVisitSummary(d, s)
	return d.output()
}

func writeVisitSummary(d *doc, s *store.VisitSummary) {
	t := d.t
	loc := s.Room.Location()
	p := &s.Patient

	d.SetFont(fontFamily, "B", 16)
	d.MultiCell(contentW, 8, p.DisplayName(), "", "L", false)
	d.Ln(1)
	d.fields(38, [][2]string{
		{t.BirthDate, p.BirthDate},
		{t.NationalID, p.NationalID},
		{t.MRN, p.MRN},
	})

	a := &s.Appointment
	d.heading(t.Appointment, 20)
	d.fields(38, [][2]string{
		{t.When, t.dateTime(a.Start, loc) + " (" + loc.String() + ")"},
		{t.Room, s.Room.Name},
		{t.Reasons, strings.Join(a.Reasons, ", ")},
		{t.Status, a.Status},
		{t.Clinician, s.Clinician},
	})

	n := s.Note
	if n == nil {
		d.heading(t.Note, 10)
		d.SetFont(fontFamily, "", 10)
		d.MultiCell(contentW, 5, t.NoNote, "", "L", false)
	} else {
		d.heading(fmt.Sprintf("%s: %s (%s %d)", t.Note, n.TemplateName, t.Version, n.Version), 20)
		for _, sec := range n.Flow.Sections {
			d.ensure(16)
			d.SetFont(fontFamily, "B", 10.5)
			d.SetFillColor(238, 242, 246)
			d.CellFormat(contentW, 6.5, sec.Title, "", 1, "L", true, 0, "")
			d.Ln(0.5)
			for _, q := range sec.Questions {
				ans := answerText(t, q, n.Answers[q.ID].Value)
				if ans == "" {
					ans = t.NotAnswered
				}
				d.ensure(10)
				d.SetFont(fontFamily, "B", 9)
				d.SetTextColor(77, 85, 96)
				d.MultiCell(contentW, 4.6, q.Text, "", "L", false)
				d.SetTextColor(0, 0, 0)
				d.SetFont(fontFamily, "", 10)
				d.MultiCell(contentW, 5, ans, "", "L", false)
				d.Ln(1.2)
			}
		}
		if len(n.Comments) > 0 {
			d.heading(t.Comments, 12)
			for _, c := range n.Comments {
				d.entry(c.Author+" · "+t.dateTime(c.PostedAt, loc), c.Message)
			}
		}
		d.Ln(2)
		d.ensure(10)
		d.SetFont(fontFamily, "B", 10.5)
		if n.Signed() {
			d.MultiCell(contentW, 6, fmt.Sprintf(t.SignedBy, n.Signer, t.dateTime(n.SignedAt, loc)), "T", "L", false)
		} else {
			d.MultiCell(contentW, 6, t.NotSigned, "T", "L", false)
		}
		if len(n.Addenda) > 0 {
			d.heading(t.Addenda, 12)
			for _, ad := range n.Addenda {
				d.entry(ad.Author+" · "+t.dateTime(ad.CreatedAt, loc)+" · "+t.Reason+": "+ad.Reason, ad.Body)
			}
		}
	}

	d.heading(t.Observations, 16)
	if len(s.Observations) == 0 {
		d.SetFont(fontFamily, "", 10)
		d.MultiCell(contentW, 5, t.NoObservations, "", "L", false)
	} else {
		rows := make([][]string, len(s.Observations))
		for i, o := range s.Observations {
			rows[i] = []string{obsWhen(o, loc, t), obsName(o), o.Value, o.Unit, o.ReferenceRange, o.Flags, o.Status}
		}
		d.table([]float64{29, 55, 20, 20, 22, 13, 21},
			[]string{t.Measured, t.Code, t.Value, t.Unit, t.Range, t.Flags, t.ObsStatus}, rows, nil)
	}

	d.heading(t.Attachments, 10)
	d.SetFont(fontFamily, "", 9.5)
	if len(s.Attachments) == 0 {
		d.MultiCell(contentW, 5, t.None, "", "L", false)
	}
	for _, at := range s.Attachments {
		d.MultiCell(contentW, 5, fmt.Sprintf("• %s (%s, %s)", at.Title, at.MimeType, t.dateTime(at.UploadedAt, loc)), "", "L", false)
	}
}

// entry prints a comment or addendum: a grey line of who and when, the text under it.
func (d *doc) entry(meta, body string) {
	d.ensure(12)
	d.SetFont(fontFamily, "", 8.5)
	d.SetTextColor(77, 85, 96)
	d.MultiCell(contentW, 4.4, meta, "", "L", false)
	d.SetTextColor(0, 0, 0)
	d.SetFont(fontFamily, "", 10)
	d.MultiCell(contentW, 5, body, "", "L", false)
	d.Ln(1.5)
}

// answerText prints an answer: yes/no in the reader's language, several
// choices joined, a number with its unit; values otherwise as entered.
func answerText(t *pdfText, q store.VisitNoteQuestion, v []string) string {
	if q.Type == store.QuestionYesNo && len(v) == 1 {
		switch v[0] {
		case store.AnswerYes:
			return t.Yes
		case store.AnswerNo:
			return t.No
		}
	}
	s := strings.Join(v, ", ")
	if q.Type == store.QuestionNumber && s != "" && q.Unit != "" {
		s += " " + q.Unit
	}
	return s
}

func obsName(o store.Observation) string {
	code := strings.TrimSpace(o.CodeSystem + " " + o.Code)
	if o.Display != "" {
		return o.Display + " (" + code + ")"
	}
	return code
}
