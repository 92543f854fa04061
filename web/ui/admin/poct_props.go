package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// TokensProps is the POCT overview page with its API tokens.
type TokensProps struct {
	Page     layout.PageProps
	Tokens   []store.PoctToken
	Name     layout.Field
	NewToken string // shown this once
	NewFor   string
}

// FleetProps is the fleet page.
type FleetProps struct {
	Page      layout.PageProps
	Devices   []store.FleetDevice
	Orgs      int
	Connected int
	Down      int
	QCFailed  int
	Now       time.Time
}

// QCSeries is one control series on the QC page.
type QCSeries struct {
	Control store.QCControl
	Target  *store.QCTarget
	Title   string
	Chart   string // SVG
	Recent  []store.QCRunRecord
}

// QCProps is the QC page.
type QCProps struct {
	Page    layout.PageProps
	Series  []QCSeries
	Devices []store.Device
	Errors  layout.Errors
	Form    map[string]string
}

// LISProps is the LIS page.
type LISProps struct {
	Page         layout.PageProps
	Destinations []store.LISDestination
	Messages     []store.LISMessage
	Map          *store.CodeMap
	MapText      string
	Versions     []store.CodeMap
	Errors       layout.Errors
	Form         map[string]string
}

// PoctWebhooksProps is the webhook delivery log.
type PoctWebhooksProps struct {
	Page       layout.PageProps
	Webhooks   []store.PoctWebhook
	Deliveries []store.PoctDelivery
}

// whenExact is a time to the second, in the server's zone; "never" in
// the reader's language for none.
func whenExact(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return i18n.T(ctx, "Never")
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// ago is a short age ("2 min ago", "for 2 min. siden") relative to now.
func ago(ctx context.Context, t, now time.Time) string {
	if t.IsZero() {
		return i18n.T(ctx, "Never")
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return i18n.T(ctx, "MonJustNow")
	case d < time.Hour:
		return i18n.T(ctx, "MonMinutesAgo", "N", int(d.Minutes()))
	case d < 48*time.Hour:
		return i18n.T(ctx, "MonHoursAgo", "N", int(d.Hours()))
	}
	return t.Local().Format("2006-01-02")
}

// stateWord is a device's connection state (store.DeviceConnected, ...)
// in the reader's language; the badge's class and data-state keep the code.
func stateWord(ctx context.Context, state string) string {
	return word(ctx, "DevState.", state)
}

// qcWord is a QC state or a QC run's status in the reader's language.
func qcWord(ctx context.Context, status string) string {
	return word(ctx, "QCState.", status)
}

// parityOptions are the serial parities with their names in the reader's
// language (the value stays the store's code).
func parityOptions(ctx context.Context) []layout.Option {
	out := make([]layout.Option, len(store.Parities))
	for i, v := range store.Parities {
		out[i] = layout.Option{Value: v, Label: word(ctx, "Parity.", v)}
	}
	return out
}

// word is the catalogue's word for a code, or the code itself when it has
// none (a state a newer store wrote is shown, not hidden).
func word(ctx context.Context, prefix, code string) string {
	if code == "" {
		return ""
	}
	if id := prefix + code; i18n.Has(id) {
		return i18n.T(ctx, id)
	}
	return code
}

// stateClass is the badge class of a connection state.
func stateClass(s string) string {
	switch s {
	case store.DeviceConnected:
		return "badge badge-done"
	case store.DeviceError:
		return "badge badge-error"
	case store.DeviceDisconnected:
		return "badge badge-arrived"
	}
	return "badge badge-cancelled"
}

func qcClass(s string) string {
	switch s {
	case "ok", store.QCAccepted:
		return "badge badge-done"
	case store.QCWarning:
		return "badge badge-arrived"
	case "failed", store.QCRejected:
		return "badge badge-error"
	}
	return "badge badge-cancelled"
}

func lisClass(s string) string {
	switch s {
	case store.LISAcked, store.DeliveryDelivered:
		return "badge badge-done"
	case store.LISPending:
		return "badge badge-arrived"
	}
	return "badge badge-error"
}

func sdi(z *float64) string {
	if z == nil {
		return "–"
	}
	return fmt.Sprintf("%+.2f", *z)
}

func rules(r []string) string {
	if len(r) == 0 {
		return "–"
	}
	return strings.Join(r, ", ")
}

func float(v float64) string { return trimFloat(v) }

func (p QCProps) val(k string) string  { return p.Form[k] }
func (p LISProps) val(k string) string { return p.Form[k] }

func (p QCProps) field(name, label, hint string, required bool) layout.Field {
	return layout.Field{Name: name, Label: label, Hint: hint, Required: required, Value: p.Form[name], Error: p.Errors[name]}
}

func (p LISProps) field(name, label, hint string, required bool) layout.Field {
	return layout.Field{Name: name, Label: label, Hint: hint, Required: required, Value: p.Form[name], Error: p.Errors[name]}
}

func deviceOptions(ctx context.Context, ds []store.Device) []layout.Option {
	out := []layout.Option{{Value: "", Label: i18n.T(ctx, "QCChooseDevice")}}
	for _, d := range ds {
		out = append(out, layout.Option{Value: itoa(d.ID), Label: d.Name})
	}
	return out
}

// firstLine is the first segment of a stored HL7 message, for the log.
func controlSummary(ctx context.Context, m store.LISMessage) string {
	return m.Kind + " · " + i18n.T(ctx, "DevResultsN", "N", m.Observations)
}

func hl7Text(b []byte) string { return strings.ReplaceAll(string(b), "\r", "\n") }

func crumbs(ctx context.Context, here string) []layout.Crumb {
	return []layout.Crumb{{Label: i18n.T(ctx, "AdminTitle"), Href: "/admin"}, {Label: i18n.T(ctx, "PoctNavLabel"), Href: "/admin/poct"}, {Label: here}}
}

// poctPageProps is the frame of a point-of-care page.
func poctPageProps(w http.ResponseWriter, r *http.Request, title string) layout.PageProps {
	return layout.PageProps{Title: title, User: auth.UserFrom(r.Context()), Active: layout.NavAdmin,
		Flash: layout.TakeFlash(w, r), Crumbs: crumbs(r.Context(), title)}
}
