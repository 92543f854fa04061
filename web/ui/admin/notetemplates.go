package admin

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// TemplatesProps is the template list's view model.
type TemplatesProps struct {
	T         *noteStrings
	Templates []store.VisitNoteTemplate
	Rooms     []store.WaitingRoom
	RoomTmpl  map[int64]int64
}

// templates: GET /admin/note-templates.
func (h *handlers) templates(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := user(r)
	p := TemplatesProps{T: texts(r), RoomTmpl: map[int64]int64{}}
	var err error
	if p.Templates, err = h.st.AllVisitNoteTemplates(ctx, u.OrgID); err != nil {
		h.fail(w, r, err)
		return
	}
	if p.Rooms, err = h.st.WaitingRooms(ctx, u.OrgID); err != nil {
		h.fail(w, r, err)
		return
	}
	for _, room := range p.Rooms {
		if p.RoomTmpl[room.ID], err = h.st.WaitingRoomNoteTemplate(ctx, u.OrgID, room.ID); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	pp := layout.PageProps{Title: p.T.TemplatesTitle, User: u, Active: layout.NavAdmin, Flash: layout.TakeFlash(w, r)}
	h.render(w, r, http.StatusOK, TemplatesPage(pp, p))
}

// setRoomTemplates: POST /admin/note-templates/rooms (room.<id>=<template id or 0>).
func (h *handlers) setRoomTemplates(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := user(r)
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	rooms, err := h.st.WaitingRooms(ctx, u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t := texts(r)
	for _, room := range rooms {
		v, ok := r.PostForm["room."+itoa(room.ID)]
		if !ok {
			continue
		}
		tid, _ := strconv.ParseInt(v[0], 10, 64)
		cur, err := h.st.WaitingRoomNoteTemplate(ctx, u.OrgID, room.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if cur == tid {
			continue
		}
		if err := h.st.SetWaitingRoomNoteTemplate(ctx, u.OrgID, room.ID, tid); err != nil {
			var ve *store.ValidationError
			if errors.As(err, &ve) {
				layout.SetFlash(w, layout.FlashError, room.Name+": "+layout.Message(ctx, ve.Fields["noteTemplate"]))
				http.Redirect(w, r, "/admin/note-templates", http.StatusSeeOther)
				return
			}
			h.fail(w, r, err)
			return
		}
	}
	layout.SetFlash(w, layout.FlashOK, t.RoomTemplateSaved)
	http.Redirect(w, r, "/admin/note-templates", http.StatusSeeOther)
}

// BuilderProps is the template builder's view model: the form as typed.
type BuilderProps struct {
	T        *noteStrings
	ID       int64 // 0: a new template
	Version  int
	Name     string
	Active   bool
	Sections []BuilderSection
	Errors   map[string]string // by form field name
}

// BuilderSection is a section as the builder's form holds it.
type BuilderSection struct {
	Title     string
	Questions []BuilderQuestion
}

// BuilderQuestion is a question as the builder's form holds it (numbers as typed).
type BuilderQuestion struct {
	ID, Text, Type, Options, Unit, Min, Max, Help string
	Required                                      bool
}

func blankQuestion() BuilderQuestion { return BuilderQuestion{Type: store.QuestionText} }

func builderFrom(t *store.VisitNoteTemplate) BuilderProps {
	p := BuilderProps{ID: t.ID, Version: t.Version, Name: t.Name, Active: t.Active}
	for _, s := range t.Flow.Sections {
		bs := BuilderSection{Title: s.Title}
		for _, q := range s.Questions {
			bq := BuilderQuestion{ID: q.ID, Text: q.Text, Type: q.Type, Options: strings.Join(q.Options, "\n"), Unit: q.Unit, Help: q.Help, Required: q.Required}
			if q.Min != nil {
				bq.Min = store.FormatNumber(*q.Min)
			}
			if q.Max != nil {
				bq.Max = store.FormatNumber(*q.Max)
			}
			bs.Questions = append(bs.Questions, bq)
		}
		p.Sections = append(p.Sections, bs)
	}
	return p
}

// newTemplateForm: GET /admin/note-templates/new.
func (h *handlers) newTemplateForm(w http.ResponseWriter, r *http.Request) {
	p := BuilderProps{T: texts(r), Active: true, Sections: []BuilderSection{{Questions: []BuilderQuestion{blankQuestion()}}}}
	h.renderBuilder(w, r, http.StatusOK, p)
}

// editTemplateForm: GET /admin/note-templates/{id}/edit.
func (h *handlers) editTemplateForm(w http.ResponseWriter, r *http.Request) {
	t, err := h.st.VisitNoteTemplateByID(r.Context(), user(r).OrgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := builderFrom(t)
	p.T = texts(r)
	h.renderBuilder(w, r, http.StatusOK, p)
}

func (h *handlers) renderBuilder(w http.ResponseWriter, r *http.Request, status int, p BuilderProps) {
	title := p.T.NewTemplate
	if p.ID != 0 {
		title = p.T.EditTemplate + " · " + p.Name
	}
	pp := layout.PageProps{Title: title, User: user(r), Active: layout.NavAdmin, Flash: layout.TakeFlash(w, r)}
	h.render(w, r, status, BuilderPage(pp, p))
}

// builderField numbers form fields: s.<i>.title, s.<i>.q.<j>.text, ...
func sField(i int, name string) string    { return fmt.Sprintf("s.%d.%s", i, name) }
func qField(i, j int, name string) string { return fmt.Sprintf("s.%d.q.%d.%s", i, j, name) }

// parseBuilder reads the builder form: sections and questions in their
// "order" (ties keep form order), removed ones dropped.
func parseBuilder(r *http.Request) BuilderProps {
	f := r.PostForm
	p := BuilderProps{Name: f.Get("name"), Active: f.Get("active") == "1"}
	type ordered[T any] struct {
		order, pos int
		v          T
	}
	ord := func(s string, pos int) int {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return n
		}
		return pos + 1
	}
	ns, _ := strconv.Atoi(f.Get("sections"))
	var secs []ordered[BuilderSection]
	for i := 0; i < min(ns, 60); i++ {
		if f.Get(sField(i, "remove")) == "1" {
			continue
		}
		bs := BuilderSection{Title: f.Get(sField(i, "title"))}
		nq, _ := strconv.Atoi(f.Get(sField(i, "questions")))
		var qs []ordered[BuilderQuestion]
		for j := 0; j < min(nq, 210); j++ {
			if f.Get(qField(i, j, "remove")) == "1" {
				continue
			}
			qs = append(qs, ordered[BuilderQuestion]{ord(f.Get(qField(i, j, "order")), j), j, BuilderQuestion{
				ID: f.Get(qField(i, j, "id")), Text: f.Get(qField(i, j, "text")), Type: f.Get(qField(i, j, "type")),
				Options: f.Get(qField(i, j, "options")), Unit: f.Get(qField(i, j, "unit")), Min: f.Get(qField(i, j, "min")),
				Max: f.Get(qField(i, j, "max")), Help: f.Get(qField(i, j, "help")), Required: f.Get(qField(i, j, "required")) == "1"}})
		}
		sort.SliceStable(qs, func(a, b int) bool { return qs[a].order < qs[b].order })
		for _, q := range qs {
			bs.Questions = append(bs.Questions, q.v)
		}
		secs = append(secs, ordered[BuilderSection]{ord(f.Get(sField(i, "order")), i), i, bs})
	}
	sort.SliceStable(secs, func(a, b int) bool { return secs[a].order < secs[b].order })
	for _, s := range secs {
		p.Sections = append(p.Sections, s.v)
	}
	return p
}

// template turns the builder's form into a template; number fields that
// are not numbers are reported by form field name.
func (p *BuilderProps) template() (*store.VisitNoteTemplate, map[string]string) {
	t := &store.VisitNoteTemplate{ID: p.ID, Name: p.Name, Active: p.Active}
	errs := map[string]string{}
	for i, s := range p.Sections {
		sec := store.VisitNoteSection{Title: s.Title}
		for j, q := range s.Questions {
			vq := store.VisitNoteQuestion{ID: q.ID, Text: q.Text, Type: q.Type, Unit: q.Unit, Help: q.Help, Required: q.Required}
			for _, o := range strings.Split(q.Options, "\n") {
				vq.Options = append(vq.Options, strings.TrimSpace(o))
			}
			for name, dst := range map[string]**float64{"min": &vq.Min, "max": &vq.Max} {
				s := map[string]string{"min": q.Min, "max": q.Max}[name]
				if strings.TrimSpace(s) == "" {
					continue
				}
				if f, ok := store.ParseNumber(s); ok {
					*dst = &f
				} else {
					errs[qField(i, j, name)] = "is not a number"
				}
			}
			sec.Questions = append(sec.Questions, vq)
		}
		t.Flow.Sections = append(t.Flow.Sections, sec)
	}
	return t, errs
}

var storeField = regexp.MustCompile(`^sections\[(\d+)\](?:\.questions\[(\d+)\])?\.(\w+)$`)

// formField maps a store field name (sections[1].questions[2].text) to the
// builder's (s.1.q.2.text).
func formField(f string) string {
	m := storeField.FindStringSubmatch(f)
	if m == nil {
		return f
	}
	if m[2] == "" {
		return "s." + m[1] + "." + m[3]
	}
	return "s." + m[1] + ".q." + m[2] + "." + m[3]
}

// saveTemplate: POST /admin/note-templates/new and /admin/note-templates/{id}/edit.
// The "action" button adds a section or a question (the form comes back
// with a blank one, nothing saved) or saves.
func (h *handlers) saveTemplate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := user(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	p := parseBuilder(r)
	p.T, p.ID = texts(r), pathID(r)
	if p.ID != 0 {
		cur, err := h.st.VisitNoteTemplateByID(ctx, u.OrgID, p.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p.Version = cur.Version
	}
	action := r.PostForm.Get("action")
	switch {
	case action == "add-section":
		p.Sections = append(p.Sections, BuilderSection{Questions: []BuilderQuestion{blankQuestion()}})
		h.renderBuilder(w, r, http.StatusOK, p)
		return
	case strings.HasPrefix(action, "add-question:"):
		i, err := strconv.Atoi(strings.TrimPrefix(action, "add-question:"))
		if err == nil && i >= 0 && i < len(p.Sections) {
			p.Sections[i].Questions = append(p.Sections[i].Questions, blankQuestion())
		}
		h.renderBuilder(w, r, http.StatusOK, p)
		return
	}
	t, errs := p.template()
	var err error
	if len(errs) == 0 {
		if p.ID == 0 {
			err = h.st.CreateVisitNoteTemplate(ctx, u.OrgID, t)
		} else {
			err = h.st.UpdateVisitNoteTemplate(ctx, u.OrgID, t)
		}
		var ve *store.ValidationError
		if errors.As(err, &ve) {
			for f, m := range ve.Fields {
				errs[formField(f)] = m
			}
		} else if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if len(errs) > 0 {
		// The builder's own checks are worded like the store's: both are
		// shown in the reader's language.
		p.Errors = layout.LocalFields(ctx, errs)
		h.renderBuilder(w, r, http.StatusUnprocessableEntity, p)
		return
	}
	if p.ID == 0 {
		layout.SetFlash(w, layout.FlashOK, p.T.TemplateCreated)
	} else {
		layout.SetFlash(w, layout.FlashOK, p.T.TemplateSaved)
	}
	http.Redirect(w, r, "/admin/note-templates", http.StatusSeeOther)
}

func questionCount(t store.VisitNoteTemplate) int {
	n := 0
	for _, s := range t.Flow.Sections {
		n += len(s.Questions)
	}
	return n
}
