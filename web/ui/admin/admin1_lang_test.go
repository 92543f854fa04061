package admin

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
)

// TestIntegrationPagesInDanish: the credential, integration and
// organisation pages render in the reader's language, the English words
// gone from the Danish page (the catalogue test only checks that keys exist).
func TestIntegrationPagesInDanish(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	key := store.APIKey{ID: 7, Name: "EPJ", Prefix: "ck_ab", CreatedAt: now}
	tests := []struct {
		name    string
		page    templ.Component
		da, en  []string
		notInDA []string
	}{
		{"api keys", APIKeysPage(APIKeysProps{Keys: []store.APIKey{key}, NewKey: "ck_secret", NewFor: "EPJ"}),
			[]string{"Telehealth-API-nøgler", "Ny nøgle til EPJ", "Tilbagekald", "Sidst brugt", "aldrig", "Opret nøgle"},
			[]string{"Telehealth API keys", "New key for EPJ", "Revoke", "Last used", "never", "Create key"},
			[]string{"Revoke", "Last used", "never", "Create key"}},
		{"api clients", APIClientsPage(APIClientsProps{}),
			[]string{"Ingen API-klienter endnu", "Opret klient"}, []string{"No API clients yet", "Create client"},
			[]string{"No API clients yet", "Create client"}},
		{"instrument clients", InstrumentClientsPage(InstrumentClientsProps{}),
			[]string{"API-klienter til instrumenter", "Navn (leverandør eller software)"},
			[]string{"Instrument API clients", "Name (vendor or software)"}, []string{"vendor"}},
		{"webhooks", WebhooksPage(WebhooksProps{}), []string{"Leveringslog", "Intet leveret endnu"},
			[]string{"Delivery log", "Nothing delivered yet"}, []string{"Delivery log"}},
		{"linking", LinkingPage(LinkingProps{Secret: "s", URL: "/link"}), []string{"Kontekstbevidst linkning", "Udskift hemmelighed"},
			[]string{"Context-aware linking", "Rotate secret"}, []string{"Rotate secret"}},
		{"places", PlacesPage(PlacesProps{Form: map[string]string{}}), []string{"Tilføj plejested", "(ingen)", "Etage", "Venteværelse"},
			[]string{"Add care location", "(none)", "Floor"}, []string{"Add care location", "(none)"}},
		{"organisation", orgPage(OrgProps{Org: &store.Org{Name: "Klinik A"}, Settings: &store.OrgSettings{}}),
			[]string{"Kortnavn (slug)", "1.000 forespørgsler i minuttet", "Gem"},
			[]string{"Short name (slug)", "1,000 requests a minute", "Save"}, []string{"requests a minute"}},
	}
	render := func(t *testing.T, c templ.Component, lang string) string {
		var b bytes.Buffer
		if err := c.Render(i18n.WithLang(context.Background(), lang), &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			da, en := render(t, tt.page, i18n.Danish), render(t, tt.page, i18n.English)
			for _, s := range tt.da {
				if !strings.Contains(da, s) {
					t.Errorf("Danish page lacks %q", s)
				}
			}
			for _, s := range tt.en {
				if !strings.Contains(en, s) {
					t.Errorf("English page lacks %q", s)
				}
			}
			for _, s := range tt.notInDA {
				if strings.Contains(da, s) {
					t.Errorf("Danish page still says %q", s)
				}
			}
		})
	}
}
