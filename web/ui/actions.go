package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// Destructive actions (cancel, no-show, sign out everywhere) take two
// steps: the first request shows what will happen and asks; only a form
// posted with confirm=yes does it. Both steps are plain HTML, so they work
// without JavaScript.

type confirmProps struct {
	Page     layout.PageProps
	Title    string
	Question string
	Action   string // where the confirming form posts
	Fields   []layout.KV
	Confirm  string // the confirming button's label
	Back     string
	Reason   bool // ask for an optional reason
	TestID   string
}

func confirmed(r *http.Request) bool { return r.PostForm.Get("confirm") == "yes" }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// confirmAction asks before a cancel or no-show (GET, so a link can lead
// here).
func (h *handlers) confirmAction(w http.ResponseWriter, r *http.Request) {
	h.askStatus(w, r, r.URL.Query().Get("action"), localPath(r.URL.Query().Get("back"), "/board"))
}

func (h *handlers) askStatus(w http.ResponseWriter, r *http.Request, action, back string) {
	ctx := r.Context()
	orgID := user(r).OrgID
	a, err := h.st.Appointment(ctx, orgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pat, err := h.st.Patient(ctx, orgID, a.PatientID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	room, err := h.st.WaitingRoom(ctx, orgID, a.WaitingRoomID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	when := i18n.DateTime(ctx, a.Start.In(room.Location()))
	p := confirmProps{Back: back, Reason: true, Fields: []layout.KV{{Name: "back", Value: back}, {Name: "confirm", Value: "yes"}}}
	if action == "noshow" {
		p.Title = i18n.T(ctx, "ConfirmNoShowTitle")
		p.Question = i18n.T(ctx, "ConfirmNoShow", "Name", pat.DisplayName(), "When", when)
		p.Action = "/appointments/" + itoa(a.ID) + "/status"
		p.Fields = append(p.Fields, layout.KV{Name: "status", Value: store.StatusNoShow})
		p.Confirm = i18n.T(ctx, "ConfirmNoShowButton")
		p.TestID = "confirm-noshow"
	} else {
		p.Title = i18n.T(ctx, "ConfirmCancelTitle")
		p.Question = i18n.T(ctx, "ConfirmCancel", "Name", pat.DisplayName(), "When", when)
		p.Action = "/appointments/" + itoa(a.ID) + "/cancel"
		p.Confirm = i18n.T(ctx, "ConfirmCancelButton")
		p.TestID = "confirm-cancel"
	}
	p.Page = h.props(w, r, p.Title, layout.NavAppointments)
	h.render(w, r, http.StatusOK, confirmPage(p))
}

func (h *handlers) cancelAppointment(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	if !confirmed(r) {
		h.askStatus(w, r, "cancel", localPath(r.PostForm.Get("back"), "/board"))
		return
	}
	h.changeStatus(w, r, store.StatusCancelled, text.T(r.Context()).AppointmentCancelled)
}

func (h *handlers) setAppointmentStatus(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	st := r.PostForm.Get("status")
	if !slices.Contains(store.AppointmentStatuses, st) {
		layout.SetFlash(w, layout.FlashError, text.T(r.Context()).Status+": "+st+"?")
		redirect(w, r, localPath(r.PostForm.Get("back"), "/board"))
		return
	}
	if (st == store.StatusNoShow || st == store.StatusCancelled) && !confirmed(r) {
		action := "cancel"
		if st == store.StatusNoShow {
			action = "noshow"
		}
		h.askStatus(w, r, action, localPath(r.PostForm.Get("back"), "/board"))
		return
	}
	h.changeStatus(w, r, st, text.T(r.Context()).StatusChanged)
}

// changeStatus moves an appointment to status and returns to the page the
// action came from, at the card that changed (#card-ID keeps the place
// without JavaScript). A script's request (fragment) gets 204 and
// refreshes the board itself.
func (h *handlers) changeStatus(w http.ResponseWriter, r *http.Request, status, done string) {
	back := localPath(r.PostForm.Get("back"), "/board")
	id := pathID(r)
	_, err := h.st.ChangeAppointmentStatus(r.Context(), user(r).OrgID, id, status, r.PostForm.Get("reason"))
	if fe := layout.FieldErrors(err); fe != nil {
		layout.SetFlash(w, layout.FlashError, fe.String())
		redirect(w, r, back)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if httpx.IsFragment(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	layout.SetFlash(w, layout.FlashOK, done)
	if strings.HasPrefix(back, "/board") && !strings.Contains(back, "#") {
		back += "#card-" + itoa(id)
	}
	redirect(w, r, back)
}

// reinstateAppointment puts a cancelled or no-show appointment back, with
// the reason in its history and the audit log.
func (h *handlers) reinstateAppointment(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	ctx := r.Context()
	id := pathID(r)
	_, err := h.st.ReinstateAppointment(ctx, user(r).OrgID, id, r.PostForm.Get("reason"))
	if fe := layout.FieldErrors(err); fe != nil {
		layout.SetFlash(w, layout.FlashError, i18n.T(ctx, "ReinstateReasonRequired"))
		redirect(w, r, h.appointmentURL(id))
		return
	}
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		layout.SetFlash(w, layout.FlashError, i18n.T(ctx, "ReinstateNotPossible"))
		redirect(w, r, h.appointmentURL(id))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(ctx, "Reinstated"))
	redirect(w, r, h.appointmentURL(id))
}

// actorLabel shows who changed something in words: a user's name as
// stored, visit links and the system by their role.
func actorLabel(ctx context.Context, actor string) string {
	switch {
	case actor == "patient-link":
		return i18n.T(ctx, "ActorPatientLink")
	case actor == "provider-link":
		return i18n.T(ctx, "ActorProviderLink")
	case actor == "system" || actor == "":
		return i18n.T(ctx, "ActorSystem")
	case strings.HasPrefix(actor, "apikey:"):
		return i18n.T(ctx, "ActorAPIKey", "Name", strings.TrimPrefix(actor, "apikey:"))
	}
	return actor
}

func episodeTo(e *store.Episode) string {
	if e.To == "" {
		return " –"
	}
	return " – " + e.To
}
