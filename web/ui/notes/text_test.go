package notes

import (
	"reflect"
	"testing"

	"github.com/clinicbox/clinicbox/web/i18n"
)

// Every string of the note pages is in both catalogues (a missing id would
// show as the id itself).
func TestStringsInBothLanguages(t *testing.T) {
	for _, lang := range i18n.Supported {
		s := byLang[lang]
		v := reflect.ValueOf(s).Elem()
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Type.Kind() == reflect.String && f.Name != "Lang" && (v.Field(i).String() == "" || v.Field(i).String() == idPrefix+f.Name) {
				t.Errorf("%s: %s has no text", lang, f.Name)
			}
		}
		if got := s.NoteSaved(3); got == "NoteNoteSaved" || got == "" {
			t.Errorf("%s: NoteSaved(3) = %q", lang, got)
		}
	}
	if byLang["da"].SignOff != "Underskriv notat" || byLang["en"].NoteSaved(2) != "2 answers saved." {
		t.Errorf("wording: %q %q", byLang["da"].SignOff, byLang["en"].NoteSaved(2))
	}
}
