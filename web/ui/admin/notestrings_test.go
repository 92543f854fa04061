package admin

import (
	"reflect"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
)

// Every string of the note-template pages is in both catalogues (a missing
// id would show as the id itself).
func TestNoteStringsInBothLanguages(t *testing.T) {
	for _, lang := range i18n.Supported {
		s := noteStringsByLang[lang]
		v := reflect.ValueOf(s).Elem()
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Type.Kind() == reflect.String && f.Name != "Lang" && (v.Field(i).String() == "" || v.Field(i).String() == noteIDPrefix+f.Name) {
				t.Errorf("%s: %s has no text", lang, f.Name)
			}
		}
		for _, q := range store.QuestionTypes {
			if l := s.TypeLabel[q]; l == "" || l == noteIDPrefix+"TypeLabel."+q {
				t.Errorf("%s: no label for question type %s", lang, q)
			}
		}
	}
}
