package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/live"
)

// TestBrowserAPIClients: an admin issues a FHIR API client in the admin
// pages and sees its id and secret once.
func TestBrowserAPIClients(t *testing.T) {
	exe := chromium(t)
	ctx := context.Background()
	st := storetest.Open(t)
	org := &store.Org{Name: "Browser Clinic", Slug: "browser"}
	must(t, st.CreateOrg(ctx, org))
	const pw = "a long enough password"
	must(t, st.CreateUser(ctx, org.ID, &store.User{Email: "admin@b.example", Name: "Ada Admin", Role: store.RoleAdmin}, pw))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	hctx, stopHub := context.WithCancel(ctx)
	defer stopHub()
	go hub.Run(hctx)
	srv := httptest.NewServer(web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "http://127.0.0.1",
		SessionKeys: [][]byte{[]byte("browser-test-key-0123456789abcdef")}}))
	defer srv.Close()
	defer hub.Close()

	b := newBrowser(t, exe)
	run(t, b, "sign in", signIn(srv.URL, "admin@b.example", pw))
	run(t, b, "issue a client",
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/integrations/api-clients"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/admin/integrations/api-clients"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="create-client-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Regional EHR"),
		chromedp.Clear(chromedp.CSS(`#f-scope`)),
		chromedp.SendKeys(chromedp.CSS(`#f-scope`), "system/*.read events.read"),
		chromedp.Click(chromedp.CSS(`[data-testid="create-client-form"] [data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-client"]`)),
	)
	shown, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`[data-testid="new-client"]`)))
	must(t, err)
	screenshot(t, b, "api-clients.png")
	id, rest, _ := strings.Cut(strings.TrimPrefix(shown, "clientID="), "\n")
	secret := strings.TrimPrefix(rest, "clientSecret=")
	_, g, err := st.IssueOAuthToken(ctx, id, secret, nil)
	if err != nil || strings.Join(g.Scopes, " ") != "system/*.read events.read" {
		t.Fatalf("the credentials shown (%q) do not work: %v", shown, err)
	}
}
