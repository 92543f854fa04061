package admin_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/store"
)

func chromium(t *testing.T) string {
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

// TestBrowserFleetAndQC: the fleet page follows a device that drops off
// without a reload, and the QC page draws its Levey-Jennings charts.
// Screenshots go to $CLINICBOX_SCREENSHOTS when set.
func TestBrowserFleetAndQC(t *testing.T) {
	exe := chromium(t)
	s := newSite(t)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 900))
	defer cancelA()
	ctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	shots := os.Getenv("CLINICBOX_SCREENSHOTS")
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := s.srv.URL
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "dist@north.example"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), pw),
		chromedp.Click(chromedp.CSS(`[data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="board"]`)),
		chromedp.Navigate(base+"/admin/poct/fleet"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="fleet"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#fleet-live[data-live="on"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The i-STAT drops off while the page is open.
	if err := s.st.SetDeviceState(context.Background(), s.north.ID, s.devs[2].ID, store.DeviceDisconnected, "", "connection reset by peer"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="device-`+s.devs[2].UUID+`"][data-state="disconnected"]`))); err != nil {
		t.Fatalf("the fleet page did not follow the device: %v", err)
	}
	shot("poct-fleet.png")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/poct/qc"),
		chromedp.WaitVisible(chromedp.CSS(`svg.lj-chart circle[data-status="rejected"]`))); err != nil {
		t.Fatal(err)
	}
	shot("poct-qc.png")
	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("svg.lj-chart").getBoundingClientRect().width`))
	if err != nil {
		t.Fatal(err)
	}
	if width < 400 {
		t.Errorf("the chart is %.0f px wide", width)
	}
}
