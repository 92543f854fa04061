package admin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/web/internal/browsertest"
)

// TestBrowserCredentialAndDevicePages: an admin creates a telehealth API
// key and sees it once in its panel; the key table, the fleet access page
// and the device form render in the admin pages' style, at a laptop and a
// phone size, without sideways scrolling. With CLINICBOX_UPDATE_SCREENSHOTS=1
// the pictures are written to docs/screenshots (committed), else to a
// temporary folder.
func TestBrowserCredentialAndDevicePages(t *testing.T) {
	s := newSite(t)
	dir := t.TempDir()
	if os.Getenv("CLINICBOX_UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "..", "docs", "screenshots")
	}
	ctx := browsertest.Laptop(t, 90*time.Second)
	base := s.srv.URL
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "admin@north.example"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), pw),
		chromedp.Click(chromedp.CSS(`[data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="board"]`)),
		chromedp.Navigate(base+"/admin/integrations/api-keys"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="key-name"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="key-name"]`), "EHR bridge"),
		chromedp.Click(chromedp.CSS(`[data-testid="create-key-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-key-box"]`)),
	); err != nil {
		t.Fatal(err)
	}
	key, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="new-key"]`)))
	if err != nil || len(key) < 20 {
		t.Fatalf("the new key is not shown: %q %v", key, err)
	}
	// The key is copied whole: it wraps inside its panel, never past it.
	if over, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const k = document.querySelector('[data-testid="new-key"]');
		return k.scrollWidth > k.clientWidth + 1 })()`)); err != nil || over {
		t.Errorf("the key overflows its panel: %v %v", over, err)
	}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"laptop", 1366, 900}, {"phone", 390, 844}} {
		for _, pg := range []struct{ name, path, ready string }{
			{"admin-api-keys", "/admin/integrations/api-keys", `[data-testid="keys"]`},
			{"admin-devices", "/admin/devices", `[data-testid="device-form"] fieldset`},
			{"admin-device-edit", fmt.Sprintf("/admin/devices/%d", s.devs[0].ID), `[data-testid="device-form"]`},
			{"admin-fleet-access", "/admin/poct/access", `[data-testid="grant-form"]`},
		} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h), chromedp.Navigate(base+pg.path),
				chromedp.WaitVisible(chromedp.CSS(pg.ready))); err != nil {
				t.Fatalf("%s %s: %v", pg.name, size.name, err)
			}
			// The device form is not a tall column of full-width fields: on
			// a laptop its serial-line settings share one row.
			if pg.name == "admin-devices" && size.name == "laptop" {
				same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
					const top = n => document.querySelector('[name="' + n + '"]').getBoundingClientRect().top;
					return Math.abs(top("baud") - top("stop_bits")) < 2 })()`))
				if err != nil || !same {
					t.Errorf("the serial settings are not on one row: %v %v", same, err)
				}
			}
			// What sticks out past the window (outside a scrolling table).
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
				if (document.documentElement.scrollWidth <= window.innerWidth + 1) return "";
				const out = [];
				for (const el of document.querySelectorAll("body *")) {
					if (el.closest(".table-wrap")) continue;
					const r = el.getBoundingClientRect();
					if (r.right > window.innerWidth + 1) out.push(el.tagName.toLowerCase() + "." + el.className + " " + Math.round(r.right));
				}
				return out.slice(0, 8).join(", ") || "?" })()`))
			if err != nil || wide != "" {
				t.Errorf("%s %s scrolls sideways: %s %v", pg.name, size.name, wide, err)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, pg.name+"-"+size.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
