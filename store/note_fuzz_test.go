package store_test

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clinicbox/clinicbox/store"
)

// FuzzCheckValue: any answer typed into any kind of question is either
// accepted or refused with a message; an accepted number parses and lies
// within the question's range.
func FuzzCheckValue(f *testing.F) {
	for _, s := range []string{"38,5", "38.5", "-0", "1e9", "NaN", "Inf", "<0,5", "10*3/uL", "2026-02-30", "yes", "højre", "", " ", "1,2,3", "٣"} {
		f.Add(s)
	}
	min, max := 30.0, 45.0
	qs := []store.VisitNoteQuestion{
		{Type: store.QuestionText}, {Type: store.QuestionNumber, Min: &min, Max: &max, Unit: "°C"}, {Type: store.QuestionDate},
		{Type: store.QuestionDateTime}, {Type: store.QuestionYesNo}, {Type: store.QuestionChoice, Options: []string{"venstre", "højre"}},
		{Type: store.QuestionMulti, Options: []string{"a", "b"}},
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, q := range qs {
			msg := q.CheckValue([]string{v})
			if msg != "" && !utf8.ValidString(msg) && utf8.ValidString(v) {
				t.Fatalf("message not UTF-8: %q", msg)
			}
			if msg == "" && q.Type == store.QuestionNumber && strings.TrimSpace(v) != "" {
				n, ok := store.ParseNumber(v)
				if !ok || math.IsNaN(n) || n < min || n > max {
					t.Fatalf("accepted %q as a number in range (%v %v)", v, n, ok)
				}
			}
		}
	})
}
