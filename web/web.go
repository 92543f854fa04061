package web

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/clinicbox/clinicbox/assets"
	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/api/events"
	"github.com/clinicbox/clinicbox/web/api/instrument"
	"github.com/clinicbox/clinicbox/web/api/kv"
	"github.com/clinicbox/clinicbox/web/api/monitoring"
	"github.com/clinicbox/clinicbox/web/api/poct"
	"github.com/clinicbox/clinicbox/web/api/reports"
	"github.com/clinicbox/clinicbox/web/api/telehealth"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/fhir"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/live"
	"github.com/clinicbox/clinicbox/web/ui"
	"github.com/clinicbox/clinicbox/web/ui/admin"
	uimonitoring "github.com/clinicbox/clinicbox/web/ui/monitoring"
	"github.com/clinicbox/clinicbox/web/ui/notes"
	"github.com/clinicbox/clinicbox/web/ui/station"
	"github.com/clinicbox/clinicbox/web/visit"
)

// Deps is what the HTTP layer needs from the rest of the appliance.
type Deps struct {
	Store         *store.Store
	Log           *slog.Logger
	Live          *live.Hub
	PublicURL     string   // base of every link the appliance prints or returns
	SessionKeys   [][]byte // cookie signing keys, newest first
	SecureCookies bool     // false only when serving plain HTTP directly
	Version       string
	Reports       telehealth.ReportJobs // encounter-report jobs (reports.Jobs); nil answers 503
	Devices       *devices.Manager      // the instrument ports; nil: pages show devices as not running
	APICacheBytes int                   // memory for cached API answers (--cache-mb), split as caches.go says; 0: none
	Video         VideoServer           // the media server (video.Server); nil: no video calls
	PDFs          notes.PDFs            // printed documents (reports.PDF); nil: the PDF addresses answer 503
	// TLSTrust says whether patients' phones trust the certificate behind
	// the public URL, and why not (the admin pages warn); nil: not checked.
	TLSTrust func() (bool, string)
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (--trusted-proxies); empty: the direct peer is the client.
	TrustedProxies []netip.Prefix
}

// VideoServer is the media server as the pages use it.
type VideoServer interface {
	visit.Video
	admin.VideoCheck
}

// New builds the appliance's HTTP handler.
func New(d Deps) http.Handler {
	h, _ := Build(d)
	return h
}

// Build is New that also returns every route the handler serves, face by
// face: the attack suite (web/attack) walks this list, so a route added to
// a face's table is attacked without touching the suite.
func Build(d Deps) (http.Handler, []httpx.Route) {
	mux := http.NewServeMux()
	static := http.StripPrefix("/assets/", http.FileServerFS(assets.Static))
	all := []httpx.Route{
		{Method: "GET", Pattern: "/healthz", Public: true, Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("ok\n"))
		}},
		{Method: "GET", Pattern: "/readyz", Public: true, Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			if err := d.Store.Ready(r.Context()); err != nil {
				d.Log.Warn("not ready", "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("not ready\n"))
				return
			}
			w.Write([]byte("ready\n"))
		}},
		{Method: "GET", Pattern: "/assets/", Public: true, Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=3600")
			static.ServeHTTP(w, r)
		}},
	}

	// Sign-in failures back off per account (after 5 in a row) and per
	// client address (after 20): waits double from 1 s up to a minute, so
	// guessing is slow and nobody is walled out for a quarter of an hour.
	limiter := auth.NewBackoff(5, time.Second, time.Minute, 15*time.Minute)
	limiter.AddressFree = 20
	limiter.Now = d.Store.Now
	a := &auth.Auth{
		Store:    d.Store,
		Sessions: auth.NewSessionStore(d.Store, d.SecureCookies, d.SessionKeys...),
		Limiter:  limiter,
	}
	oauth := &auth.OAuth{Store: d.Store}
	var vcheck admin.VideoCheck
	var vvisit visit.Video
	if d.Video != nil { // a nil interface, not a typed nil, for the pages
		vcheck, vvisit = d.Video, d.Video
	}
	caches := splitCache(d.APICacheBytes)
	// Large uploads (instrument results, POCT documents, attachments) are
	// read four at a time across all faces; others wait up to 30 s, then
	// get 503 with Retry-After.
	uploads := httpx.NewUploadGate(MaxUploads, 30*time.Second, d.Log)
	for _, routes := range [][]httpx.Route{
		ui.New(ui.Deps{Store: d.Store, Auth: a, Live: d.Live, Log: d.Log, PublicURL: d.PublicURL, Version: d.Version,
			Notes: noteSection{d.Store}}).Routes(),
		admin.New(admin.Deps{Store: d.Store, Auth: a, Live: d.Live, Log: d.Log, PublicURL: d.PublicURL, Devices: adminDevices{d.Devices, d.Store},
			Video: vcheck, TLSTrust: d.TLSTrust}).Routes(),
		telehealth.New(telehealth.Deps{Store: d.Store, Log: d.Log, PublicURL: d.PublicURL, Reports: d.Reports, Cache: caches.telehealth, Uploads: uploads}).Routes(),
		visit.New(visit.Deps{Store: d.Store, Log: d.Log, Video: vvisit, PublicURL: d.PublicURL}).Routes(),
		instrument.New(instrument.Deps{Store: d.Store, Log: d.Log, Uploads: uploads}).Routes(),
		poct.New(poct.Deps{Store: d.Store, Log: d.Log, RequireTLS: d.SecureCookies, Uploads: uploads}).Routes(),
		monitoring.New(monitoring.Deps{Store: d.Store, Log: d.Log, SigningKey: firstKey(d.SessionKeys)}).Routes(),
		station.New(station.Deps{Store: d.Store, Auth: a, Live: d.Live, Log: d.Log}).Routes(),
		notes.New(notes.Deps{Store: d.Store, Auth: a, PDFs: d.PDFs, Log: d.Log}).Routes(),
		fhir.New(fhir.Deps{Store: d.Store, OAuth: oauth, Log: d.Log, PublicURL: d.PublicURL, Version: d.Version, Cache: caches.fhir}).Routes(),
		kv.New(kv.Deps{Store: d.Store, OAuth: oauth, Log: d.Log}).Routes(),
		events.New(events.Deps{Store: d.Store, OAuth: oauth, Log: d.Log}).Routes(),
		reports.New(reports.Deps{Store: d.Store, OAuth: oauth, Log: d.Log}).Routes(),
		uimonitoring.New(uimonitoring.Deps{Store: d.Store, Auth: a, Live: d.Live, Log: d.Log}).Routes(),
	} {
		all = append(all, routes...)
	}
	httpx.Register(mux, all)

	// Browsers may only change state from our own pages. API clients do not
	// use cookies, so their routes need no such check.
	cop := http.NewCrossOriginProtection()
	for _, p := range []string{"/qapi/", "/api/", "/fhir/", "/integrations/"} {
		cop.AddInsecureBypassPattern(p)
	}
	bodies := bodyDeadlines(d.Log)
	return forwardedFor(d.TrustedProxies, httpx.Log(d.Log, securityHeaders(cookieFlags(d.SecureCookies, bodies.Wrap(cop.Handler(mux)))))), all
}

// bodyDeadlines are the request bodies' read deadlines: 10 s for sign-in
// and token routes (a few hundred bytes), 5 minutes for uploads (48 MB over
// a slow clinic uplink), a minute for everything else.
func bodyDeadlines(log *slog.Logger) httpx.BodyDeadlines {
	return httpx.BodyDeadlines{Short: 10 * time.Second, Upload: 5 * time.Minute, Default: 60 * time.Second, Log: log,
		ShortPaths: []string{"/signin", "/signin/code", "/api/v1/integrationAuth", "/fhir/R4/auth/token",
			"/api/auth/login", "/api/auth/mfa/verify", "/api/auth/refresh"},
		UploadSuffixes: []string{"/instrumentResults", "/attachments", "/documents"}}
}

// MaxUploads is how many large uploads (bodies of 1 MiB or more) are read
// at once across every face.
const MaxUploads = 4

func firstKey(keys [][]byte) []byte {
	if len(keys) == 0 {
		return nil
	}
	return keys[0]
}
