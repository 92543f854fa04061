package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

func ptr(f float64) *float64 { return &f }

// noteTemplate is a template with one question of every type.
func noteTemplate(name string) *store.VisitNoteTemplate {
	return &store.VisitNoteTemplate{Name: name, Flow: store.VisitNoteFlow{Sections: []store.VisitNoteSection{
		{Title: "Anamnese", Questions: []store.VisitNoteQuestion{
			{ID: "complaint", Text: "Hovedklage", Type: store.QuestionText, Required: true, Help: "Med patientens ord"},
			{ID: "smoker", Text: "Ryger", Type: store.QuestionYesNo},
			{ID: "onset", Text: "Debut", Type: store.QuestionDate},
		}},
		{Title: "Fund", Questions: []store.VisitNoteQuestion{
			{ID: "temp", Text: "Temperatur", Type: store.QuestionNumber, Unit: "°C", Min: ptr(30), Max: ptr(45), Required: true},
			{ID: "side", Text: "Side", Type: store.QuestionChoice, Options: []string{"venstre", "højre"}},
			{ID: "symptoms", Text: "Symptomer", Type: store.QuestionMulti, Options: []string{"feber", "hoste", "åndenød"}},
		}},
	}}}
}

type noteFixture struct {
	fixture
	st    *store.Store
	clock *storetest.Clock
	tmpl  *store.VisitNoteTemplate
	appt  *store.Appointment
}

func newNoteFixture(t *testing.T) noteFixture {
	t.Helper()
	st, clock := newStore(t)
	f := noteFixture{fixture: newFixture(t, st, "notes"), st: st, clock: clock}
	ctx := context.Background()
	f.tmpl = noteTemplate("Almen konsultation")
	if err := st.CreateVisitNoteTemplate(ctx, f.org.ID, f.tmpl); err != nil {
		t.Fatal(err)
	}
	if err := st.SetWaitingRoomNoteTemplate(ctx, f.org.ID, f.room.ID, f.tmpl.ID); err != nil {
		t.Fatal(err)
	}
	f.appt = &store.Appointment{PatientID: f.patient.ID, WaitingRoomID: f.room.ID, Start: clock.Now().Add(time.Hour), Duration: 900}
	if err := st.CreateAppointment(ctx, f.org.ID, f.appt); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNoteTemplateValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(*store.VisitNoteTemplate)
		field string
	}{
		{"name required", func(t *store.VisitNoteTemplate) { t.Name = "  " }, "name"},
		{"no sections", func(t *store.VisitNoteTemplate) { t.Flow.Sections = nil }, "sections"},
		{"section title", func(t *store.VisitNoteTemplate) { t.Flow.Sections[0].Title = "" }, "sections[0].title"},
		{"empty section", func(t *store.VisitNoteTemplate) { t.Flow.Sections[1].Questions = nil }, "sections[1].questions"},
		{"question text", func(t *store.VisitNoteTemplate) { t.Flow.Sections[0].Questions[1].Text = "" }, "sections[0].questions[1].text"},
		{"unknown type", func(t *store.VisitNoteTemplate) { t.Flow.Sections[0].Questions[0].Type = "essay" }, "sections[0].questions[0].type"},
		{"choice without options", func(t *store.VisitNoteTemplate) { t.Flow.Sections[1].Questions[1].Options = []string{" "} }, "sections[1].questions[1].options"},
		{"option twice", func(t *store.VisitNoteTemplate) { t.Flow.Sections[1].Questions[2].Options = []string{"a", "a"} }, "sections[1].questions[2].options"},
		{"range upside down", func(t *store.VisitNoteTemplate) { t.Flow.Sections[1].Questions[0].Min = ptr(50) }, "sections[1].questions[0].max"},
		{"duplicate id", func(t *store.VisitNoteTemplate) { t.Flow.Sections[1].Questions[0].ID = "complaint" }, "sections[1].questions[0].id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tm := noteTemplate("x")
			c.edit(tm)
			fieldErr(t, tm.Validate(), c.field)
		})
	}
	tm := noteTemplate("ok")
	tm.Flow.Sections[0].Questions[0].ID = ""
	if err := tm.Validate(); err != nil {
		t.Fatal(err)
	}
	if !store.IsUUID(tm.Flow.Sections[0].Questions[0].ID) {
		t.Fatalf("a new question gets an id, got %q", tm.Flow.Sections[0].Questions[0].ID)
	}
}

func TestNoteAnswerValidation(t *testing.T) {
	t.Parallel()
	f := newNoteFixture(t)
	ctx := context.Background()
	cases := []struct {
		name, q string
		value   []string
		msg     string // "" = accepted
	}{
		{"text", "complaint", []string{"Hoste i 3 uger, æøå"}, ""},
		{"yes", "smoker", []string{"yes"}, ""},
		{"yes/no only", "smoker", []string{"ja"}, `must be "yes" or "no"`},
		{"date", "onset", []string{"2026-02-28"}, ""},
		{"not a date", "onset", []string{"28/02/2026"}, "is not a date"},
		{"number with decimal comma", "temp", []string{"38,5"}, ""},
		{"number with point", "temp", []string{"38.5"}, ""},
		{"number below range", "temp", []string{"25"}, "must be between 30 and 45 °C"},
		{"number above range", "temp", []string{"45,1"}, "must be between 30 and 45 °C"},
		{"not a number", "temp", []string{"high"}, `"high" is not a number`},
		{"choice", "side", []string{"højre"}, ""},
		{"choice not an option", "side", []string{"midt"}, `"midt" is not one of the options: venstre, højre`},
		{"choice takes one", "side", []string{"venstre", "højre"}, "takes one answer"},
		{"multiple choice", "symptoms", []string{"feber", "åndenød"}, ""},
		{"multiple choice not an option", "symptoms", []string{"feber", "kvalme"}, `"kvalme" is not one of the options`},
		{"empty is fine", "temp", []string{}, ""},
		{"unknown question", "nope", []string{"x"}, "is not a question"},
	}
	for _, c := range cases {
		_, err := f.st.SaveVisitNoteAnswers(ctx, f.org.ID, f.appt.ID, f.tmpl.ID, []store.VisitNoteAnswer{{QuestionID: c.q, Value: c.value}})
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var ve *store.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Fields[c.q], c.msg) {
			t.Errorf("%s: want %q on %s, got %v", c.name, c.msg, c.q, err)
		}
	}
	n, err := f.st.AppointmentNote(ctx, f.org.ID, f.appt.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A rejected answer changed nothing: the last accepted values stand.
	want := map[string]string{"complaint": "Hoste i 3 uger, æøå", "smoker": "yes", "onset": "2026-02-28", "temp": "", "side": "højre", "symptoms": "feber, åndenød"}
	for q, v := range want {
		if got := n.Value(q); got != v {
			t.Errorf("answer %s = %q, want %q", q, got, v)
		}
	}
	// One bad answer in a batch rejects the whole batch.
	_, err = f.st.SaveVisitNoteAnswers(ctx, f.org.ID, f.appt.ID, f.tmpl.ID, []store.VisitNoteAnswer{
		{QuestionID: "complaint", Value: []string{"changed"}}, {QuestionID: "side", Value: []string{"midt"}}})
	fieldErr(t, err, "side")
	if n, _ := f.st.AppointmentNote(ctx, f.org.ID, f.appt.ID); n.Value("complaint") != want["complaint"] {
		t.Fatalf("a rejected batch changed an answer: %q", n.Value("complaint"))
	}
}

func TestNoteVersionsAndSignOff(t *testing.T) {
	t.Parallel()
	f := newNoteFixture(t)
	ctx := context.Background()
	st, org := f.st, f.org.ID
	ctx = store.WithActor(ctx, store.Actor{UserID: f.user.ID, Name: f.user.Email})

	n, err := st.AppointmentNote(ctx, org, f.appt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != 0 || n.TemplateID != f.tmpl.ID || n.Version != 1 {
		t.Fatalf("a new appointment's note starts unsaved from the room's template v1: %+v", n)
	}
	if _, err := st.SaveVisitNoteAnswers(ctx, org, f.appt.ID, f.tmpl.ID, []store.VisitNoteAnswer{{QuestionID: "complaint", Value: []string{"Hovedpine"}}}); err != nil {
		t.Fatal(err)
	}

	// Editing the template makes version 2; the started note keeps version 1,
	// a new appointment's note starts from version 2.
	edited := *f.tmpl
	edited.Flow = noteTemplate("").Flow
	edited.Flow.Sections[0].Questions[0].Text = "Årsag til henvendelse"
	edited.Flow.Sections[0].Questions = append(edited.Flow.Sections[0].Questions, store.VisitNoteQuestion{Text: "Allergier", Type: store.QuestionText})
	if err := st.UpdateVisitNoteTemplate(ctx, org, &edited); err != nil {
		t.Fatal(err)
	}
	if edited.Version != 2 {
		t.Fatalf("edited template version %d, want 2", edited.Version)
	}
	same := edited
	if err := st.UpdateVisitNoteTemplate(ctx, org, &same); err != nil || same.Version != 2 {
		t.Fatalf("saving unchanged made a version: %d %v", same.Version, err)
	}
	n, _ = st.AppointmentNote(ctx, org, f.appt.ID)
	if n.Version != 1 || n.Question("complaint").Text != "Hovedklage" || len(n.Flow.Sections[0].Questions) != 3 {
		t.Fatalf("started note lost its version: v%d %q", n.Version, n.Question("complaint").Text)
	}
	other := &store.Appointment{PatientID: f.patient.ID, WaitingRoomID: f.room.ID, Start: f.clock.Now().Add(2 * time.Hour), Duration: 900}
	if err := st.CreateAppointment(ctx, org, other); err != nil {
		t.Fatal(err)
	}
	n2, _ := st.AppointmentNote(ctx, org, other.ID)
	if n2.Version != 2 || n2.Question("complaint").Text != "Årsag til henvendelse" {
		t.Fatalf("new note not at version 2: v%d", n2.Version)
	}
	// The API reads the note with its own version's question text.
	api, err := st.VisitNotes(ctx, org, f.appt.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, vn := range api {
		if vn.Template.ID == f.tmpl.ID && (len(vn.Responses) != 1 || vn.Responses[0].Question != "Hovedklage") {
			t.Fatalf("API sees %+v", vn.Responses)
		}
	}

	// Signing wants the required questions answered, and the revision read.
	n, _ = st.AppointmentNote(ctx, org, f.appt.ID)
	_, err = st.SignVisitNote(ctx, org, f.appt.ID, f.tmpl.ID, store.SignOff{UserID: f.user.ID, Revision: n.Revision, At: f.clock.Now()})
	fieldErr(t, err, "temp")
	if _, err := st.SaveVisitNoteAnswers(ctx, org, f.appt.ID, f.tmpl.ID, []store.VisitNoteAnswer{{QuestionID: "temp", Value: []string{"37,2"}}}); err != nil {
		t.Fatal(err)
	}
	_, err = st.SignVisitNote(ctx, org, f.appt.ID, f.tmpl.ID, store.SignOff{UserID: f.user.ID, Revision: n.Revision, At: f.clock.Now()})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("signing a stale revision: %v", err)
	}
	if _, err := st.AddVisitNoteAddendum(ctx, org, f.appt.ID, f.tmpl.ID, f.user.ID, "typo", "text"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("addendum to a draft: %v", err)
	}
	n, _ = st.AppointmentNote(ctx, org, f.appt.ID)
	pdf := []byte("%PDF-1.4 summary")
	signed, err := st.SignVisitNote(ctx, org, f.appt.ID, f.tmpl.ID, store.SignOff{UserID: f.user.ID, Revision: n.Revision, At: f.clock.Now(), Summary: pdf, SummaryName: "summary.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if !signed.Signed() || signed.Signer != "Dr notes" || !signed.SignedAt.Equal(f.clock.Now()) || signed.SummaryID == 0 {
		t.Fatalf("signed note: %+v", signed)
	}
	atts, err := st.Attachments(ctx, org, f.appt.ID)
	if err != nil || len(atts) != 1 || atts[0].Title != "summary.pdf" || atts[0].Size != len(pdf) {
		t.Fatalf("summary attachment: %+v %v", atts, err)
	}

	// Locked: neither the page nor the API can change an answer.
	_, err = st.SaveVisitNoteAnswers(ctx, org, f.appt.ID, f.tmpl.ID, []store.VisitNoteAnswer{{QuestionID: "temp", Value: []string{"39"}}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("edit after signing: %v", err)
	}
	err = st.SetVisitNoteAnswers(ctx, org, f.appt.ID, f.tmpl.Name, []store.VisitNoteAnswer{{QuestionID: "temp", Value: []string{"39"}}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("API edit after signing: %v", err)
	}
	if _, err := st.SignVisitNote(ctx, org, f.appt.ID, f.tmpl.ID, store.SignOff{UserID: f.user.ID, Revision: signed.Revision, At: f.clock.Now()}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second sign-off: %v", err)
	}

	// Corrections are addenda; comments still allowed.
	_, err = st.AddVisitNoteAddendum(ctx, org, f.appt.ID, f.tmpl.ID, f.user.ID, " ", "x")
	fieldErr(t, err, "reason")
	f.clock.Advance(time.Hour)
	if _, err := st.AddVisitNoteAddendum(ctx, org, f.appt.ID, f.tmpl.ID, f.user.ID, "Forkert temperatur", "Temperaturen var 38,2 °C"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddNoteComment(ctx, org, f.appt.ID, f.tmpl.ID, f.user.ID, "Ring til patienten i morgen"); err != nil {
		t.Fatal(err)
	}
	n, _ = st.AppointmentNote(ctx, org, f.appt.ID)
	if n.Value("temp") != "37,2" || len(n.Addenda) != 1 || n.Addenda[0].Reason != "Forkert temperatur" ||
		n.Addenda[0].Author != "Dr notes" || !n.Addenda[0].CreatedAt.Equal(f.clock.Now()) || len(n.Comments) != 1 || n.Comments[0].Author != f.user.Email {
		t.Fatalf("after addendum: %+v", n)
	}

	// Every change is in the audit log, by the actor.
	entries, err := st.AuditLog(ctx, org, store.AuditFilter{PatientID: f.patient.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.Entity == "visit-note" {
			actions = append(actions, e.Action)
			if e.UserID != f.user.ID {
				t.Errorf("audit %s by user %d", e.Action, e.UserID)
			}
		}
	}
	for _, want := range []string{"update", "sign", "addendum", "comment"} {
		if !contains(actions, want) {
			t.Errorf("audit log lacks %q: %v", want, actions)
		}
	}
	evs := eventTypes(t, st, org)
	for _, want := range []string{store.EventVisitNoteUpdated, store.EventVisitNoteSigned, store.EventVisitNoteAddendum, "attachment:created"} {
		if !contains(evs, want) {
			t.Errorf("events lack %q", want)
		}
	}
}

func TestNotesOrgIsolation(t *testing.T) {
	t.Parallel()
	f := newNoteFixture(t)
	ctx := context.Background()
	g := newFixture(t, f.st, "other")
	if _, err := f.st.AppointmentNote(ctx, g.org.ID, f.appt.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other org reads note: %v", err)
	}
	if _, err := f.st.SaveVisitNoteAnswers(ctx, g.org.ID, f.appt.ID, f.tmpl.ID, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other org writes note: %v", err)
	}
	if _, err := f.st.VisitNoteTemplateByID(ctx, g.org.ID, f.tmpl.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other org reads template: %v", err)
	}
	if err := f.st.SetWaitingRoomNoteTemplate(ctx, g.org.ID, g.room.ID, f.tmpl.ID); err == nil {
		t.Fatal("other org's template attached to a room")
	}
}
