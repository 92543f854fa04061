package admin

import (
	"net/http"
	"reflect"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
)

// noteStrings is one language's wording of the note-template pages. The
// messages are the visit-note pages' ("Note" + the field name in
// web/i18n/locales, "NoteTypeLabel.<type>" for the question types), so a
// translator finds them beside the note editor's.
type noteStrings struct {
	Lang                                                                      string
	TemplatesTitle, TemplatesHint, NewTemplate, EditTemplate, Name, Active    string
	Version, Questions, RoomTemplates, RoomTemplatesHint, NoneTemplate        string
	Section, SectionTitle, Question, QuestionText, Type, Options, OptionsHint string
	Help, Min, Max, Order, Remove, AddSection, AddQuestion, Save, Rooms       string
	TemplateSaved, TemplateCreated, RoomTemplateSaved, Cancel                 string
	Yes, No, Required, Unit                                                   string
	TypeLabel                                                                 map[string]string
}

// noteIDPrefix begins the ids of the notes' messages.
const noteIDPrefix = "Note"

var noteStringsByLang = map[string]*noteStrings{}

func init() {
	for _, lang := range i18n.Supported {
		noteStringsByLang[lang] = loadNoteStrings(lang)
	}
}

func loadNoteStrings(lang string) *noteStrings {
	s := &noteStrings{Lang: lang, TypeLabel: map[string]string{}}
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Type().Field(i); f.Type.Kind() == reflect.String && f.Name != "Lang" {
			v.Field(i).SetString(i18n.In(lang, noteIDPrefix+f.Name))
		}
	}
	for _, t := range store.QuestionTypes {
		s.TypeLabel[t] = i18n.In(lang, noteIDPrefix+"TypeLabel."+t)
	}
	return s
}

// texts is the note-template pages' wording in the request's language
// (?lang=da or ?lang=en when given, else the signed-in admin's).
func texts(r *http.Request) *noteStrings {
	lang := r.URL.Query().Get("lang")
	if !i18n.Supports(lang) {
		lang = i18n.Lang(r.Context())
	}
	if s, ok := noteStringsByLang[lang]; ok {
		return s
	}
	return noteStringsByLang[i18n.English]
}
