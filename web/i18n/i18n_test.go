package i18n

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

func catalogue(t *testing.T, lang string) map[string]any {
	t.Helper()
	m := map[string]any{}
	for _, name := range catalogueFiles(lang) {
		b, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var part map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for id, msg := range part {
			if _, dup := m[id]; dup {
				t.Errorf("%s: message %q is already in another %s catalogue file", name, id, lang)
			}
			m[id] = msg
		}
	}
	return m
}

// usedIDs finds the literal message ids that Go and templ source under
// web/ passes to T, N and In.
func usedIDs(t *testing.T) map[string][]string {
	t.Helper()
	re := regexp.MustCompile(`i18n\.(?:T|N)\(\w+, "([^"]+)"|i18n\.In\([^,]+, "([^"]+)"`)
	used := map[string][]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "i18n" {
			return filepath.SkipDir // this package's doc examples
		}
		if d.IsDir() || strings.HasSuffix(path, "_templ.go") || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".templ")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			id := m[1] + m[2]
			used[id] = append(used[id], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return used
}

func TestCatalogues(t *testing.T) {
	en, da := catalogue(t, English), catalogue(t, Danish)
	var missing []string
	for id := range en {
		if _, ok := da[id]; !ok {
			missing = append(missing, "da.json lacks "+id)
		}
	}
	for id := range da {
		if _, ok := en[id]; !ok {
			missing = append(missing, "en.json lacks "+id)
		}
	}
	for id, where := range usedIDs(t) {
		if strings.HasSuffix(id, ".") { // a prefix completed at run time: "StatusLabel." + status
			n := 0
			for k := range en {
				if strings.HasPrefix(k, id) {
					n++
				}
			}
			if n == 0 {
				missing = append(missing, "no id starts with "+id+" used in "+where[0])
			}
			continue
		}
		_, inEN := en[id]
		_, inDA := da[id]
		if !inEN || !inDA {
			missing = append(missing, "id "+id+" used in "+where[0]+" is missing from a catalogue")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
	// A message that is the same in both languages is usually one
	// that was never translated; the few legitimate ones are listed.
	same := map[string]bool{"AppName": true, "Patient": true, "Status": true, "Start": true, "Administration": true,
		"AdminTitle": true, "AdminWebhooks": true, "RoleLabel.admin": true, "ActOpenPatient": true, "SMTPPort": true, "SendEmailNow": true,
		"ReportColumn.status": true,
		"NotePatient":         true, "NoteTemplateVersion": true, "NoteVersion": true, "NoteMin": true, "NoteStatus": true, "NoteType": true,
		// language names are written in their own language; words Danish shares
		"LangNameDa": true, "LangNameEn": true, "CallSend": true, "StnStation": true, "AdminOrganisation": true,
		"FieldName.email": true, "FieldName.status": true, "FieldName.patientId": true, "FieldName.patient": true}
	for id, v := range en {
		if s, ok := v.(string); ok && s == da[id] && !same[id] && len(s) > 3 {
			t.Errorf("%s is the same in English and Danish (%q): translate it or list it here", id, s)
		}
	}
}

func TestT(t *testing.T) {
	t.Parallel()
	en := WithLang(context.Background(), "en-GB")
	da := WithLang(context.Background(), "da")
	tests := []struct {
		ctx  context.Context
		got  string
		want string
	}{
		{en, T(en, "NavBoard"), "Board"},
		{da, T(da, "NavBoard"), "Tavle"},
		{en, T(en, "PageOf", "Page", 2, "Pages", 5, "Total", 90), "Page 2 of 5 (90 in all)"},
		{da, T(da, "PageOf", "Page", 2, "Pages", 5, "Total", 90), "Side 2 af 5 (90 i alt)"},
		{en, N(en, "AppointmentsCount", 1), "1 appointment"},
		{en, N(en, "AppointmentsCount", 3), "3 appointments"},
		{da, N(da, "AppointmentsCount", 3), "3 aftaler"},
		{en, T(en, "NoSuchMessage"), "NoSuchMessage"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestHas(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{"NavBoard": true, "AppointmentsCount": true, "StatusLabel.scheduled": true,
		"FieldMsg.is required": true, "NoSuchMessage": false, "": false} {
		if got := Has(id); got != want {
			t.Errorf("Has(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	cph, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	at := time.Date(2026, 12, 2, 14, 30, 0, 0, cph)
	en := WithLang(context.Background(), "en")
	da := WithLang(context.Background(), "da")
	tests := []struct{ got, want string }{
		{Date(da, at), "2. december 2026"},
		{Date(en, at), "2 December 2026"},
		{Time(da, at), "14.30"},
		{Time(en, at), "14:30"},
		{DateTime(da, at), "onsdag 2. december 2026 kl. 14.30 CET"},
		{DateTime(en, at), "Wednesday 2 December 2026, 14:30 CET"},
		{Decimal(da, "7.4"), "7,4"},
		{Decimal(da, "-0.25"), "-0,25"},
		{Decimal(da, "1.2.3"), "1.2.3"},
		{Decimal(da, "7.4 mmol"), "7.4 mmol"},
		{Decimal(en, "7.4"), "7.4"},
		{ShortDate(da, at), "2. dec. 2026"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	tests := []struct{ accept, want string }{
		{"", "en"},
		{"da", "da"},
		{"da-DK,da;q=0.9,en-US;q=0.8,en;q=0.7", "da"},
		{"en-US,en;q=0.9,da;q=0.8", "en"},
		{"nb-NO,nb;q=0.9", "da"}, // Norwegian readers get the closer language,
		{"de-DE,de;q=0.9,da;q=0.5", "da"},
		{";;;garbage", "en"},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.accept); got != tt.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tt.accept, got, tt.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"da-DK,da;q=0.9", "en", "", "*", "x;q=abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if l := Negotiate(s); !Supports(l) {
			t.Fatalf("Negotiate(%q) = %q", s, l)
		}
	})
}
