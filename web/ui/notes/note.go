package notes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// maxForm bounds a note form: 200 questions of free text fit easily.
const maxForm = 2 << 20

func user(r *http.Request) *store.User { return auth.UserFrom(r.Context()) }

func pathID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

func canWrite(u *store.User) bool {
	return u != nil && (u.Role == store.RoleAdmin || u.Role == store.RoleClinician)
}

func (h *handlers) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	if err := layout.Render(w, r, status, c); err != nil {
		h.log.Error("render", "path", r.URL.Path, "err", err)
	}
}

// fail answers an error that is not a field error: not found is a 404 page,
// anything unknown a logged 500 that reveals nothing.
func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	status, msg := http.StatusInternalServerError, text.T(ctx).InternalError
	switch {
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, text.T(ctx).NotFound
	case errors.Is(err, store.ErrForbidden):
		status, msg = http.StatusForbidden, text.T(ctx).Forbidden
	default:
		h.log.Error("page", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.render(w, r, status, errorPage(layout.PageProps{Title: msg, User: user(r)}, msg))
}

// EditorProps is the note editor's view model.
type EditorProps struct {
	T         *Strings
	Summary   *store.VisitSummary
	Note      *store.Note // nil: no note and no room template (the chooser shows)
	Templates []store.VisitNoteTemplate
	Loc       *time.Location
	Values    map[string][]string // typed values shown instead of the stored ones (after a rejected save)
	Errors    map[string]string   // by question id
	CanWrite  bool
	Lang      string
	Compact   bool // inside another page that shows the observations and attachments itself
	Embed     bool // framed in the provider's call page: no navigation, forms keep ?embed=1
}

// editorProps reads everything the editor shows.
func (h *handlers) editorProps(ctx context.Context, r *http.Request, apptID int64) (*EditorProps, error) {
	u := user(r)
	sum, err := h.st.VisitSummary(ctx, u.OrgID, apptID)
	if err != nil {
		return nil, err
	}
	p := &EditorProps{T: texts(r), Summary: sum, Note: sum.Note, Loc: sum.Room.Location(), CanWrite: canWrite(u), Lang: Lang(r)}
	if p.Note == nil {
		if p.Templates, err = h.st.VisitNoteTemplates(ctx, u.OrgID); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Panel is the note editor as a component, for other pages (the
// appointment page, the provider's call page) to include. The page that
// includes it must list /assets/note.js in its PageProps.Scripts for
// saving as the clinician types; without it the editor's form still posts.
func Panel(ctx context.Context, st *store.Store, r *http.Request, apptID int64) (templ.Component, error) {
	h := &handlers{st: st}
	p, err := h.editorProps(ctx, r, apptID)
	if err != nil {
		return nil, err
	}
	return Editor(*p), nil
}

// Section is the note editor without the day's observations and the
// attachments beside it, with links to the note's own page and its summary
// PDF: for the appointment page, which shows those itself. The page must
// list NoteScript in its scripts.
func Section(ctx context.Context, st *store.Store, r *http.Request, apptID int64) (templ.Component, error) {
	h := &handlers{st: st}
	p, err := h.editorProps(ctx, r, apptID)
	if err != nil {
		return nil, err
	}
	p.Compact = true
	return Editor(*p), nil
}

// NoteScript is the script the editor needs for saving as one types.
const NoteScript = "/assets/note.js"

// notePage: GET /appointments/{id}/note.
func (h *handlers) notePage(w http.ResponseWriter, r *http.Request) {
	p, err := h.editorProps(r.Context(), r, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.st.AuditRead(r.Context(), user(r).OrgID, "visit-note", fmt.Sprint(p.Summary.Appointment.ID), p.Summary.Patient.ID)
	if embedded(r) {
		// Framed beside the call, by this site's pages only.
		p.Embed = true
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'self'")
		pp := layout.PageProps{Title: p.T.NoteTitle, Flash: layout.TakeFlash(w, r), Scripts: []string{NoteScript}, BodyID: "note-embed"}
		h.render(w, r, http.StatusOK, EmbedPage(pp, *p))
		return
	}
	h.render(w, r, http.StatusOK, h.page(w, r, p))
}

func (h *handlers) page(w http.ResponseWriter, r *http.Request, p *EditorProps) templ.Component {
	pp := layout.PageProps{Title: p.T.NoteTitle + " · " + p.Summary.Patient.DisplayName(), User: user(r), Active: layout.NavAppointments,
		Flash: layout.TakeFlash(w, r), Scripts: []string{NoteScript}}
	return NotePage(pp, *p)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func noteURL(apptID int64) string { return fmt.Sprintf("/appointments/%d/note", apptID) }

// embedded reports whether the note is shown inside another page's frame
// (the provider's call page): ?embed=1, kept on every form and redirect.
func embedded(r *http.Request) bool { return r.URL.Query().Get("embed") == "1" }

// back is the note's page after an action, embedded or not.
func back(r *http.Request) string {
	if embedded(r) {
		return noteURL(pathID(r)) + "?embed=1"
	}
	return noteURL(pathID(r))
}

// saveResult is the answer to an autosave.
type saveResult struct {
	Saved    []string          `json:"saved"`
	Errors   map[string]string `json:"errors"`
	Revision int               `json:"revision"`
	SavedAt  string            `json:"savedAt"`
	Message  string            `json:"message,omitempty"`
}

// saveAnswers: POST /appointments/{id}/note. The form names the questions
// it carries (questions=<id>, repeated) and their values (q.<id>). Valid
// answers are saved even when another is rejected, so an answer being
// corrected never holds back the rest; the rejected ones keep their typed
// value on the page with the reason next to them. The script asks for JSON;
// a plain form post gets the page back.
func (h *handlers) saveAnswers(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := user(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.badForm(w, r, err)
		return
	}
	apptID := pathID(r)
	tid, _ := strconv.ParseInt(r.PostForm.Get("template"), 10, 64)
	note, err := h.st.VisitNote(ctx, u.OrgID, apptID, tid)
	if err != nil {
		if wantsJSON(r) && errors.Is(err, store.ErrNotFound) {
			httpx.JSON(w, http.StatusNotFound, saveResult{Message: "not found"})
			return
		}
		h.fail(w, r, err)
		return
	}
	t := texts(r)
	if note.Signed() {
		h.formError(w, r, http.StatusConflict, t.SignHint)
		return
	}
	var good []store.VisitNoteAnswer
	errs := map[string]string{}
	typed := map[string][]string{}
	for _, qid := range uniqStrings(r.PostForm["questions"]) {
		a := store.VisitNoteAnswer{QuestionID: qid, Value: nonEmpty(r.PostForm["q."+qid])}
		if err := note.CheckAnswer(a); err != nil {
			var ve *store.ValidationError
			if errors.As(err, &ve) {
				errs[qid] = layout.Message(ctx, ve.Fields[qid])
				typed[qid] = a.Value
				continue
			}
		}
		good = append(good, a)
	}
	changed, err := h.st.SaveVisitNoteAnswers(ctx, u.OrgID, apptID, tid, good)
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		// Rejected as a whole (the note changed version under us, say): report each.
		for q, m := range ve.Fields {
			errs[q] = layout.Message(ctx, m)
		}
		changed = nil
	case errors.Is(err, store.ErrConflict):
		h.formError(w, r, http.StatusConflict, layout.LocalMessage(r.Context(), err))
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	after, err := h.st.VisitNote(ctx, u.OrgID, apptID, tid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if wantsJSON(r) {
		status := http.StatusOK
		if len(errs) > 0 {
			status = http.StatusUnprocessableEntity
		}
		httpx.JSON(w, status, saveResult{Saved: nonNilStrings(changed), Errors: errs, Revision: after.Revision,
			SavedAt: h.st.Now().In(h.roomLocation(ctx, u.OrgID, apptID)).Format("15:04:05")})
		return
	}
	if len(errs) > 0 {
		p, err := h.editorProps(ctx, r, apptID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p.Values, p.Errors = typed, errs
		pp := layout.PageProps{Title: t.NoteTitle, User: u, Active: layout.NavAppointments, Scripts: []string{NoteScript},
			Flash: []layout.Flash{{Kind: layout.FlashError, Message: t.FixErrors}}}
		h.render(w, r, http.StatusUnprocessableEntity, NotePage(pp, *p))
		return
	}
	layout.SetFlash(w, layout.FlashOK, t.NoteSaved(len(changed)))
	http.Redirect(w, r, back(r), http.StatusSeeOther)
}

// formError answers a refused note action: JSON for the script, else a
// flash on the note page.
// badForm answers a form body that could not be read, in the reader's
// words (413 over the limit, else 400).
func (h *handlers) badForm(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := layout.FormError(r.Context(), err)
	h.formError(w, r, status, msg)
}

func (h *handlers) formError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if wantsJSON(r) {
		httpx.JSON(w, status, saveResult{Message: msg})
		return
	}
	layout.SetFlash(w, layout.FlashError, msg)
	http.Redirect(w, r, back(r), http.StatusSeeOther)
}

func uniqStrings(v []string) []string {
	var out []string
	for _, s := range v {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func nonEmpty(v []string) []string {
	out := []string{}
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimRight(s, " \t"))
		}
	}
	return out
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// startNote: POST /appointments/{id}/note/start, for a visit whose room has
// no template: the chosen template's note begins (with a first, empty save
// so it is pinned to the template's current version).
func (h *handlers) startNote(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	if err := r.ParseForm(); err != nil {
		h.badForm(w, r, err)
		return
	}
	tid, _ := strconv.ParseInt(r.PostForm.Get("template"), 10, 64)
	t, err := h.st.VisitNoteTemplateByID(r.Context(), u.OrgID, tid)
	if err != nil || !t.Active {
		h.formError(w, r, http.StatusBadRequest, texts(r).Template+": "+texts(r).NoneTemplate)
		return
	}
	if err := h.st.StartVisitNote(r.Context(), u.OrgID, pathID(r), tid); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, back(r), http.StatusSeeOther)
}

// addComment: POST /appointments/{id}/note/comments.
func (h *handlers) addComment(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	if err := r.ParseForm(); err != nil {
		h.badForm(w, r, err)
		return
	}
	tid, _ := strconv.ParseInt(r.PostForm.Get("template"), 10, 64)
	t := texts(r)
	if _, err := h.st.AddNoteComment(r.Context(), u.OrgID, pathID(r), tid, u.ID, r.PostForm.Get("message")); err != nil {
		h.actionError(w, r, err, t.Comment)
		return
	}
	layout.SetFlash(w, layout.FlashOK, t.CommentAdded)
	http.Redirect(w, r, back(r)+"#comments", http.StatusSeeOther)
}

// actionError shows why a note action was refused.
func (h *handlers) actionError(w http.ResponseWriter, r *http.Request, err error, label string) {
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		var msgs []string
		for f, m := range ve.Fields {
			m = layout.Message(r.Context(), m)
			if f == "message" || f == "reason" || f == "body" {
				m = label + ": " + m
			}
			msgs = append(msgs, m)
		}
		slices.Sort(msgs)
		h.formError(w, r, http.StatusUnprocessableEntity, strings.Join(msgs, " "))
	case errors.Is(err, store.ErrConflict):
		h.formError(w, r, http.StatusConflict, layout.LocalMessage(r.Context(), err))
	default:
		h.fail(w, r, err)
	}
}

// signNote: POST /appointments/{id}/note/sign. The summary is printed from
// the note as read here and attached in the same write that locks the note;
// revision is the note's revision on the clinician's screen, so what is
// signed is what they saw.
func (h *handlers) signNote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := user(r)
	if err := r.ParseForm(); err != nil {
		h.badForm(w, r, err)
		return
	}
	t := texts(r)
	apptID := pathID(r)
	tid, _ := strconv.ParseInt(r.PostForm.Get("template"), 10, 64)
	rev, _ := strconv.Atoi(r.PostForm.Get("revision"))
	sum, err := h.st.VisitSummary(ctx, u.OrgID, apptID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if sum.Note == nil || sum.Note.TemplateID != tid {
		h.fail(w, r, store.ErrNotFound)
		return
	}
	if sum.Note.Revision != rev {
		h.formError(w, r, http.StatusConflict, t.ChangedSinceLoad)
		return
	}
	if len(sum.Note.Missing()) > 0 {
		var names []string
		for _, q := range sum.Note.Missing() {
			names = append(names, q.Text)
		}
		h.formError(w, r, http.StatusUnprocessableEntity, t.MissingRequired+" ("+strings.Join(names, ", ")+")")
		return
	}
	so := store.SignOff{UserID: u.ID, Revision: rev, At: h.st.Now().Truncate(time.Second)}
	if h.pdfs != nil {
		printed := *sum
		n := *sum.Note
		n.Status, n.SignedAt, n.SignedBy, n.Signer = store.NoteSigned, so.At, u.ID, u.Name
		if n.Signer == "" {
			n.Signer = u.Email
		}
		printed.Note = &n
		if so.Summary, err = h.pdfs.VisitSummary(&printed, Lang(r)); err != nil {
			h.fail(w, r, fmt.Errorf("print visit summary: %w", err))
			return
		}
		so.SummaryName = summaryFileName(sum, so.At)
	}
	if _, err := h.st.SignVisitNote(ctx, u.OrgID, apptID, tid, so); err != nil {
		h.actionError(w, r, err, t.SignOff)
		return
	}
	layout.SetFlash(w, layout.FlashOK, t.Signed)
	http.Redirect(w, r, back(r), http.StatusSeeOther)
}

func summaryFileName(sum *store.VisitSummary, at time.Time) string {
	return fmt.Sprintf("visit-summary-%d-%s.pdf", sum.Appointment.ID, at.In(sum.Room.Location()).Format("2006-01-02"))
}

// addAddendum: POST /appointments/{id}/note/addenda.
func (h *handlers) addAddendum(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	if err := r.ParseForm(); err != nil {
		h.badForm(w, r, err)
		return
	}
	t := texts(r)
	tid, _ := strconv.ParseInt(r.PostForm.Get("template"), 10, 64)
	if _, err := h.st.AddVisitNoteAddendum(r.Context(), u.OrgID, pathID(r), tid, u.ID, r.PostForm.Get("reason"), r.PostForm.Get("body")); err != nil {
		h.actionError(w, r, err, t.Addendum)
		return
	}
	layout.SetFlash(w, layout.FlashOK, t.AddendumAdded)
	http.Redirect(w, r, back(r)+"#addenda", http.StatusSeeOther)
}

// roomLocation is the time zone of an appointment's waiting room.
func (h *handlers) roomLocation(ctx context.Context, orgID, apptID int64) *time.Location {
	if a, err := h.st.Appointment(ctx, orgID, apptID); err == nil {
		if room, err := h.st.WaitingRoom(ctx, orgID, a.WaitingRoomID); err == nil {
			return room.Location()
		}
	}
	return time.UTC
}
