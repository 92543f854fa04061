package visit

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/i18n"
)

// LinkLifetime is how long after an appointment's planned end its links work.
const LinkLifetime = 24 * time.Hour

// LobbyRefresh is how often the lobby page reloads itself (seconds).
const LobbyRefresh = 10

// Deps is what the visit pages need.
type Deps struct {
	Store     *store.Store
	Log       *slog.Logger
	Video     Video  // the media server; nil: no video calls
	PublicURL string // base of the guest links shown to the provider
}

// Video is the media server's side of a visit link (video.Server).
type Video interface {
	ServeHTTP(http.ResponseWriter, *http.Request)  // GET /visit/{token}/ws: signalling
	ServeICE(http.ResponseWriter, *http.Request)   // GET /visit/{token}/ice: TURN credentials
	ServeProbe(http.ResponseWriter, *http.Request) // POST /visit/{token}/probe: connection check
}

type handler struct {
	store     *store.Store
	log       *slog.Logger
	video     bool
	publicURL string
}

// Handler serves the visit pages.
type Handler struct {
	h     *handler
	video Video
}

// New returns the visit pages.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Handler{h: &handler{store: d.Store, log: d.Log, video: d.Video != nil, publicURL: d.PublicURL}, video: d.Video}
}

// Routes is the pages' route table (httpx.Register serves it). The token in
// the path is the credential: each handler resolves it first.
func (v *Handler) Routes() []httpx.Route {
	h := v.h
	// Patients' pages follow the browser's language (or the switch).
	lang := func(fn http.HandlerFunc) http.HandlerFunc { return i18n.Middleware(fn).ServeHTTP }
	routes := []httpx.Route{
		{Method: "GET", Pattern: "/visit/{token}", Handler: lang(h.page)},
		{Method: "POST", Pattern: "/visit/{token}/checkin", Handler: lang(h.checkIn)},
		{Method: "POST", Pattern: "/visit/{token}/start", Handler: lang(h.start)},
		{Method: "POST", Pattern: "/visit/{token}/complete", Handler: lang(h.complete)},
	}
	if v.video != nil {
		routes = append(routes,
			httpx.Route{Method: "GET", Pattern: "/visit/{token}/ws", Handler: v.video.ServeHTTP},
			httpx.Route{Method: "GET", Pattern: "/visit/{token}/ice", Handler: v.video.ServeICE},
			httpx.Route{Method: "POST", Pattern: "/visit/{token}/probe", Handler: v.video.ServeProbe})
	}
	return routes
}

func itoa(n int) string { return strconv.Itoa(n) }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// patientRefresh: without video the lobby page reloads itself to show when
// the visit starts; with video the call's WebSocket says so (and a reload
// would drop the call).
func patientRefresh(p PatientProps) int {
	if p.Stage == "lobby" && !p.Video {
		return LobbyRefresh
	}
	return 0
}

// videoStage: the stages whose page holds the call.
func videoStage(stage string) bool {
	return stage == "checkin" || stage == "lobby" || stage == "ready"
}

func stageTestID(stage string) string {
	if stage == "ready" {
		return "in-visit"
	}
	return "lobby"
}

func boolAttr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Robots-Tag", "noindex")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		h.log.Error("visit page", "err", err)
	}
}

func (h *handler) message(w http.ResponseWriter, r *http.Request, status int, title, msg, testID string) {
	h.render(w, r, status, MessagePage(MessageProps{Title: title, Message: msg, TestID: testID}))
}

// resolve finds the token's appointment and role, answering the 404 and
// 410 pages itself (ok false).
func (h *handler) resolve(w http.ResponseWriter, r *http.Request) (*store.Appointment, string, bool) {
	token := r.PathValue("token")
	a, role, err := h.store.AppointmentByToken(r.Context(), token)
	if err != nil {
		h.fail(w, r, err)
		return nil, "", false
	}
	if h.store.Now().After(a.End().Add(LinkLifetime)) {
		h.message(w, r, http.StatusGone, i18n.T(r.Context(), "VisitLinkExpiredTitle"), i18n.T(r.Context(), "VisitLinkExpired"), "expired")
		return nil, "", false
	}
	return a, role, true
}

// actorCtx attributes changes made through a link.
func actorCtx(r *http.Request, a *store.Appointment, name string) context.Context {
	return store.WithActor(r.Context(), store.Actor{OrgID: a.OrgID, Name: name, RemoteAddr: httpx.ClientIP(r)})
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	a, role, ok := h.resolve(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	org, err := h.store.Org(ctx, a.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	room, err := h.store.WaitingRoom(ctx, a.OrgID, a.WaitingRoomID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	when := i18n.DateTime(ctx, a.Start.In(room.Location()))
	switch role {
	case "patient":
		h.render(w, r, http.StatusOK, PatientPage(PatientProps{Token: r.PathValue("token"), Clinic: org.Name,
			WaitingRoom: room.Name, When: when, Status: a.Status, Stage: patientStage(a), Video: h.video}))
		return
	case "guest":
		// A guest sees neither the patient's name nor the visit's details.
		h.render(w, r, http.StatusOK, GuestPage(GuestProps{Token: r.PathValue("token"), Clinic: org.Name, When: when,
			Open: a.Open(), Video: h.video}))
		return
	case "provider":
	default:
		h.message(w, r, http.StatusForbidden, i18n.T(r.Context(), "VisitNotAllowedTitle"), i18n.T(r.Context(), "VisitNotAllowed"), "forbidden")
		return
	}
	p, err := h.store.Patient(ctx, a.OrgID, a.PatientID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(actorCtx(r, a, "provider-link"), a.OrgID, "appointment", fmt.Sprint(a.ID), a.PatientID)
	var guestURL string
	if h.video && a.Open() {
		guest, err := h.store.GuestToken(actorCtx(r, a, "provider-link"), a.OrgID, a.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		guestURL = h.publicURL + "/visit/" + guest
	}
	h.render(w, r, http.StatusOK, ProviderPage(ProviderProps{Token: r.PathValue("token"), Clinic: org.Name,
		WaitingRoom: room.Name, When: when, PatientName: p.DisplayName(), BirthDate: p.BirthDate, Reasons: a.Reasons,
		Status: a.Status, CanStart: canStart(a), CanComplete: inProgress(a), Video: h.video, GuestURL: guestURL,
		NoteURL: fmt.Sprintf("/appointments/%d/note", a.ID)}))
}

// patientStage is which patient page an appointment shows.
func patientStage(a *store.Appointment) string {
	switch {
	case a.Status == store.StatusCancelled:
		return "cancelled"
	case !a.Open():
		return "ended"
	case a.Status == store.StatusScheduled:
		return "checkin"
	case inProgress(a):
		return "ready"
	}
	return "lobby"
}

func inProgress(a *store.Appointment) bool {
	return strings.HasSuffix(a.Status, ".progress")
}

func canStart(a *store.Appointment) bool {
	return a.Open() && !inProgress(a)
}

// fail renders err as a patient-facing page with the status
// httpx.Classify gives it.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := httpx.Classify(err)
	switch p.Status {
	case http.StatusNotFound:
		h.message(w, r, p.Status, i18n.T(r.Context(), "VisitLinkNotFoundTitle"), i18n.T(r.Context(), "VisitLinkNotFound"), "not-found")
	case http.StatusForbidden:
		h.message(w, r, p.Status, i18n.T(r.Context(), "VisitNotAllowedTitle"), i18n.T(r.Context(), "VisitNotAllowed"), "forbidden")
	case http.StatusConflict:
		h.message(w, r, p.Status, "Not possible now", cmp.Or(p.Msg, "Please reload the page."), "conflict")
	default:
		h.log.Error("visit page", "err", err)
		h.message(w, r, http.StatusInternalServerError, i18n.T(r.Context(), "VisitErrorTitle"), i18n.T(r.Context(), "VisitError"), "error")
	}
}

// change applies a status change made through a link of the given role and
// sends the browser back to the page.
func (h *handler) change(w http.ResponseWriter, r *http.Request, wantRole, actor string, fn func(*store.Appointment) error) {
	a, role, ok := h.resolve(w, r)
	if !ok {
		return
	}
	if role != wantRole {
		h.fail(w, r, store.ErrForbidden)
		return
	}
	_, err := h.store.UpdateAppointment(actorCtx(r, a, actor), a.OrgID, a.ID, fn)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/visit/"+r.PathValue("token"), http.StatusSeeOther)
}

// checkIn: the patient says they have arrived.
func (h *handler) checkIn(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, "patient", "patient-link", func(a *store.Appointment) error {
		switch {
		case a.Status == store.StatusScheduled:
			a.Status = store.StatusArrived
		case !a.Open():
			return store.Conflict("This appointment can no longer be checked in to.")
		}
		return nil // already checked in: nothing to do
	})
}

// start: the provider starts the visit.
func (h *handler) start(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, "provider", "provider-link", func(a *store.Appointment) error {
		if !canStart(a) {
			return store.Conflict("This visit cannot be started now.")
		}
		a.Status = store.StatusExamProgress
		return nil
	})
}

// complete: the provider completes the visit.
func (h *handler) complete(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, "provider", "provider-link", func(a *store.Appointment) error {
		if !inProgress(a) {
			return store.Conflict("Only a visit in progress can be completed.")
		}
		a.Status = store.StatusCompleted
		return nil
	})
}
