package browsertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// StepTimeout bounds one step (a navigation and the waits after it). A
// step that works takes well under a second on an idle machine; on a CI
// machine with other packages' tests and browsers running beside it,
// several seconds. A broken step still fails, only later.
const StepTimeout = 60 * time.Second

// Chromium returns the browser's path, or skips the test with a clear
// message; with CLINICBOX_REQUIRE_BROWSER=1 (set by .ci/run) it fails.
func Chromium(t testing.TB) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CLINICBOX_REQUIRE_BROWSER") == "1" {
		t.Fatal("chromium not found and CLINICBOX_REQUIRE_BROWSER=1: install chromium (apt-get install chromium)")
	}
	t.Skip("chromium not found: skipping the browser test (set CLINICBOX_REQUIRE_BROWSER=1 to make this fail)")
	return ""
}

// Run performs one step's actions within StepTimeout. On failure it
// reports what the step was and where the page was: its address, its load
// state and the start of its visible text, so a failure in CI can be read
// without re-running it.
func Run(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	err := chromedp.Do(sctx, actions...)
	if err == nil {
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.New("not done within " + StepTimeout.String())
	}
	t.Fatalf("%s: %v\n%s", what, err, Where(ctx))
}

// Where describes the page in ctx for a failure message.
func Where(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
  const calls = Array.from(document.querySelectorAll("[data-call]")).map(e => e.getAttribute("data-call"));
  const text = (document.body ? document.body.innerText : "").replace(/\s+/g, " ").slice(0, 400);
  return "page: " + location.href + " (" + document.readyState + ")" +
    (calls.length ? " data-call=" + calls.join(",") : "") + "\ntext: " + text;
})()`))
	if err != nil {
		return "page: unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(s)
}

// Laptop starts a headless Chromium of its own (a fresh profile, no
// background networking) with a 1366×900 window, a laptop's screen, closed
// when the test ends. The context is bounded by limit, the whole test's
// budget for the browser.
func Laptop(t testing.TB, limit time.Duration) context.Context {
	t.Helper()
	exe := Chromium(t)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 900))
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(ctx, limit)
	t.Cleanup(func() { cancel(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
