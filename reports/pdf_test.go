package reports

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// pdfText extracts a PDF's text with poppler's pdftotext, an independent
// reader of what was printed. Without the tool the test is skipped, except
// in CI (CLINICBOX_REQUIRE_TOOLS=1), where .ci/run installs it.
func extractText(t testing.TB, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CLINICBOX_REQUIRE_TOOLS") == "1" {
			t.Fatal("pdftotext (poppler-utils) is required but not installed")
		}
		t.Skip("pdftotext (poppler-utils) not installed: apt-get install poppler-utils")
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 20)])
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", "-layout", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	if dest := os.Getenv("CLINICBOX_PDF_DIR"); dest != "" { // for looking at them
		os.WriteFile(filepath.Join(dest, fmt.Sprintf("%s-%d.pdf", strings.ReplaceAll(t.Name(), "/", "_"), len(pdf))), pdf, 0o644)
	}
	return string(out)
}

var copenhagen, _ = time.LoadLocation("Europe/Copenhagen")

func fptr(f float64) *float64 { return &f }

// sampleSummary is a signed visit with Danish, German, Polish and
// Hungarian text and instrument values that must print byte for byte.
func sampleSummary(questions int) *store.VisitSummary {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	flow := store.VisitNoteFlow{Sections: []store.VisitNoteSection{
		{Title: "Anamnese", Questions: []store.VisitNoteQuestion{
			{ID: "complaint", Text: "Hovedklage", Type: store.QuestionText},
			{ID: "smoker", Text: "Ryger", Type: store.QuestionYesNo},
		}},
		{Title: "Objektiv undersøgelse", Questions: []store.VisitNoteQuestion{
			{ID: "temp", Text: "Temperatur", Type: store.QuestionNumber, Unit: "°C", Min: fptr(30), Max: fptr(45)},
			{ID: "symptoms", Text: "Symptomer", Type: store.QuestionMulti, Options: []string{"feber", "hoste", "åndenød"}},
		}},
	}}
	answers := map[string]store.NoteAnswer{
		"complaint": {Value: []string{"Træthed og åndenød gennem to uger; Frau Weiß aus Łódź, Győr"}},
		"smoker":    {Value: []string{"no"}},
		"temp":      {Value: []string{"38,2"}},
		"symptoms":  {Value: []string{"feber", "åndenød"}},
	}
	long := store.VisitNoteSection{Title: "Forløb"}
	for i := 0; i < questions; i++ {
		id := fmt.Sprintf("long%d", i)
		long.Questions = append(long.Questions, store.VisitNoteQuestion{ID: id, Text: fmt.Sprintf("Observation %d", i+1), Type: store.QuestionText})
		answers[id] = store.NoteAnswer{Value: []string{fmt.Sprintf("Linje %d: %s", i+1, strings.Repeat("Patienten får det gradvist bedre, søvn og appetit er øget. ", 3))}}
	}
	if questions > 0 {
		flow.Sections = append(flow.Sections, long)
	}
	return &store.VisitSummary{
		Org: store.Org{Name: "Lægehuset Østerbro"},
		Patient: store.Patient{ID: 7, Names: []store.HumanName{{FirstName: "Søren", LastName: "Ærø-Åberg"}}, BirthDate: "1961-04-09",
			NationalID: "090461-1234", MRN: "M-77"},
		Appointment: store.Appointment{ID: 42, Start: at, Duration: 900, Reasons: []string{"Kontrol"}, Status: store.StatusCompleted},
		Room:        store.WaitingRoom{Name: "Almen praksis", Timezone: "Europe/Copenhagen"},
		Clinician:   "Dr. Łucja Kovács",
		Note: &store.Note{ID: 1, TemplateName: "Almen konsultation", Version: 2, Flow: flow, Status: store.NoteSigned,
			SignedAt: at.Add(40 * time.Minute), Signer: "Dr. Łucja Kovács", Answers: answers,
			Comments: []store.VisitNoteComment{{Author: "sygeplejerske@klinik.dk", Message: "Blodprøver bestilt", PostedAt: at.Add(10 * time.Minute)}},
			Addenda: []store.NoteAddendum{{Author: "Dr. Łucja Kovács", Reason: "Forkert dosis", Body: "Dosis rettet til 500 mg × 2",
				CreatedAt: at.Add(26 * time.Hour)}}},
		Observations: []store.Observation{
			{ID: 1, CodeSystem: "NPU", Code: "NPU02319", Display: "B-Leukocytter", Value: "10,2", Unit: "10*3/uL", ReferenceRange: "3,5-8,8", Flags: "H", Status: "final", MeasuredAt: at.Add(-time.Hour)},
			{ID: 2, CodeSystem: "NPU", Code: "NPU19748", Display: "P-CRP", Value: "<0,5", Unit: "mg/L", ReferenceRange: "<8", Flags: "", Status: "final", MeasuredAt: at.Add(-50 * time.Minute)},
		},
		Attachments: []store.Attachment{{Title: "EKG før besøg.pdf", MimeType: "application/pdf", UploadedAt: at}},
		PrintedAt:   at.Add(time.Hour),
	}
}

func TestVisitSummaryPrintsEverything(t *testing.T) {
	t.Parallel()
	cases := []struct {
		lang string
		want []string
	}{
		{"en", []string{"Lægehuset Østerbro", "Visit summary", "Søren Ærø-Åberg", "090461-1234", "1961-04-09",
			"2026-03-02 10:30 (Europe/Copenhagen)", "Almen praksis", "Dr. Łucja Kovács",
			"Visit note: Almen konsultation (version 2)", "Anamnese", "Hovedklage",
			"Træthed og åndenød gennem to uger; Frau Weiß aus Łódź, Győr", "Ryger", "No", "38,2 °C", "feber, åndenød",
			"Blodprøver bestilt", "sygeplejerske@klinik.dk · 2026-03-02 10:40",
			"Signed by Dr. Łucja Kovács, 2026-03-02 11:10",
			"Forkert dosis", "Dosis rettet til 500 mg × 2", "2026-03-03 12:30",
			"B-Leukocytter (NPU NPU02319)", "10,2", "10*3/uL", "3,5-8,8", "H", "final", "<0,5", "mg/L", "<8",
			"EKG før besøg.pdf", "Page 1 of 1", "Printed 2026-03-02 11:30"}},
		{"da", []string{"Besøgsresumé", "Journalnotat: Almen konsultation (version 2)", "Nej", "Underskrevet af Dr. Łucja Kovács, 02.03.2026 11.10",
			"CPR-nummer", "Dagens målinger", "Tillæg", "Side 1 af 1", "<0,5", "10*3/uL"}},
	}
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			t.Parallel()
			pdf, err := PDF{}.VisitSummary(sampleSummary(0), c.lang)
			if err != nil {
				t.Fatal(err)
			}
			txt := extractText(t, pdf)
			for _, w := range c.want {
				if !strings.Contains(txt, w) {
					t.Errorf("summary (%s) lacks %q\n%s", c.lang, w, txt)
				}
			}
		})
	}
}

func TestVisitSummaryDraftAndNoNote(t *testing.T) {
	t.Parallel()
	s := sampleSummary(0)
	s.Note.Status, s.Note.Addenda = store.NoteDraft, nil
	pdf, err := PDF{}.VisitSummary(s, "en")
	if err != nil {
		t.Fatal(err)
	}
	if txt := extractText(t, pdf); !strings.Contains(txt, "Not signed (draft).") || strings.Contains(txt, "Signed by") {
		t.Errorf("draft summary:\n%s", txt)
	}
	s.Note, s.Observations, s.Attachments = nil, nil, nil
	pdf, err = PDF{}.VisitSummary(s, "en")
	if err != nil {
		t.Fatal(err)
	}
	txt := extractText(t, pdf)
	for _, w := range []string{"No visit note was written.", "No observations on the day of the visit.", "None."} {
		if !strings.Contains(txt, w) {
			t.Errorf("summary without note lacks %q", w)
		}
	}
}

func TestLongVisitSummarySpansPages(t *testing.T) {
	t.Parallel()
	pdf, err := PDF{}.VisitSummary(sampleSummary(60), "en")
	if err != nil {
		t.Fatal(err)
	}
	txt := extractText(t, pdf)
	pages := strings.Split(strings.TrimRight(txt, "\f\n"), "\f")
	if len(pages) < 3 {
		t.Fatalf("a 60-question note printed on %d pages", len(pages))
	}
	for i, p := range pages {
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
		if !strings.Contains(p, "Lægehuset Østerbro") {
			t.Errorf("page %d lacks the clinic header", i+1)
		}
	}
	// Every answer made it, in order, and the sign-off line follows the last.
	last := -1
	for i := 0; i < 60; i++ {
		at := strings.Index(txt, fmt.Sprintf("Linje %d:", i+1))
		if at <= last {
			t.Fatalf("answer %d missing or out of order", i+1)
		}
		last = at
	}
	if strings.Index(txt, "Signed by") < last {
		t.Error("sign-off line before the last answer")
	}
}

// sampleResults is days of daily readings for codes, starting at from.
func sampleResults(codes, days int, from time.Time) []store.Observation {
	var out []store.Observation
	for c := 0; c < codes; c++ {
		for d := 0; d < days; d++ {
			v := fmt.Sprintf("%.1f", 4+3*float64((d*7+c)%11)/10)
			v = strings.Replace(v, ".", ",", 1)
			flags := ""
			if d%17 == 0 {
				flags = "H"
			}
			out = append(out, store.Observation{ID: int64(c*days + d + 1), CodeSystem: "NPU", Code: fmt.Sprintf("NPU%05d", 1000+c),
				Display: fmt.Sprintf("P-Analyt %d", c+1), Value: v, Unit: "mmol/L", ReferenceRange: "3,5-5,5", Flags: flags, Status: "final",
				MeasuredAt: from.Add(time.Duration(d)*24*time.Hour + 8*time.Hour)})
		}
	}
	return out
}

func TestResultsReport(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, copenhagen)
	obs := sampleResults(2, 20, from)
	obs = append(obs,
		store.Observation{ID: 900, CodeSystem: "NPU", Code: "NPU19748", Display: "P-CRP", Value: "<0,5", Unit: "mg/L", ReferenceRange: "<8", Status: "final", MeasuredAt: from.Add(30 * time.Hour)},
		store.Observation{ID: 901, CodeSystem: "NPU", Code: "NPU19748", Display: "P-CRP", Value: "12", Unit: "mg/L", ReferenceRange: "<8", Flags: "H", Status: "final", MeasuredAt: from.Add(60 * time.Hour)},
		store.Observation{ID: 902, CodeSystem: "NPU", Code: "NPU19748", Display: "P-CRP", Value: "hæmolyse", Unit: "mg/L", Status: "final", MeasuredAt: from.Add(70 * time.Hour)},
		store.Observation{ID: 903, CodeSystem: "local", Code: "WBC", Value: "10,2", Unit: "10*3/uL", Status: "final", MeasuredAt: from.Add(80 * time.Hour)},
	)
	org := &store.Org{Name: "Lægehuset Østerbro"}
	p := &store.Patient{Names: []store.HumanName{{FirstName: "Søren", LastName: "Ærø-Åberg"}}, NationalID: "090461-1234"}
	last := from.AddDate(0, 0, 30)
	pdf, err := PDF{}.Results(org, p, from, last, copenhagen, obs, "da", from.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	txt := extractText(t, pdf)
	for _, w := range []string{"Resultatrapport", "Søren Ærø-Åberg", "Periode", "01.01.2026 – 31.01.2026",
		"P-Analyt 1 (NPU NPU01000) · mmol/L", "P-Analyt 2 (NPU NPU01001) · mmol/L", "P-CRP (NPU NPU19748) · mg/L",
		"<0,5", "hæmolyse", "10,2", "10*3/uL", "3,5-5,5", "referenceområde",
		"1 værdier, der ikke er tal, er listet men ikke vist i grafen.", "02.01.2026 06.00"} {
		if !strings.Contains(txt, w) {
			t.Errorf("results report lacks %q\n%s", w, txt)
		}
	}
	// Every reading is in a table.
	for _, o := range obs[:40] {
		if !strings.Contains(txt, o.Value) {
			t.Fatalf("value %q missing", o.Value)
		}
	}
	if n := strings.Count(txt, "\f"); n < 2 {
		t.Errorf("pages: %d", n)
	}
	empty, err := PDF{}.Results(org, p, from, last, copenhagen, nil, "en", from)
	if err != nil {
		t.Fatal(err)
	}
	if txt := extractText(t, empty); !strings.Contains(txt, "No results in this period.") {
		t.Errorf("empty report:\n%s", txt)
	}
}

func TestReferenceRanges(t *testing.T) {
	t.Parallel()
	nan := -1e300 // stands for "open"
	cases := []struct {
		in     string
		lo, hi float64
		ok     bool
	}{
		{"3.5-5.0", 3.5, 5, true},
		{"3,5–5,0", 3.5, 5, true},
		{"3.5 - 5.0", 3.5, 5, true},
		{"-2-2", -2, 2, true},
		{"<8", nan, 8, true},
		{"≤ 8", nan, 8, true},
		{">60", 60, nan, true},
		{"negativ", 0, 0, false},
		{"", 0, 0, false},
		{"5-3", 0, 0, false},
	}
	for _, c := range cases {
		lo, hi, ok := refRange(c.in)
		if ok != c.ok {
			t.Errorf("%q: ok %v", c.in, ok)
			continue
		}
		if !ok {
			continue
		}
		if (c.lo == nan) != (lo != lo) || (c.lo != nan && lo != c.lo) || (c.hi == nan) != (hi != hi) || (c.hi != nan && hi != c.hi) {
			t.Errorf("%q: got %v..%v", c.in, lo, hi)
		}
	}
}

func BenchmarkVisitSummary3Pages(b *testing.B) {
	s := sampleSummary(30)
	pdf, err := PDF{}.VisitSummary(s, "en")
	if err != nil {
		b.Fatal(err)
	}
	if n := bytes.Count(pdf, []byte("/Type /Page\n")); n != 3 {
		b.Logf("pages: %d", n)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := (PDF{}).VisitSummary(s, "en"); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// cpuTime is the process's CPU time (user + system). On a machine shared
// with other work, CPU time per document is the figure an idle appliance
// would show as wall time (rendering is one goroutine).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

func BenchmarkResultsYear10Codes(b *testing.B) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, copenhagen)
	obs := sampleResults(10, 365, from)
	org := &store.Org{Name: "Lægehuset Østerbro"}
	p := &store.Patient{Names: []store.HumanName{{FirstName: "Søren", LastName: "Ærø-Åberg"}}}
	pdf, err := (PDF{}).Results(org, p, from, from.AddDate(1, 0, -1), copenhagen, obs, "en", from)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := (PDF{}).Results(org, p, from, from.AddDate(1, 0, -1), copenhagen, obs, "en", from); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(len(pdf))/1024, "KiB")
}

// FuzzRefRange: reference ranges come from instruments; reading one never
// panics, and a range read has its low end not above its high end.
func FuzzRefRange(f *testing.F) {
	for _, s := range []string{"3,5-8,8", "<8", ">60", "-2-2", "3.5 - 5.0", "negativ", "≤ 8", "1–"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, ok := refRange(s)
		if ok && lo == lo && hi == hi && lo > hi {
			t.Fatalf("%q read as %v..%v", s, lo, hi)
		}
		numeric(s)
	})
}
