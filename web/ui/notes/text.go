package notes

import (
	"context"
	"net/http"
	"reflect"

	"github.com/clinicbox/clinicbox/web/i18n"
)

// Strings is one language's wording of the visit-note pages.
type Strings struct {
	Lang                                                           string
	NoteTitle, NoteFor, TemplateVersion, StatusDraft, StatusSigned string
	Saved, Saving, NotSaved, Offline, SaveNow, SavedAt             string
	NoTemplate, NoTemplateHint, StartNote, Template                string
	ObservationsOfDay, NoObservations, Measured, Code, Value       string
	Unit, Range, Flags, Status                                     string
	Comments, NoComments, AddComment, Comment, CommentAdded        string
	SignOff, SignHint, SignedBy, Signed, MissingRequired           string
	Addenda, AddAddendum, Reason, Addendum, AddendumAdded          string
	AddendumHint, SummaryPDF, ResultsPDF, From, To, Download       string
	Yes, No, Required, Answered, Attachments, NoAttachments        string
	ChangedSinceLoad, FixErrors, Appointment, Patient, Room        string
	Clinician, OpenNote, NoneTemplate                              string
	NoteSaved                                                      func(n int) string
}

// byLang holds the wording of each language, read once from the pages'
// message catalogues (web/i18n/locales: the ids are "Note" + the field
// name, "NoteNoteSaved" a plural), so translators find the notes' strings
// beside every other. The note-template builder (package admin) reads its
// own from the same catalogue.
var byLang = map[string]*Strings{}

func init() {
	for _, lang := range i18n.Supported {
		byLang[lang] = loadStrings(lang)
	}
}

// idPrefix begins the ids of the notes' messages.
const idPrefix = "Note"

func loadStrings(lang string) *Strings {
	s := &Strings{Lang: lang}
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Type().Field(i); f.Type.Kind() == reflect.String && f.Name != "Lang" {
			v.Field(i).SetString(i18n.In(lang, idPrefix+f.Name))
		}
	}
	ctx := i18n.WithLang(context.Background(), lang)
	s.NoteSaved = func(n int) string { return i18n.N(ctx, "NoteNoteSaved", n) }
	return s
}

// Lang is the language of the pages and printed documents: ?lang=da or
// ?lang=en when given (a script fetching a PDF chooses), else the signed-in
// clinician's (their profile, else their organisation's).
func Lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); i18n.Supports(l) {
		return l
	}
	return i18n.Lang(r.Context())
}

// texts is the wording for the request's language.
func texts(r *http.Request) *Strings {
	if s, ok := byLang[Lang(r)]; ok {
		return s
	}
	return byLang[i18n.English]
}
