package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Languages the catalogues hold, the default first.
const (
	English = "en"
	Danish  = "da"
)

// Supported lists the languages, default first.
var Supported = []string{English, Danish}

//go:embed locales/*.json
var files embed.FS

var localizers = map[string]*goi18n.Localizer{}

func init() {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, l := range Supported {
		for _, name := range catalogueFiles(l) {
			if _, err := b.LoadMessageFileFS(files, name); err != nil {
				panic(fmt.Sprintf("i18n: %s: %v", name, err))
			}
		}
		localizers[l] = goi18n.NewLocalizer(b, l)
	}
}

// catalogueFiles are lang's message files: locales/<lang>.json and any
// locales/<part>.<lang>.json. A part of the product may keep its words in a
// file of its own so that two changes adding words do not edit one file.
func catalogueFiles(lang string) []string {
	names := []string{"locales/" + lang + ".json"}
	parts, err := fs.Glob(files, "locales/*."+lang+".json")
	if err != nil {
		panic(err)
	}
	return append(names, parts...)
}

type langKey struct{}

// WithLang returns ctx carrying lang (an unknown language is English).
func WithLang(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, langKey{}, Normalize(lang))
}

// Lang is the language in ctx, English when none was set.
func Lang(ctx context.Context) string {
	if l, ok := ctx.Value(langKey{}).(string); ok {
		return l
	}
	return English
}

// Normalize maps a tag such as "da-DK" to a supported language, else English.
func Normalize(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	switch lang {
	case Danish, "dk":
		return Danish
	}
	return English
}

// Supports reports whether lang names a catalogue exactly.
func Supports(lang string) bool { return lang == English || lang == Danish }

// T is the message id in ctx's language; args are name/value pairs for
// the message's {{.Name}} fields.
func T(ctx context.Context, id string, args ...any) string {
	return localize(Lang(ctx), id, nil, args)
}

// N is the plural message id for count n; {{.Count}} is n.
func N(ctx context.Context, id string, n int, args ...any) string {
	return localize(Lang(ctx), id, n, append(args, "Count", n))
}

// In is T for an explicit language (an e-mail in the patient's language).
func In(lang, id string, args ...any) string { return localize(Normalize(lang), id, nil, args) }

func localize(lang, id string, count any, args []any) string {
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			if k, ok := args[i].(string); ok {
				data[k] = args[i+1]
			}
		}
	}
	s, err := localizers[lang].Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil || s == "" {
		return id
	}
	return s
}

// Has reports whether both catalogues hold id.
func Has(id string) bool {
	// A plain message fails to localize with a plural count and a plural
	// one without: either way of asking finds an id that is there.
	for _, l := range Supported {
		_, err := localizers[l].Localize(&goi18n.LocalizeConfig{MessageID: id})
		if err != nil {
			_, err = localizers[l].Localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: 1})
		}
		if err != nil {
			return false
		}
	}
	return true
}

var monthsDA = [...]string{"januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
	"oktober", "november", "december"}
var weekdaysDA = [...]string{"søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"}

// Date is t's calendar day in the local style: "2. december 2026",
// "2 December 2026".
func Date(ctx context.Context, t time.Time) string {
	if Lang(ctx) == Danish {
		return fmt.Sprintf("%d. %s %d", t.Day(), monthsDA[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}

// ShortDate is "2. dec. 2026" / "2 Dec 2026".
func ShortDate(ctx context.Context, t time.Time) string {
	if Lang(ctx) == Danish {
		m := monthsDA[t.Month()-1]
		if len(m) > 4 {
			m = m[:3] + "."
		}
		return fmt.Sprintf("%d. %s %d", t.Day(), m, t.Year())
	}
	return t.Format("2 Jan 2006")
}

// Weekday is the day's name: "onsdag", "Wednesday".
func Weekday(ctx context.Context, d time.Weekday) string {
	if Lang(ctx) == Danish {
		return weekdaysDA[d]
	}
	return d.String()
}

// Time is the clock time: "14.30" in Danish, "14:30" in English.
func Time(ctx context.Context, t time.Time) string {
	if Lang(ctx) == Danish {
		return t.Format("15.04")
	}
	return t.Format("15:04")
}

// DateTime is the weekday, day and time with the zone's abbreviation:
// "onsdag 2. december 2026 kl. 14.30 CET".
func DateTime(ctx context.Context, t time.Time) string {
	zone, _ := t.Zone()
	if Lang(ctx) == Danish {
		return fmt.Sprintf("%s %s kl. %s %s", Weekday(ctx, t.Weekday()), Date(ctx, t), Time(ctx, t), zone)
	}
	return fmt.Sprintf("%s %s, %s %s", t.Weekday(), Date(ctx, t), Time(ctx, t), zone)
}

// DateTimeRange is DateTime with the end time: "onsdag 2. december 2026
// kl. 14.30–14.45 CET".
func DateTimeRange(ctx context.Context, start, end time.Time) string {
	zone, _ := start.Zone()
	if Lang(ctx) == Danish {
		return fmt.Sprintf("%s %s kl. %s–%s %s", Weekday(ctx, start.Weekday()), Date(ctx, start), Time(ctx, start), Time(ctx, end), zone)
	}
	return fmt.Sprintf("%s %s, %s–%s %s", start.Weekday(), Date(ctx, start), Time(ctx, start), Time(ctx, end), zone)
}

// Decimal shows a number as sent with the local decimal mark. Only plain
// numbers change ("7.4" → "7,4" in Danish); anything else is shown
// verbatim. Stored values are never rewritten.
func Decimal(ctx context.Context, s string) string {
	if Lang(ctx) != Danish || strings.Count(s, ".") != 1 {
		return s
	}
	for i, r := range s {
		if (r < '0' || r > '9') && r != '.' && !(i == 0 && (r == '-' || r == '+' || r == '<' || r == '>')) {
			return s
		}
	}
	return strings.Replace(s, ".", ",", 1)
}

// CookieName holds a patient's explicit language choice.
const CookieName = "lang"

// FromRequest is the language a patient page uses: ?lang=, then the
// cookie, then the browser's Accept-Language, else English.
func FromRequest(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); Supports(l) {
		return l
	}
	if c, err := r.Cookie(CookieName); err == nil && Supports(c.Value) {
		return c.Value
	}
	return Negotiate(r.Header.Get("Accept-Language"))
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.Danish})

// Negotiate picks the supported language an Accept-Language header prefers.
func Negotiate(accept string) string {
	if accept == "" {
		return English
	}
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return English
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return English
	}
	return Supported[i]
}

// Middleware puts the patient's language (FromRequest) in the context, and
// remembers an explicit ?lang= choice in a cookie.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := FromRequest(r)
		if q := r.URL.Query().Get("lang"); Supports(q) {
			http.SetCookie(w, &http.Cookie{Name: CookieName, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		w.Header().Add("Vary", "Accept-Language, Cookie")
		next.ServeHTTP(w, r.WithContext(WithLang(r.Context(), lang)))
	})
}
