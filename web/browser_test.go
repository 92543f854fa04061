package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/internal/browsertest"
	"github.com/clinicbox/clinicbox/web/live"
)

// The shared browser-test steps (web/internal/browsertest).
var (
	chromium = browsertest.Chromium
	run      = browsertest.Run
)

// One headless Chromium serves every browser test of this binary; each
// test browser is its own browser context (own cookies and storage), so
// starting one costs milliseconds, not a process.
var shared struct {
	once   sync.Once
	root   context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

// newBrowser opens a fresh browser context in the shared Chromium.
func newBrowser(t *testing.T, exe string) context.Context {
	shared.once.Do(func() {
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(exe),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			// Three fake cameras, so that "Switch camera" has somewhere to
			// switch to: fake_device_0 and fake_device_2 send, fake_device_1
			// is a depth camera (16-bit Y16 frames, which WebRTC cannot send).
			chromedp.Flag("use-fake-device-for-media-stream", "device-count=3"),
			chromedp.Flag("use-fake-ui-for-media-stream", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.UserDataDir(filepath.Join(os.TempDir(), fmt.Sprintf("clinicbox-chromium-%d", os.Getpid()))),
			chromedp.WindowSize(1024, 768),
		}
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
		root, cancelR := chromedp.NewContext(actx)
		shared.root = root
		shared.cancel = func() {
			cancelR()
			cancelA()
			os.RemoveAll(filepath.Join(os.TempDir(), fmt.Sprintf("clinicbox-chromium-%d", os.Getpid())))
		}
		shared.err = chromedp.Do(root)
	})
	if shared.err != nil {
		t.Fatalf("start chromium: %v", shared.err)
	}
	ctx, cancel := chromedp.NewContext(shared.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768)); err != nil {
		t.Fatalf("open a browser context: %v", err)
	}
	return ctx
}

func signIn(base, email, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), password),
		chromedp.Click(chromedp.CSS(`[data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="board"]`)),
	)
}

// TestBrowserLiveBoard: one browser books a patient for today and marks them
// arrived; a second browser's open board moves the card without a reload.
func TestBrowserLiveBoard(t *testing.T) {
	exe := chromium(t)
	ctx := context.Background()
	st := storetest.Open(t)
	org := &store.Org{Name: "Browser Clinic", Slug: "browser"}
	must(t, st.CreateOrg(ctx, org))
	const pw = "a long enough password"
	must(t, st.CreateUser(ctx, org.ID, &store.User{Email: "front@b.example", Name: "Frida Front", Role: store.RoleFrontDesk}, pw))
	must(t, st.CreateUser(ctx, org.ID, &store.User{Email: "doc@b.example", Name: "Dr. Dan", Role: store.RoleClinician}, pw))
	room := &store.WaitingRoom{Name: "Main room", SlotDuration: 900, Timezone: "UTC", Active: true}
	must(t, st.CreateWaitingRoom(ctx, org.ID, room))

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	hctx, stopHub := context.WithCancel(ctx)
	defer stopHub()
	go hub.Run(hctx)
	srv := httptest.NewServer(web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "http://127.0.0.1",
		SessionKeys: [][]byte{[]byte("browser-test-key-0123456789abcdef")}}))
	defer srv.Close()
	defer hub.Close()

	b1 := newBrowser(t, exe)
	b2 := newBrowser(t, exe)
	run(t, b1, "browser 1 signs in", signIn(srv.URL, "front@b.example", pw))
	run(t, b2, "browser 2 signs in", signIn(srv.URL, "doc@b.example", pw))

	// Browser 1: a new patient, then an appointment for now (the form's defaults).
	run(t, b1, "create patient",
		chromedp.Navigate(srv.URL+"/patients/new"),
		chromedp.WaitVisible(chromedp.CSS(`#f-firstName`)),
		chromedp.SendKeys(chromedp.CSS(`#f-firstName`), "Karen"),
		chromedp.SendKeys(chromedp.CSS(`#f-lastName`), "Kristensen"),
		chromedp.Click(chromedp.CSS(`[data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="book-appointment"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="book-appointment"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="picked-patient"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-reasons`), "Check-up"),
		chromedp.Click(chromedp.CSS(`[data-testid="appointment-form"] [data-testid="submit"]`)),
	)
	confirmIfWarned(t, b1) // "now" may be just past or outside the room's hours
	run(t, b1, "booked", chromedp.WaitVisible(chromedp.CSS(`[data-testid="board"]`)))
	appts, _, err := st.Appointments(ctx, org.ID, store.AppointmentFilter{})
	must(t, err)
	if len(appts) != 1 || appts[0].PatientName != "Karen Kristensen" || appts[0].Status != store.StatusScheduled {
		t.Fatalf("appointments after booking: %+v", appts)
	}
	id := appts[0].ID
	card := fmt.Sprintf(`[data-testid="card-%d"]`, id)
	run(t, b1, "browser 1 sees it scheduled", chromedp.WaitVisible(chromedp.CSS(`[data-group="scheduled"] `+card)))

	// Browser 2 shows the board, live, and marks the page so a reload would show.
	run(t, b2, "browser 2 opens the board",
		chromedp.Navigate(srv.URL+"/board"),
		chromedp.WaitVisible(chromedp.CSS(`[data-group="scheduled"] `+card)),
		chromedp.WaitVisible(chromedp.CSS(`[data-live="on"]`)),
	)
	evalBool(t, b2, `window.__noReload = true`)

	run(t, b1, "browser 1 marks arrived",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="act-arrive-%d"]`, id))),
		chromedp.WaitVisible(chromedp.CSS(`[data-group="arrived"] `+card)),
	)
	run(t, b2, "browser 2 sees the card move without reloading",
		chromedp.WaitVisible(chromedp.CSS(`[data-group="arrived"] `+card)),
	)
	if !evalBool(t, b2, `window.__noReload === true`) {
		t.Fatal("browser 2 reloaded the page instead of updating it live")
	}
	if a, _ := st.Appointment(ctx, org.ID, id); a.Status != store.StatusArrived {
		t.Errorf("status in the store: %q", a.Status)
	}
	screenshot(t, b2, "board.png")

	// The patient page with observations from two sources.
	now := time.Now()
	must(t, st.AddObservations(ctx, org.ID, []store.Observation{
		{PatientID: appts[0].PatientID, Source: "serial", Instrument: "Cobas b 101", CodeSystem: "NPU", Code: "NPU27300",
			Display: "HbA1c", Value: "48", Unit: "mmol/mol", ReferenceRange: "20-42", Flags: "H", Status: "final", MeasuredAt: now},
		{PatientID: appts[0].PatientID, Source: "monitoring", CodeSystem: "LOINC", Code: "8480-6",
			Display: "Systolic blood pressure", Value: "128", Unit: "mm[Hg]", Status: "final", MeasuredAt: now.Add(-time.Hour)},
	}))
	run(t, b1, "patient page", chromedp.Navigate(fmt.Sprintf("%s/patients/%d", srv.URL, appts[0].PatientID)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="observations"] table`)))
	screenshot(t, b1, "patient.png")
}

func evalBool(t *testing.T, ctx context.Context, expr string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot saves a PNG of the page when CLINICBOX_SCREENSHOTS names a
// directory (for a person to look at; the test does not judge pixels).
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("CLINICBOX_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.WriteFile(filepath.Join(dir, name), png, 0o644)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
