package notes_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/web/internal/browsertest"
)

// The shared browser-test steps (web/internal/browsertest).
var (
	chromium = browsertest.Chromium
	run      = browsertest.Run
)

func newBrowser(t *testing.T, exe string) context.Context {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// waitState waits until the note's save indicator shows state.
func waitState(state string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(
			`document.querySelector('[data-testid="note-save-state"]')?.getAttribute('data-state') === %q`, state),
			chromedp.WithPollingTimeout(10*time.Second)))
		return err
	})
}

// screenshot keeps a full-page PNG when CLINICBOX_SCREENSHOT_DIR is set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("CLINICBOX_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// TestBrowserNoteSurvivesALostConnection: a clinician fills a templated
// note; the connection drops half-way; what they type meanwhile is kept in
// the browser; after a reload every answer is there (and on the server),
// they sign, add an addendum and download the summary PDF.
func TestBrowserNoteSurvivesALostConnection(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	b := newBrowser(t, exe)
	note := e.srv.URL + noteURL(e)
	run(t, b, "sign in",
		chromedp.Navigate(e.srv.URL+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), e.doc.Email),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), password),
		chromedp.Click(chromedp.CSS(`[data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="board"]`)),
	)
	run(t, b, "fill the first answers",
		chromedp.Navigate(note),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="note-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#a-complaint`), "Træthed og åndenød i to uger"),
		chromedp.Click(chromedp.CSS(`[data-testid="q-smoker"] input[value="no"]`)),
		waitState("saved"),
	)
	screenshot(t, b, "note-saved")
	n, err := e.st.AppointmentNote(context.Background(), e.org.ID, e.appt.ID)
	must(t, err)
	if n.Value("complaint") != "Træthed og åndenød i to uger" || n.Value("smoker") != "no" {
		t.Fatalf("saved as typed: %q %q", n.Value("complaint"), n.Value("smoker"))
	}

	// The connection drops; the clinician goes on typing.
	e.offline.Store(true)
	run(t, b, "type while offline",
		chromedp.SendKeys(chromedp.CSS(`#a-temp`), "38,5"),
		chromedp.Click(chromedp.CSS(`#a-symptoms-0`)),
		chromedp.Click(chromedp.CSS(`#a-symptoms-2`)),
		chromedp.SendKeys(chromedp.CSS(`#a-onset`), "02142026"),
		waitState("offline"),
	)
	screenshot(t, b, "note-offline")
	if n, _ := e.st.AppointmentNote(context.Background(), e.org.ID, e.appt.ID); n.Value("temp") != "" {
		t.Fatal("an answer reached a server that was offline")
	}

	// Back online, the page is reloaded at once: the answers kept in the
	// browser are restored and sent.
	e.offline.Store(false)
	run(t, b, "reload", chromedp.Navigate(note), chromedp.WaitVisible(chromedp.CSS(`[data-testid="note-form"]`)), waitState("saved"))
	run(t, b, "reload again: the server's copy", chromedp.Navigate(note), chromedp.WaitVisible(chromedp.CSS(`[data-testid="note-form"]`)))
	checks := map[string]string{
		`document.getElementById('a-complaint').value`:                          "Træthed og åndenød i to uger",
		`document.querySelector('[name="q.smoker"][value="no"]').checked`:       "true",
		`document.getElementById('a-temp').value`:                               "38,5",
		`document.getElementById('a-symptoms-0').checked`:                       "true",
		`document.getElementById('a-symptoms-1').checked`:                       "false",
		`document.getElementById('a-symptoms-2').checked`:                       "true",
		`document.getElementById('a-onset').value`:                              "2026-02-14",
		`document.querySelector('[data-testid="obs-unit"]').textContent`:        "10*3/uL",
		`document.querySelectorAll('[data-testid="obs-value"]')[1].textContent`: "<0,5",
	}
	for expr, want := range checks {
		got, err := chromedp.Run(b, chromedp.Evaluate[any](expr))
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("%s = %v (%v), want %q", expr, got, err, want)
		}
	}
	n, err = e.st.AppointmentNote(context.Background(), e.org.ID, e.appt.ID)
	must(t, err)
	if n.Value("temp") != "38,5" || n.Value("symptoms") != "feber, åndenød" || n.Value("onset") != "2026-02-14" {
		t.Fatalf("server after reconnect: temp %q symptoms %q onset %q", n.Value("temp"), n.Value("symptoms"), n.Value("onset"))
	}

	run(t, b, "sign",
		chromedp.Click(chromedp.CSS(`[data-testid="note-sign"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signed-note"]`)),
	)
	run(t, b, "addendum",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="addendum-reason"]`), "Forkert temperatur"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="addendum-body"]`), "Temperaturen var 38,9 °C"),
		chromedp.Click(chromedp.CSS(`[data-testid="addendum-add"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="note-addenda"] li`)),
	)
	screenshot(t, b, "note-signed")
	got, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('[data-testid="note-addenda"] li').textContent`))
	if err != nil || !strings.Contains(got, "Forkert temperatur") || !strings.Contains(got, "Dr. Łucja Kovács") {
		t.Fatalf("addendum shown as %q (%v)", got, err)
	}

	// Download the summary the way the button does (same session).
	res, err := chromedp.Run(b, chromedp.Evaluate[string](`(async () => {
		const a = document.querySelector('[data-testid="download-summary"]');
		const r = await fetch(a.href);
		const b = new Uint8Array(await r.arrayBuffer());
		return r.status + " " + r.headers.get('content-type') + " " + String.fromCharCode(...b.slice(0, 5)) + " " + b.length;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(res, "200 application/pdf %PDF-") {
		t.Fatalf("download summary: %q %v", res, err)
	}
	if os.Getenv("CLINICBOX_SCREENSHOT_DIR") != "" {
		run(t, b, "appointment page", chromedp.Navigate(fmt.Sprintf("%s/appointments/%d", e.srv.URL, e.appt.ID)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="section-visit-note"]`)))
		screenshot(t, b, "appointment-page")
		a := newBrowser(t, exe)
		run(t, a, "admin", chromedp.Navigate(e.srv.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
			chromedp.SendKeys(chromedp.CSS(`#f-email`), e.admin.Email), chromedp.SendKeys(chromedp.CSS(`#f-password`), password),
			chromedp.Click(chromedp.CSS(`[data-testid="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="board"]`)),
			chromedp.Navigate(e.srv.URL+"/admin/note-templates"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="templates"]`)))
		screenshot(t, a, "admin-templates")
		run(t, a, "builder", chromedp.Navigate(fmt.Sprintf("%s/admin/note-templates/%d/edit", e.srv.URL, e.tmpl.ID)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="template-builder"]`)))
		screenshot(t, a, "admin-builder")
	}
	sum, err := e.st.VisitSummary(context.Background(), e.org.ID, e.appt.ID)
	must(t, err)
	if !sum.Note.Signed() || len(sum.Note.Addenda) != 1 || len(sum.Attachments) != 1 || !strings.HasPrefix(sum.Attachments[0].Title, "visit-summary-") {
		t.Fatalf("after sign-off: signed %v addenda %d attachments %+v", sum.Note.Signed(), len(sum.Note.Addenda), sum.Attachments)
	}
}
