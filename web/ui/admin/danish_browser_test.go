package admin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/web/internal/browsertest"
)

// TestBrowserDanishFormErrorAndFleet: a Danish admin submits the device
// form with a name already taken and reads the refusal in Danish next to
// the name; the fleet page names the devices' states in Danish; a form
// over the size limit is refused in Danish on the error page. At a
// laptop size; with CLINICBOX_UPDATE_SCREENSHOTS=1 the pictures are written
// to docs/screenshots (committed), else to a temporary folder.
func TestBrowserDanishFormErrorAndFleet(t *testing.T) {
	s := newSite(t)
	must(t, s.st.SetUserLanguage(context.Background(), s.north.ID, s.distributor.ID, "da"))
	dir := t.TempDir()
	if os.Getenv("CLINICBOX_UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "..", "docs", "screenshots")
	}
	ctx := browsertest.Laptop(t, 90*time.Second)
	base := s.srv.URL
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1366, 900),
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), s.distributor.Email),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), pw),
		chromedp.Click(chromedp.CSS(`[data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="board"]`)),
		chromedp.Navigate(base+"/admin/devices"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="device-form"] [name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="device-form"] [name="name"]`), "Afinion 2"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="device-form"] [name="port_path"]`), "/dev/ttyUSB9"),
		chromedp.Click(chromedp.CSS(`[data-testid="device-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-name"]`)),
		chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="error-name"]`)),
	); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="error-name"]`)))
	if err != nil || msg != `navnet "Afinion 2" er allerede i brug (enhed)` {
		t.Errorf("the name's refusal reads %q (%v)", msg, err)
	}
	parity, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[name="parity"] option:checked').textContent`))
	if err != nil || parity != "ingen" {
		t.Errorf("the parity reads %q (%v), want ingen", parity, err)
	}
	shot("admin-device-error-da-laptop")

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/poct/fleet"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="fleet"]`))); err != nil {
		t.Fatal(err)
	}
	qc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="fleet"] [data-testid="qc"]')).map(e => e.textContent).sort().join(",")`))
	if err != nil || qc != "fejlet,ingen,ingen,ingen" {
		t.Errorf("the fleet's QC states read %q (%v), want fejlet,ingen,ingen,ingen", qc, err)
	}
	states, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="fleet"] [data-testid="state"]')).map(e => e.textContent).sort().join(",")`))
	if err != nil || states != "afbrudt,fejl,forbundet,forbundet" {
		t.Errorf("the fleet's states read %q (%v), want afbrudt,fejl,forbundet,forbundet", states, err)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`))); strings.Contains(body, "never") || strings.Contains(body, "connected") || strings.Contains(body, "none") {
		t.Errorf("the Danish fleet page has English words:\n%s", body)
	}
	// The whole table fits a laptop's width: no sideways scrolling to
	// reach the last error.
	over, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const w = document.querySelector('[data-testid="fleet"]').closest('.table-wrap'); return w.scrollWidth > w.clientWidth + 1; })()`))
	if err != nil || over {
		t.Errorf("the fleet table scrolls sideways at 1366 px (%v)", err)
	}
	shot("admin-fleet-da-laptop")

	// A form over the pages' limit (256 KB), as a long paste would make
	// it, is refused on the error page in the reader's words.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/devices"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="device-form"] [name="name"]`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const f = document.querySelector('[data-testid="device-form"]');
		const pad = document.createElement('textarea'); pad.name = 'name'; pad.value = 'x'.repeat(300000);
		f.appendChild(pad); f.submit(); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-page"]`))); err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="error-page"]`)))
	if err != nil || !strings.Contains(page, "Formularen er for stor: der kan højst sendes 256 KB ad gangen") || strings.Contains(page, "bytes") {
		t.Errorf("the oversized form's refusal reads %q (%v)", page, err)
	}
	shot("form-too-large-da-laptop")
}
