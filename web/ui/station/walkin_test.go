package station_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

var (
	formRE  = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"[^>]*>(.*?)</form>`)
	inputRE = regexp.MustCompile(`<input[^>]*\bname="([^"]+)"[^>]*>`)
	valueRE = regexp.MustCompile(`\bvalue="([^"]*)"`)
)

// pageForm finds the form on a page that holds marker (a data-testid) and
// returns its action and its fields as the browser would send them, with
// typed values for the named fields.
func pageForm(t *testing.T, page, marker string, typed map[string]string) (string, url.Values) {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[0], marker) {
			continue
		}
		form := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			v := ""
			if vm := valueRE.FindStringSubmatch(in[0]); vm != nil {
				v = html.UnescapeString(vm[1])
			}
			if s, ok := typed[in[1]]; ok {
				v = s
			}
			form.Set(in[1], v)
		}
		for name := range typed {
			if _, ok := form[name]; !ok {
				t.Fatalf("form %s has no field %q: %s", marker, name, m[0])
			}
		}
		return html.UnescapeString(m[1]), form
	}
	t.Fatalf("no form with %s on the page", marker)
	return "", nil
}

// TestStationWalkInForm: the station page's walk-in form and the "Start
// walk-in visit" buttons next to search results post what the walk-in
// handler reads; after each the page shows the patient selected with the
// open walk-in. A refused registration says why and stores nothing.
func TestStationWalkInForm(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	must(t, e.st.CreateDevice(ctx, e.org.ID, &store.Device{Name: "CX300", Protocol: "astm", PortPath: "/dev/null-cx300", Station: "Lab"}))
	doc := e.signIn("doc@c.example")
	page := doc.get("/stations/Lab")
	if page.status != http.StatusOK || !strings.Contains(page.body, `data-testid="walk-in-form"`) {
		t.Fatalf("station page %d has no walk-in form", page.status)
	}
	if strings.Contains(page.body, `data-testid="walk-in-open"`) {
		t.Fatal("a walk-in shown before any was opened")
	}
	submit := func(action string, form url.Values) string {
		t.Helper()
		r := doc.post(action, form)
		if r.status != http.StatusSeeOther || r.loc != "/stations/Lab" {
			t.Fatalf("walk-in %v answered %d %q", form, r.status, r.loc)
		}
		return doc.get(r.loc).body
	}

	tests := []struct {
		name  string
		typed map[string]string
		want  []string // on the page after
		mrn   string   // registered afterwards ("" for none)
	}{
		{"no last name", map[string]string{"mrn": "W-7", "first_name": "Nora"},
			[]string{"Walk-in not opened: last_name: is required", `data-testid="no-patient"`}, ""},
		{"bad birth date", map[string]string{"mrn": "W-7", "last_name": "Nilsen", "birth_date": "31.12.1990"},
			[]string{"birth_date: must be a date", `data-testid="no-patient"`}, ""},
		{"new patient", map[string]string{"mrn": "W-7", "last_name": "Nilsen", "first_name": "Nora", "birth_date": "1990-12-31"},
			[]string{"Walk-in opened at", `data-testid="selected-patient">Nora Nilsen`, `data-testid="walk-in-open"`}, "W-7"},
		{"same MRN again", map[string]string{"mrn": "W-7", "last_name": "Nilsen"},
			[]string{"is still open", `data-testid="selected-patient">Nora Nilsen`, `data-testid="walk-in-open"`}, "W-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action, form := pageForm(t, doc.get("/stations/Lab").body, `data-testid="walk-in-form"`, tt.typed)
			if action != "/stations/Lab/walk-in" {
				t.Fatalf("form posts to %q", action)
			}
			body := submit(action, form)
			for _, w := range tt.want {
				if !strings.Contains(body, html.EscapeString(w)) && !strings.Contains(body, w) {
					t.Errorf("page does not show %q", w)
				}
			}
			p, err := e.st.PatientBy(ctx, e.org.ID, store.ByMRN, "W-7")
			switch {
			case tt.mrn == "" && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("a refused walk-in registered a patient: %+v %v", p, err)
			case tt.mrn != "":
				must(t, err)
				es, err := e.st.Encounters(ctx, e.org.ID, store.EncounterFilter{PatientID: p.ID, Station: "Lab"})
				must(t, err)
				if len(es) != 1 || !es[0].WalkIn() || es[0].Status != store.StatusArrived {
					t.Fatalf("walk-ins of %s: %+v", p.DisplayName(), es)
				}
			}
		})
	}

	// A registered patient found by search: the button beside the result.
	page = doc.get("/stations/Lab?q=" + url.QueryEscape("Mustermann"))
	marker := `data-testid="walk-in-` + itoa(e.patient.ID) + `"`
	action, form := pageForm(t, page.body, marker, nil)
	if form.Get("patient_id") != itoa(e.patient.ID) {
		t.Fatalf("the result's walk-in button sends %v", form)
	}
	body := submit(action, form)
	if !strings.Contains(body, `data-testid="selected-patient">Erika Mustermann`) || !strings.Contains(body, `data-testid="walk-in-open"`) {
		t.Fatal("the found patient is not selected with an open walk-in")
	}
	es, err := e.st.Encounters(ctx, e.org.ID, store.EncounterFilter{PatientID: e.patient.ID, Station: "Lab", Open: true})
	must(t, err)
	if len(es) != 1 || !es[0].WalkIn() {
		t.Fatalf("Erika's walk-ins: %+v", es)
	}

	// Selected without a walk-in: the button beside the current patient.
	if r := doc.post("/stations/Lab/select", url.Values{"patient_id": {itoa(e.patient.ID)}}); r.status != http.StatusSeeOther {
		t.Fatalf("select: %d", r.status)
	}
	if body := doc.get("/stations/Lab").body; strings.Contains(body, `data-testid="walk-in-selected"`) {
		t.Fatal("offers a second walk-in while one is open")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
