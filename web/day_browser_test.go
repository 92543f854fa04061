package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/live"
	"github.com/clinicbox/clinicbox/web/mailer/smtptest"
)

const dayPassword = "a long enough password"

// dayClinic is a running appliance with a Danish clinic's day on the board.
type dayClinic struct {
	st    *store.Store
	srv   *httptest.Server
	org   *store.Org
	room  *store.WaitingRoom
	video *store.WaitingRoom
	appts []*store.Appointment
	pats  []*store.Patient
	mail  *smtptest.Server
}

func newDayClinic(t *testing.T, perRoom int) *dayClinic {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	c := &dayClinic{st: st}
	c.org = &store.Org{Name: "Lægehuset Nørrebro", Slug: "day"}
	must(t, st.CreateOrg(ctx, c.org))
	for _, u := range []struct{ email, name, role, lang string }{
		{"front@day.example", "Frida Front", store.RoleFrontDesk, "en"},
		{"skranke@day.example", "Signe Skranke", store.RoleFrontDesk, "da"},
		{"doc@day.example", "Dr. Dan Berg", store.RoleClinician, "en"},
		{"laege@day.example", "Dr. Lise Holm", store.RoleClinician, "da"},
	} {
		usr := &store.User{Email: u.email, Name: u.name, Role: u.role}
		must(t, st.CreateUser(ctx, c.org.ID, usr, dayPassword))
		must(t, st.SetUserLanguage(ctx, c.org.ID, usr.ID, u.lang))
	}
	users, err := st.Users(ctx, c.org.ID)
	must(t, err)
	var doc int64
	for _, u := range users {
		if u.Role == store.RoleClinician {
			doc = u.ID
		}
	}
	c.room = &store.WaitingRoom{Name: "Almen praksis", SlotDuration: 900, Timezone: "Europe/Copenhagen", Active: true}
	must(t, st.CreateWaitingRoom(ctx, c.org.ID, c.room))
	c.video = &store.WaitingRoom{Name: "Video", ServiceType: "Video", SlotDuration: 1200, Timezone: "Europe/Copenhagen", Active: true}
	must(t, st.CreateWaitingRoom(ctx, c.org.ID, c.video))

	first := []string{"Søren", "Åse", "Mette", "Jens", "Birgitte", "Lars", "Kirsten", "Niels", "Hanne", "Poul", "Inge", "Ole"}
	last := []string{"Sørensen", "Ægidius", "Kjærgaard", "Østergaard", "Møller", "Hansen", "Pedersen", "Nielsen", "Jensen", "Larsen"}
	reasons := [][]string{{"Knæsmerter"}, {"Blodtryk, kontrol"}, {"Hoste i tre uger"}, {"Vaccination"}, {"Udslæt på armen"}, nil}
	statuses := []string{store.StatusCompleted, store.StatusCompleted, store.StatusExamProgress, store.StatusArrived, store.StatusArrived,
		store.StatusScheduled, store.StatusScheduled, store.StatusNoShow, store.StatusScheduled, store.StatusScheduled}
	loc := c.room.Location()
	now := st.Now().In(loc)
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, loc)
	for i := 0; i < perRoom*2; i++ {
		room := c.room
		if i%2 == 1 {
			room = c.video
		}
		p := &store.Patient{MRN: fmt.Sprintf("MRN-%04d", 1000+i), NationalID: fmt.Sprintf("%02d%02d8%d-%04d", 1+i%28, 1+i%12, i%10, 1000+i),
			BirthDate: fmt.Sprintf("19%02d-%02d-%02d", 40+i*3%60, 1+i%12, 1+i%28), Gender: []string{"female", "male"}[i%2],
			Names:   []store.HumanName{{FirstName: first[i%len(first)], LastName: last[i%len(last)]}},
			Telecom: []store.ContactPoint{{System: "email", Value: fmt.Sprintf("patient%d@example.dk", i)}, {System: "phone", Value: fmt.Sprintf("+45 20 %02d %02d %02d", i, i+1, i+2)}}}
		if i == 0 {
			p.PreferredLanguage = "da"
		}
		must(t, st.CreatePatient(ctx, c.org.ID, p))
		c.pats = append(c.pats, p)
		a := &store.Appointment{PatientID: p.ID, WaitingRoomID: room.ID, ProviderID: doc,
			Start: dayStart.Add(time.Duration(i/2) * 20 * time.Minute), Reasons: reasons[i%len(reasons)]}
		must(t, st.CreateAppointment(ctx, c.org.ID, a))
		if s := statuses[i%len(statuses)]; s != store.StatusScheduled {
			// Walk the visit to its status the way the day would.
			path := map[string][]string{
				store.StatusArrived:      {store.StatusArrived},
				store.StatusExamProgress: {store.StatusArrived, store.StatusExamProgress},
				store.StatusCompleted:    {store.StatusArrived, store.StatusExamProgress, store.StatusCompleted},
				store.StatusNoShow:       {store.StatusNoShow},
			}[s]
			for _, step := range path {
				_, err := st.ChangeAppointmentStatus(ctx, c.org.ID, a.ID, step, "")
				must(t, err)
			}
		}
		c.appts = append(c.appts, a)
	}
	must(t, st.AddObservations(ctx, c.org.ID, []store.Observation{
		{PatientID: c.pats[0].ID, Source: "serial", Instrument: "Cobas b 101", CodeSystem: "NPU", Code: "NPU27300",
			Display: "HbA1c", Value: "48.5", Unit: "mmol/mol", ReferenceRange: "20-42", Flags: "H", Status: "final", MeasuredAt: st.Now()},
	}))

	c.mail, err = smtptest.New()
	must(t, err)
	t.Cleanup(c.mail.Close)
	host, port, _ := strings.Cut(c.mail.Addr, ":")
	p, _ := strconv.Atoi(port)
	must(t, st.SaveMailSettings(ctx, c.org.ID, &store.MailSettings{Host: host, Port: p, From: "klinik@day.example"}))

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	hctx, stopHub := context.WithCancel(ctx)
	go hub.Run(hctx)
	c.srv = httptest.NewServer(web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "https://clinic.example",
		SessionKeys: [][]byte{[]byte("browser-test-key-0123456789abcdef")}}))
	t.Cleanup(func() { c.srv.Close(); hub.Close(); stopHub() })
	return c
}

func signInAs(base, email string) chromedp.Action[chromedp.Void] {
	return signIn(base, email, dayPassword)
}

// visitPath is the patient link's path on the test server (the shown link
// carries the public URL).
func visitPath(a *store.Appointment) string { return "/visit/" + a.PatientToken }

// TestBrowserFrontDesk: front desk books an appointment, copies and sends
// the patient link, cancels with confirmation and reinstates it.
func TestBrowserFrontDesk(t *testing.T) {
	exe := chromium(t)
	c := newDayClinic(t, 2)
	ctx := context.Background()
	b := newBrowser(t, exe)
	run(t, b, "sign in", signInAs(c.srv.URL, "front@day.example"))

	run(t, b, "book an appointment for a new patient",
		chromedp.Navigate(c.srv.URL+"/patients/new"),
		chromedp.WaitVisible(chromedp.CSS(`#f-firstName`)),
		chromedp.SendKeys(chromedp.CSS(`#f-firstName`), "Karen"),
		chromedp.SendKeys(chromedp.CSS(`#f-lastName`), "Kristensen"),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "karen@example.dk"),
		chromedp.Click(chromedp.CSS(`[data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="book-appointment"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="book-appointment"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="picked-patient"]`)),
		chromedp.SetValue(chromedp.CSS(`#f-time`), "23:55"),
		chromedp.SendKeys(chromedp.CSS(`#f-reasons`), "Check-up"),
		chromedp.Click(chromedp.CSS(`[data-testid="appointment-form"] [data-testid="submit"]`)),
	)
	// A booking outside opening hours or in the past asks first.
	confirmIfWarned(t, b)
	run(t, b, "back on the board", chromedp.WaitVisible(chromedp.CSS(`[data-testid="board"]`)))
	list, _, err := c.st.Appointments(ctx, c.org.ID, store.AppointmentFilter{Limit: 100})
	must(t, err)
	var a *store.AppointmentRow
	for i := range list {
		if list[i].PatientName == "Karen Kristensen" {
			a = &list[i]
		}
	}
	if a == nil {
		t.Fatal("the appointment was not booked")
	}
	id := strconv.FormatInt(a.ID, 10)
	run(t, b, "open the appointment from its card",
		chromedp.Navigate(c.srv.URL+"/board?date="+a.Start.In(c.room.Location()).Format("2006-01-02")),
		chromedp.Click(chromedp.CSS(`[data-testid="card-open-`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="visit-links"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="copy-patient-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-patient-link"][data-state="copied"]`)),
	)
	link, err := chromedp.Run(b, chromedp.Value(chromedp.CSS(`[data-testid="patient-link"]`)))
	must(t, err)
	if link != "https://clinic.example/visit/"+a.PatientToken {
		t.Errorf("patient link %q", link)
	}
	if !evalBool(t, b, `document.querySelector('[data-testid="patient-link-qr"]').naturalWidth > 100`) {
		t.Error("the QR code did not load")
	}
	run(t, b, "send it by e-mail",
		chromedp.Click(chromedp.CSS(`[data-testid="send-email"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-form"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="send-form"] [data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	msgs := c.mail.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "karen@example.dk" || !strings.Contains(msgs[0].Data, link) {
		t.Fatalf("mail sent: %+v", msgs)
	}
	run(t, b, "cancel with confirmation",
		chromedp.Click(chromedp.CSS(`[data-testid="act-cancel-`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-cancel"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-reason`), "Patient rang"),
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-yes"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="reinstate-form"]`)),
	)
	if got, _ := c.st.Appointment(ctx, c.org.ID, a.ID); got.Status != store.StatusCancelled {
		t.Fatalf("after cancelling: %q", got.Status)
	}
	run(t, b, "reinstate",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="reinstate-form"] #f-reason`), "Rang back"),
		chromedp.Click(chromedp.CSS(`[data-testid="reinstate"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid="reinstate-form"]`)),
	)
	if got, _ := c.st.Appointment(ctx, c.org.ID, a.ID); got.Status != store.StatusScheduled {
		t.Fatalf("after reinstating: %q", got.Status)
	}
	hist, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`[data-testid="status-history"]`)))
	must(t, err)
	for _, want := range []string{"Patient rang", "Rang back", "Frida Front"} {
		if !strings.Contains(hist, want) {
			t.Errorf("history lacks %q: %s", want, hist)
		}
	}
}

// confirmIfWarned confirms a scheduling warning when the form shows one.
func confirmIfWarned(t *testing.T, b context.Context) {
	t.Helper()
	// WaitVisible re-queries after the form's navigation; a script poll
	// started before it would die with the old document.
	run(t, b, "the form answers",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="schedule-warnings"], [data-testid="board"]`)))
	if evalBool(t, b, `!!document.querySelector('[data-testid="schedule-warnings"]')`) {
		run(t, b, "confirm the warning", chromedp.Click(chromedp.CSS(`[data-testid="confirm-warnings"]`)))
	}
}

// TestBrowserBoardStaysPut: a clinician walks a patient through the board
// far down the page; the page neither reloads nor jumps.
func TestBrowserBoardStaysPut(t *testing.T) {
	exe := chromium(t)
	c := newDayClinic(t, 15)
	b := newBrowser(t, exe)
	run(t, b, "sign in", signInAs(c.srv.URL, "doc@day.example"))
	// The last scheduled appointment of the video room is far down.
	var a *store.Appointment
	for _, x := range c.appts {
		if x.WaitingRoomID == c.video.ID {
			if got, _ := c.st.Appointment(context.Background(), c.org.ID, x.ID); got.Status == store.StatusScheduled {
				a = got
			}
		}
	}
	id := strconv.FormatInt(a.ID, 10)
	card := `[data-testid="card-` + id + `"]`
	run(t, b, "open the board", chromedp.Navigate(c.srv.URL+"/board"), chromedp.WaitVisible(chromedp.CSS(`[data-live="on"]`)))
	evalBool(t, b, `(document.querySelector('`+card+`').scrollIntoView({block: "center"}), window.__noReload = true)`)
	before := evalInt(t, b, `Math.round(window.scrollY)`)
	innerHeight := evalInt(t, b, `window.innerHeight`)
	if before < 200 {
		t.Fatalf("the card is not far down the page (scrollY %d)", before)
	}
	for _, step := range []struct{ act, group string }{{"arrive", "arrived"}, {"intake", "progress"}, {"exam", "progress"}, {"discharge", "discharge"}, {"complete", "done"}} {
		// Clicked in the page: a live refresh may swap the node between
		// finding and clicking it.
		sel := `[data-testid="act-` + step.act + `-` + id + `"]`
		// On a busy group the action sits in the card's menu: open it.
		run(t, b, step.act,
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := chromedp.Poll[bool](`(() => { const b = document.querySelector('`+sel+`'); if (!b) return false; const m = b.closest('details'); if (m) m.open = true; b.click(); return true; })()`)(ctx, tg)
				return err
			}),
			chromedp.WaitVisible(chromedp.CSS(`[data-group="`+step.group+`"] `+card)),
		)
		// Cards moving between groups reflow the page a little; a reload
		// or a jump would put the top of the page in view.
		if after := evalInt(t, b, `Math.round(window.scrollY)`); after < 200 || after < before-innerHeight || after > before+innerHeight {
			t.Errorf("%s: the page jumped from %d to %d", step.act, before, after)
		}
	}
	if !evalBool(t, b, `window.__noReload === true`) {
		t.Error("the board reloaded")
	}
	if got, _ := c.st.Appointment(context.Background(), c.org.ID, a.ID); got.Status != store.StatusCompleted {
		t.Errorf("status: %q", got.Status)
	}
}

func evalInt(t *testing.T, ctx context.Context, expr string) int {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// danish makes a browser context say it prefers Danish.
func danish() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": "da-DK,da;q=0.9,en;q=0.5"}})
		return err
	})
}

// TestBrowserPatientDanish: a Danish-speaking patient opens the link and
// sees Danish; the switch turns it to English.
func TestBrowserPatientDanish(t *testing.T) {
	exe := chromium(t)
	c := newDayClinic(t, 1)
	b := newBrowser(t, exe)
	a := c.appts[0]
	run(t, b, "open the link in Danish", danish(),
		chromedp.Navigate(c.srv.URL+visitPath(a)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="clinic-name"]`)))
	body, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`body`)))
	must(t, err)
	for _, want := range []string{"Aftale", "Venteværelse", "Dansk"} {
		if !strings.Contains(body, want) {
			t.Errorf("the Danish page lacks %q:\n%s", want, body)
		}
	}
	if lang, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "da" {
		t.Errorf("lang=%q", lang)
	}
	if !strings.Contains(body, " kl. ") || !(strings.Contains(body, "CET") || strings.Contains(body, "CEST")) {
		t.Errorf("the time is not local with its zone: %s", body)
	}
	run(t, b, "switch to English", chromedp.Click(chromedp.CSS(`[data-testid="lang-switch"] a[lang="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))
}

// TestBrowserScreenshots takes the pages a reviewer looks at, at a laptop and a
// phone size, in both languages. With CLINICBOX_UPDATE_SCREENSHOTS=1 they
// are all written to docs/screenshots (committed); otherwise the laptop
// size alone goes to a temporary folder, so a normal run stays quick and
// still proves the pages render and the board does not scroll sideways.
func TestBrowserScreenshots(t *testing.T) {
	exe := chromium(t)
	c := newDayClinic(t, 15)
	dir := t.TempDir()
	update := os.Getenv("CLINICBOX_UPDATE_SCREENSHOTS") == "1"
	if update {
		dir = filepath.Join("..", "docs", "screenshots")
		must(t, os.MkdirAll(dir, 0o755))
	}
	var open *store.Appointment // an appointment in the exam, with a measurement
	for _, a := range c.appts {
		if a.PatientID == c.pats[0].ID {
			open = a
		}
	}
	sizes := []struct {
		name string
		w, h int64
	}{{"laptop", 1366, 900}, {"phone", 390, 844}}
	for _, lang := range []struct{ code, user string }{{"en", "doc@day.example"}, {"da", "laege@day.example"}} {
		b := newBrowser(t, exe)
		var steps []chromedp.Action[chromedp.Void]
		if lang.code == "da" {
			steps = append(steps, danish())
		}
		steps = append(steps, signInAs(c.srv.URL, lang.user))
		run(t, b, "sign in "+lang.code, steps...)
		for i, sz := range sizes {
			if i > 0 && !update {
				break
			}
			for _, pg := range []struct{ name, path, ready string }{
				{"board", "/board", `[data-testid="board"]`},
				{"appointment", "/appointments/" + strconv.FormatInt(open.ID, 10), `[data-testid="visit-links"]`},
				{"patient-link", visitPath(open), `[data-testid="clinic-name"]`},
			} {
				run(t, b, pg.name, chromedp.EmulateViewport(sz.w, sz.h), chromedp.Navigate(c.srv.URL+pg.path),
					chromedp.WaitVisible(chromedp.CSS(pg.ready)))
				if pg.name == "board" {
					// A room's day must fit without sideways scrolling.
					if evalBool(t, b, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
						t.Errorf("%s %s %s: the page scrolls sideways", pg.name, lang.code, sz.name)
					}
				}
				png, err := chromedp.Run(b, chromedp.FullScreenshot(100))
				must(t, err)
				must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s-%s.png", pg.name, lang.code, sz.name)), png, 0o644))
			}
		}
	}
}
