package admin_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/internal/browsertest"
)

// TestBrowserFleetAndQC: the fleet page follows a device that drops off
// without a reload, and the QC page draws its Levey-Jennings charts.
// Screenshots go to $CLINICBOX_SCREENSHOTS when set.
func TestBrowserFleetAndQC(t *testing.T) {
	s := newSite(t)
	ctx := browsertest.Laptop(t, 60*time.Second)
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
