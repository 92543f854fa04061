package layout_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// storeMessages are the field and conflict messages the store writes as
// literals (Validator.Add/Check, Invalid, Conflict), read from its source so
// that a message added later is checked too, with where each is written.
func storeMessages(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../../../store/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("store sources: %v (%d files)", err, len(files))
	}
	fset := token.NewFileSet()
	out := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var fn string
			switch e := call.Fun.(type) {
			case *ast.SelectorExpr:
				fn = e.Sel.Name
			case *ast.Ident:
				fn = e.Name
			}
			// The message is the last argument of each of these.
			want := map[string]int{"Add": 2, "Invalid": 2, "Check": 3, "Conflict": 1}[fn]
			if want == 0 || len(call.Args) != want {
				return true
			}
			lit, ok := call.Args[want-1].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			msg, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			out[msg] = fset.Position(lit.Pos()).String()
			return true
		})
	}
	return out
}

// TestStoreMessagesInBothLanguages fails for a store message a page would
// show in English to a Danish reader: every literal field or conflict
// message of the store has Danish words.
func TestStoreMessagesInBothLanguages(t *testing.T) {
	msgs := storeMessages(t)
	if len(msgs) < 50 {
		t.Fatalf("found only %d store messages: has the store's way of writing them changed?", len(msgs))
	}
	da := i18n.WithLang(context.Background(), i18n.Danish)
	en := i18n.WithLang(context.Background(), i18n.English)
	var missing []string
	for msg, at := range msgs {
		got := layout.Message(da, msg)
		if got == msg || strings.Contains(got, "FieldMsg") || strings.Contains(got, "ConflictMsg") {
			missing = append(missing, strconv.Quote(msg)+" ("+at+")")
			continue
		}
		// English may reword a message by its form ("must have at most 50
		// rules" is shown as "... entries"), never leak a catalogue id.
		if got := layout.Message(en, msg); got == "" || strings.Contains(got, "FieldMsg") || strings.Contains(got, "ConflictMsg") {
			t.Errorf("English of %q is %q", msg, got)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d store messages have no Danish:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}

// TestStoreMessageFormsInDanish covers the store messages built with a
// number or a name in them that admin forms can show, as the store writes
// them.
func TestStoreMessageFormsInDanish(t *testing.T) {
	da := i18n.WithLang(context.Background(), i18n.Danish)
	en := i18n.WithLang(context.Background(), i18n.English)
	for _, c := range []struct{ msg, da string }{
		{"at most 20 sections", "højst 20 afsnit"},
		{"at most 200 questions in all", "højst 200 spørgsmål i alt"},
		{"at most 50 options", "højst 50 svarmuligheder"},
		{`"Ja" is listed twice`, `"Ja" står der to gange`},
		{`"system/x" is not a known scope (system/Patient.read, kv.read)`, `"system/x" er ikke et kendt omfang (system/Patient.read, kv.read)`},
		{"choose at least one of result, qc", "vælg mindst én af result, qc"},
		{`"foo" is not one of result, qc`, `"foo" er ikke en af result, qc`},
		{`"nope" is not a report column`, `"nope" er ikke en rapportkolonne`},
		{"monday: opening must be HH:MM before closing HH:MM", "monday: åbningstid skal være TT:MM før lukketid TT:MM"},
		{"The value you selected is not a valid choice. Valid choices: a, b.", "Den valgte værdi er ikke et gyldigt valg. Gyldige valg: a, b."},
		{"maps GLU to NPU twice", "oversætter GLU til NPU to gange"},
		{`there is no visit note template named "SOAP"`, `der er ingen notatskabelon med navnet "SOAP"`},
		{`a device named "Analyser 1" already exists`, `navnet "Analyser 1" er allerede i brug (enhed)`},
		{`a LIS destination named "Lab" already exists`, `navnet "Lab" er allerede i brug (LIS-modtager)`},
		{"must be at least 12 characters", "skal være mindst 12 tegn"},
	} {
		if got := layout.Message(da, c.msg); got != c.da {
			t.Errorf("Danish of %q = %q, want %q", c.msg, got, c.da)
		}
		if got := layout.Message(en, c.msg); got != c.msg {
			t.Errorf("English of %q = %q, want it unchanged", c.msg, got)
		}
	}
}

// TestFailPageSpeaksTheReadersLanguage: a store refusal that reaches the
// error page (no form to show it on) is in the reader's language.
func TestFailPageSpeaksTheReadersLanguage(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		err       error
		lang      string
		status    int
		want, not string
	}{
		{store.Conflict("a waiting room with this name already exists"), i18n.Danish, http.StatusConflict,
			"der findes allerede et venteværelse med dette navn", "already exists"},
		{store.Conflict("a waiting room with this name already exists"), i18n.English, http.StatusConflict,
			"a waiting room with this name already exists", "venteværelse"},
		{store.Invalid("timezone", "is not a known time zone"), i18n.Danish, http.StatusBadRequest,
			"er ikke en kendt tidszone", "known time zone"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/admin/rooms/new", nil)
		r = r.WithContext(i18n.WithLang(r.Context(), tt.lang))
		w := httptest.NewRecorder()
		layout.Fail(w, r, log, nil, tt.err)
		if body := w.Body.String(); w.Code != tt.status || !strings.Contains(body, tt.want) || strings.Contains(body, tt.not) {
			t.Errorf("%v in %s: %d, want %d with %q and without %q", tt.err, tt.lang, w.Code, tt.status, tt.want, tt.not)
		}
	}
}
