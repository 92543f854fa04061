package admin

import (
	"net/http"
	"net/url"

	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

type videoCheckProps struct {
	Page                             layout.PageProps
	Running                          bool
	Media, TURNUDP, TURNTCP, TURNTLS int
	Host                             string
	Trusted                          bool
	TrustProblem                     string
}

// videoCheckPage is the admin's self-test: from this browser, can the media
// port and each TURN transport be reached? Run it from a phone on mobile
// data to see what a patient outside the clinic meets.
func (h *handlers) videoCheckPage(w http.ResponseWriter, r *http.Request) {
	p := videoCheckProps{Page: h.props(w, r, i18n.T(r.Context(), "VideoCheckTitle"), layout.NavAdmin), Trusted: true}
	p.Page.Scripts = append(p.Page.Scripts, "/assets/selftest.js")
	if u, err := url.Parse(h.publicURL); err == nil {
		p.Host = u.Hostname()
	}
	if h.video != nil {
		p.Running = true
		p.Media, p.TURNUDP, p.TURNTCP, p.TURNTLS = h.video.Ports()
	}
	if h.tlsTrust != nil {
		p.Trusted, p.TrustProblem = h.tlsTrust()
	}
	h.render(w, r, http.StatusOK, videoCheckPage(p))
}

func (h *handlers) videoCheckICE(w http.ResponseWriter, r *http.Request) {
	if h.video == nil {
		http.Error(w, i18n.T(r.Context(), "PlainVideoOff"), http.StatusServiceUnavailable)
		return
	}
	h.video.ServeCheckICE(w, r)
}

func (h *handlers) videoCheckProbe(w http.ResponseWriter, r *http.Request) {
	if h.video == nil {
		http.Error(w, i18n.T(r.Context(), "PlainVideoOff"), http.StatusServiceUnavailable)
		return
	}
	h.video.Probe(w, r)
}

// certWarning is the admin pages' warning when patient links would meet a
// certificate their phones do not trust ("" when all is well).
func (h *handlers) certWarning() string {
	if h.tlsTrust == nil {
		return ""
	}
	if ok, why := h.tlsTrust(); !ok {
		return why
	}
	return ""
}
