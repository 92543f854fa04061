package notes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func summaryURL(p EditorProps) string {
	return fmt.Sprintf("/appointments/%d/summary.pdf?lang=%s", p.Summary.Appointment.ID, p.Lang)
}

// values is what a question's inputs show: the typed value after a refused
// save, else the stored answer.
func values(p EditorProps, q store.VisitNoteQuestion) []string {
	if v, ok := p.Values[q.ID]; ok {
		return v
	}
	if p.Note == nil {
		return nil
	}
	return p.Note.Answers[q.ID].Value
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func has(v []string, s string) bool { return slices.Contains(v, s) }

// rangeText is a number question's accepted range, as the hint under it.
func rangeText(q store.VisitNoteQuestion) string {
	u := ""
	if q.Unit != "" {
		u = " " + q.Unit
	}
	switch {
	case q.Min != nil && q.Max != nil:
		return store.FormatNumber(*q.Min) + "–" + store.FormatNumber(*q.Max) + u
	case q.Min != nil:
		return "≥ " + store.FormatNumber(*q.Min) + u
	case q.Max != nil:
		return "≤ " + store.FormatNumber(*q.Max) + u
	}
	return ""
}

// localDateTime shows an RFC 3339 answer (the telehealth API's) in the
// datetime-local input's form, in the room's time zone.
func localDateTime(v string, loc *time.Location) string {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.In(loc).Format("2006-01-02T15:04")
	}
	return v
}

// answerText is an answer as printed: yes/no in the reader's language,
// several choices joined.
func answerText(p EditorProps, q store.VisitNoteQuestion) string {
	return AnswerText(p.T, q, values(p, q))
}

// AnswerText prints an answer for a reader of t's language.
func AnswerText(t *Strings, q store.VisitNoteQuestion, v []string) string {
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

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func obsWhen(o store.Observation, loc *time.Location) string {
	switch {
	case !o.MeasuredAt.IsZero():
		return o.MeasuredAt.In(loc).Format("15:04")
	case o.MeasuredAtText != "":
		return o.MeasuredAtText
	}
	return o.CreatedAt.In(loc).Format("15:04")
}

func fileSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+512)>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// action is the address of a note form (suffix "", "/sign", ...), keeping
// the embedded view embedded.
func action(p EditorProps, suffix string) string {
	u := noteURL(p.Summary.Appointment.ID) + suffix
	if p.Embed {
		u += "?embed=1"
	}
	return u
}
