package telehealth

import (
	"fmt"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type visitNoteJSON struct {
	ID        string                  `json:"id"`
	Template  visitNoteTemplateJSON   `json:"template"`
	Comments  []visitNoteCommentJSON  `json:"comments"`
	Responses []visitNoteResponseJSON `json:"responses"`
}

type visitNoteTemplateJSON struct {
	Name string   `json:"name"`
	Flow flowJSON `json:"flow"`
}

// flowJSON is a template's sections and questions on the wire. The spec
// shows only "sections"; a question carries its id (for PUT), text and type,
// and the rules its answers are checked against.
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

func flowToJSON(f store.VisitNoteFlow) flowJSON {
	out := flowJSON{Sections: make([]sectionJSON, len(f.Sections))}
	for i, s := range f.Sections {
		sec := sectionJSON{Title: s.Title, Questions: make([]questionJSON, len(s.Questions))}
		for j, q := range s.Questions {
			sec.Questions[j] = questionJSON{ID: q.ID, Text: q.Text, Type: q.Type, Options: q.Options, Required: q.Required,
				Help: q.Help, Unit: q.Unit, Min: q.Min, Max: q.Max}
		}
		out.Sections[i] = sec
	}
	return out
}

type visitNoteCommentJSON struct {
	ID         string     `json:"id"`
	TemplateID string     `json:"templateId"`
	Message    string     `json:"message"`
	PostedAt   int64      `json:"postedAt"`
	Author     authorJSON `json:"author"`
}

type authorJSON struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// dateTimeJSON is the spec's date shape (a serialised PHP DateTime).
type dateTimeJSON struct {
	Date         string `json:"date"`
	TimezoneType int    `json:"timezone_type"`
	Timezone     string `json:"timezone"`
}

type visitNoteResponseJSON struct {
	DateTime dateTimeJSON `json:"dateTime"`
	Question []string     `json:"question"` // [section title, question text]
	Response []string     `json:"response"`
}

// visitNotesJSON renders an appointment's notes, with answer times in the
// waiting room's time zone.
func (h *Handler) visitNotesJSON(r *http.Request, a *store.Appointment) ([]visitNoteJSON, error) {
	notes, err := h.store.VisitNotes(r.Context(), orgID(r), a.ID)
	if err != nil {
		return nil, err
	}
	room, err := h.store.WaitingRoom(r.Context(), orgID(r), a.WaitingRoomID)
	if err != nil {
		return nil, err
	}
	loc := room.Location()
	out := make([]visitNoteJSON, len(notes))
	for i, n := range notes {
		vn := visitNoteJSON{ID: n.Template.UUID, Template: visitNoteTemplateJSON{Name: n.Template.Name, Flow: flowToJSON(n.Template.Flow)},
			Comments: []visitNoteCommentJSON{}, Responses: []visitNoteResponseJSON{}}
		for _, c := range n.Comments {
			vn.Comments = append(vn.Comments, visitNoteCommentJSON{ID: c.UUID, TemplateID: c.TemplateUUID, Message: c.Message,
				PostedAt: c.PostedAt.Unix(), Author: authorJSON{ID: c.UserID, Username: c.Author}})
		}
		for _, resp := range n.Responses {
			vn.Responses = append(vn.Responses, visitNoteResponseJSON{
				DateTime: dateTimeJSON{Date: resp.AnsweredAt.In(loc).Format("2006-01-02 15:04:05.000000"), TimezoneType: 3, Timezone: loc.String()},
				Question: []string{resp.Section, resp.Question},
				Response: nonNil(resp.Value),
			})
		}
		out[i] = vn
	}
	return out, nil
}

// getVisitNote: GET /qapi/v1/appointments/{appointment_id}/visit-note.
// Every active template of the organisation is listed (so a client can
// learn the question ids), with this appointment's comments and answers.
func (h *Handler) getVisitNote(w http.ResponseWriter, r *http.Request) {
	a, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out, err := h.visitNotesJSON(r, a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), orgID(r), "visit-note", fmt.Sprint(a.ID), a.PatientID)
	httpx.JSON(w, http.StatusOK, out)
}

type visitNoteInput struct {
	Name      string `json:"name"`
	Questions []struct {
		ID    string   `json:"id"`
		Value []string `json:"value" bound:"longText"`
	} `json:"questions"`
}

// putVisitNote: PUT /qapi/v1/appointments/{appointment_id}/visit-note sets
// the answers to the named template's questions and answers with that
// template's note (the GET element shape).
func (h *Handler) putVisitNote(w http.ResponseWriter, r *http.Request) {
	var in visitNoteInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.Questions == nil {
		h.fail(w, r, store.Invalid("questions", "is required"))
		return
	}
	a, err := h.appointmentFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	answers := make([]store.VisitNoteAnswer, len(in.Questions))
	for i, q := range in.Questions {
		answers[i] = store.VisitNoteAnswer{QuestionID: q.ID, Value: q.Value}
	}
	if err := h.store.SetVisitNoteAnswers(r.Context(), orgID(r), a.ID, in.Name, answers); err != nil {
		h.fail(w, r, err)
		return
	}
	notes, err := h.visitNotesJSON(r, a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, n := range notes {
		if n.Template.Name == in.Name {
			httpx.JSON(w, http.StatusOK, n)
			return
		}
	}
	httpx.JSON(w, http.StatusOK, []any{})
}
