package monitoring

import (
	"context"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/web/i18n"
)

// TestStoreText: the store's English wording of billing readiness, alert
// rules and alert messages is shown in the page's language; unknown text
// is shown as the store wrote it.
func TestStoreText(t *testing.T) {
	da := i18n.WithLang(context.Background(), i18n.Danish)
	en := i18n.WithLang(context.Background(), i18n.English)
	tests := []struct {
		ctx      context.Context
		in, want string
	}{
		{da, "9 more days of readings", "9 dage mere med målinger"},
		{da, "1 more day of readings", "1 dag mere med målinger"},
		{da, "6 more minutes", "6 minutter mere"},
		{da, "6 more minutes and an interactive communication with the patient", "6 minutter mere og en interaktiv samtale med patienten"},
		{da, "not billed with 99454", "afregnes ikke sammen med 99454"},
		{da, "billed once per episode, in 2026-11", "afregnes én gang pr. forløb, i november 2026"},
		{da, "No reading for 3 days", "Ingen måling i 3 døgn"},
		{da, "Reading rule met: bp_systolic > 180 twice within 1 day", "Målingsregel opfyldt: bp_systolic > 180 to gange inden for 1 døgn"},
		{da, "spo2 < 88.5 once within 1 h", "spo2 < 88,5 én gang inden for 1 time"},
		{da, "something new from the store", "something new from the store"},
		{en, "9 more days of readings", "9 more days of readings"},
		{en, "6 more minutes and an interactive communication with the patient", "6 more minutes and an interactive communication with the patient"},
		{en, "No reading for 3 days", "No reading for 3 days"},
	}
	for _, tt := range tests {
		if got := storeText(tt.ctx, tt.in); got != tt.want {
			t.Errorf("%s: storeText(%q) = %q, want %q", i18n.Lang(tt.ctx), tt.in, got, tt.want)
		}
	}
}

func TestLocalFormats(t *testing.T) {
	da := i18n.WithLang(context.Background(), i18n.Danish)
	en := i18n.WithLang(context.Background(), i18n.English)
	at := time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC)
	tests := []struct{ got, want string }{
		{shortWhen(da, at), "2. dec. 14.30"},
		{shortWhen(en, at), "2 Dec 14:30"},
		{monthName(da, "2026-12"), "december 2026"},
		{monthName(en, "2026-12"), "December 2026"},
		{monthName(da, "bad"), "bad"},
		{localDate(da, "2026-12-02"), "2. december 2026"},
		{ago(da, at, at.Add(-90*time.Minute)), "for 1 t. siden"},
		{ago(en, at, at.Add(-5*time.Minute)), "5 min ago"},
		{severity(da, "CRITICAL"), "kritisk"},
		{severity(da, "NEW"), "NEW"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
