package ui

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/skip2/go-qrcode"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/mailer"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// apptPageProps is everything the appointment page shows. Video and
// visit-note sections read it too (appointment_sections.templ).
type apptPageProps struct {
	Page        layout.PageProps
	Appt        *store.Appointment
	Patient     *store.Patient
	Room        *store.WaitingRoom
	Loc         *time.Location
	Provider    *store.User // nil when not assigned
	Episode     *store.Episode
	Attachments []store.Attachment
	Documents   []store.PatientDocument
	Obs         []store.Observation
	History     []store.StatusChange
	Chat        []store.ChatMessage // the video call's chat, kept with the visit
	Age         int                 // -1 when the birth date is unknown
	PatientLink string
	// ProviderLink is shown only to roles that may open it.
	ProviderLink string
	CanSend      bool // front desk, clinicians and admins send links
	CanOpen      bool // clinicians and admins open the provider link
	MailReady    bool // an SMTP server is configured
	Actions      []cardAction
	Back         string
	Now          time.Time
	Note         templ.Component // the visit note editor (web/ui/notes)
}

func (h *handlers) appointmentURL(id int64) string { return "/appointments/" + itoa(id) }

// visitLink is the absolute visit link for a token.
func (h *handlers) visitLink(r *http.Request, token string) string {
	base := strings.TrimRight(h.publicURL, "/")
	if base == "" {
		scheme := "https"
		if r.TLS == nil {
			scheme = "http"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/visit/" + token
}

func canOpenProviderLink(u *store.User) bool {
	return u.Role == store.RoleAdmin || u.Role == store.RoleClinician
}

// loadAppointmentPage reads everything the page shows.
func (h *handlers) loadAppointmentPage(r *http.Request, id int64) (*apptPageProps, error) {
	ctx := r.Context()
	u := user(r)
	orgID := u.OrgID
	a, err := h.st.Appointment(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	p := &apptPageProps{Appt: a, Now: h.st.Now(), Age: -1}
	if p.Patient, err = h.st.Patient(ctx, orgID, a.PatientID); err != nil {
		return nil, err
	}
	if p.Room, err = h.st.WaitingRoom(ctx, orgID, a.WaitingRoomID); err != nil {
		return nil, err
	}
	p.Loc = p.Room.Location()
	if a.ProviderID != 0 {
		if pr, err := h.st.User(ctx, orgID, a.ProviderID); err == nil {
			p.Provider = pr
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if a.EpisodeID != 0 {
		if ep, err := h.st.EpisodeByID(ctx, orgID, a.EpisodeID); err == nil {
			p.Episode = ep
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if p.Attachments, err = h.st.Attachments(ctx, orgID, a.ID); err != nil {
		return nil, err
	}
	if p.Documents, err = h.st.PatientDocuments(ctx, orgID, a.PatientID); err != nil {
		return nil, err
	}
	if p.History, err = h.st.AppointmentHistory(ctx, orgID, a.ID); err != nil {
		return nil, err
	}
	if p.Chat, err = h.st.VisitChat(ctx, orgID, a.ID); err != nil {
		return nil, err
	}
	// The observations of the visit's day, in the room's zone.
	day := a.Start.In(p.Loc)
	from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, p.Loc)
	to := from.AddDate(0, 0, 1)
	obs, err := h.st.Observations(ctx, orgID, store.ObservationFilter{PatientID: a.PatientID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, o := range obs {
		t := obsTime(&o)
		if !t.Before(from) && t.Before(to) {
			p.Obs = append(p.Obs, o)
		}
	}
	mail, err := h.st.MailSettings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	p.MailReady = mail.Configured()
	p.Age = ageOn(p.Patient.BirthDate, p.Now.In(p.Loc))
	p.CanSend = true // every staff role may send the patient's link
	p.CanOpen = canOpenProviderLink(u)
	p.PatientLink = h.visitLink(r, a.PatientToken)
	if p.CanOpen {
		p.ProviderLink = h.visitLink(r, a.ProviderToken)
	}
	p.Actions = actionsFor(ctx, a.Status)
	p.Back = h.appointmentURL(a.ID)
	return p, nil
}

// ageOn is the age in whole years on a day, -1 when birth is not a date.
func ageOn(birth string, day time.Time) int {
	b, err := time.Parse("2006-01-02", birth)
	if err != nil {
		return -1
	}
	age := day.Year() - b.Year()
	if day.Month() < b.Month() || (day.Month() == b.Month() && day.Day() < b.Day()) {
		age--
	}
	if age < 0 {
		return -1
	}
	return age
}

func (h *handlers) appointment(w http.ResponseWriter, r *http.Request) {
	p, err := h.loadAppointmentPage(r, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	h.st.AuditRead(ctx, user(r).OrgID, "appointment", itoa(p.Appt.ID), p.Appt.PatientID)
	p.Page = h.props(w, r, i18n.T(ctx, "ApptTitle", "Name", p.Patient.DisplayName()), layout.NavAppointments)
	if h.notes != nil {
		if p.Note, err = h.notes.Section(ctx, r, p.Appt.ID); err != nil {
			h.fail(w, r, err)
			return
		}
		p.Page.Scripts = append(p.Page.Scripts, h.notes.Script())
	}
	p.Page.Crumbs = []layout.Crumb{{Label: i18n.T(ctx, "NavAppointments"), Href: apptListURL(p.Appt.Start.In(p.Loc).Format("2006-01-02"), 0)},
		{Label: p.Patient.DisplayName()}}
	h.render(w, r, http.StatusOK, appointmentPage(*p))
}

// appointmentQR is the patient link as a QR code, drawn here so no outside
// service ever sees the link.
func (h *handlers) appointmentQR(w http.ResponseWriter, r *http.Request) {
	a, err := h.st.Appointment(r.Context(), user(r).OrgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	png, err := qrcode.Encode(h.visitLink(r, a.PatientToken), qrcode.Medium, 256)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(png)
}

// linkMessage is the text of the visit-link message in the patient's
// language (their preferred language when it is one the appliance speaks,
// else the page's).
func (h *handlers) linkMessage(ctx context.Context, p *apptPageProps, orgName string) (lang, subject, body string) {
	lang = i18n.Lang(ctx)
	if pl := strings.ToLower(p.Patient.PreferredLanguage); pl != "" {
		lang = i18n.Normalize(pl)
	}
	lctx := i18n.WithLang(ctx, lang)
	when := i18n.DateTime(lctx, p.Appt.Start.In(p.Loc))
	subject = i18n.T(lctx, "LinkMailSubject", "Clinic", orgName, "When", when)
	body = i18n.T(lctx, "LinkMailBody", "Name", p.Patient.DisplayName(), "Clinic", orgName, "When", when,
		"Room", p.Room.Name, "Link", p.PatientLink)
	return lang, subject, body
}

type sendProps struct {
	Page      apptPageProps
	Via       string // email or sms
	To        string
	Subject   string
	Body      string
	MailReady bool
	Error     string
}

// sendLinkForm shows the message that sends the patient link, ready to
// copy (SMS, or e-mail without a mail server) or to send (e-mail).
func (h *handlers) sendLinkForm(w http.ResponseWriter, r *http.Request) {
	h.showSend(w, r, http.StatusOK, r.URL.Query().Get("via"), "", "")
}

func (h *handlers) showSend(w http.ResponseWriter, r *http.Request, status int, via, to, errMsg string) {
	ctx := r.Context()
	p, err := h.loadAppointmentPage(r, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	org, err := h.st.Org(ctx, user(r).OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if via != "sms" {
		via = "email"
	}
	_, subject, body := h.linkMessage(ctx, p, org.Name)
	if to == "" {
		if via == "sms" {
			to = p.Patient.Phone()
		} else {
			to = p.Patient.Email()
		}
	}
	h.st.AuditRead(ctx, user(r).OrgID, "appointment", itoa(p.Appt.ID), p.Appt.PatientID)
	sp := sendProps{Page: *p, Via: via, To: to, Subject: subject, Body: body, MailReady: p.MailReady, Error: errMsg}
	title := i18n.T(ctx, "SendByEmail")
	if via == "sms" {
		title = i18n.T(ctx, "SendBySMS")
	}
	sp.Page.Page = h.props(w, r, title, layout.NavAppointments)
	sp.Page.Page.Crumbs = []layout.Crumb{{Label: i18n.T(ctx, "NavAppointments"), Href: "/appointments"},
		{Label: p.Patient.DisplayName(), Href: h.appointmentURL(p.Appt.ID)}, {Label: title}}
	h.render(w, r, status, sendLinkPage(sp))
}

// sendLink e-mails the patient link through the organisation's server.
func (h *handlers) sendLink(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	ctx := r.Context()
	orgID := user(r).OrgID
	to := strings.TrimSpace(r.PostForm.Get("to"))
	p, err := h.loadAppointmentPage(r, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cfg, err := h.st.MailSettings(ctx, orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !cfg.Configured() {
		h.showSend(w, r, http.StatusConflict, "email", to, i18n.T(ctx, "MailNotConfigured"))
		return
	}
	org, err := h.st.Org(ctx, orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	_, subject, body := h.linkMessage(ctx, p, org.Name)
	sendCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = mailer.Send(sendCtx, cfg, mailer.Message{To: to, Subject: subject, Body: body}, h.st.Now())
	if err != nil {
		h.log.Warn("send visit link", "appointment", p.Appt.ID, "err", err)
		h.showSend(w, r, http.StatusBadGateway, "email", to, i18n.T(ctx, "MailFailed", "Error", err.Error()))
		return
	}
	h.st.AuditRead(ctx, orgID, "appointment-link-sent", itoa(p.Appt.ID), p.Appt.PatientID)
	layout.SetFlash(w, layout.FlashOK, i18n.T(ctx, "MailSent", "To", to))
	redirect(w, r, h.appointmentURL(p.Appt.ID))
}

// reissueLink revokes a visit link and makes a new one.
func (h *handlers) reissueLink(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	ctx := r.Context()
	role := r.PostForm.Get("role")
	if role != store.LinkProvider {
		role = store.LinkPatient
	}
	if role == store.LinkProvider && !canOpenProviderLink(user(r)) {
		h.forbidden(w, r)
		return
	}
	a, err := h.st.ReissueVisitLink(ctx, user(r).OrgID, pathID(r), role)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(ctx, "LinkReissued"))
	redirect(w, r, h.appointmentURL(a.ID)+"#links")
}

// openAsProvider sends a clinician to the provider's visit page.
func (h *handlers) openAsProvider(w http.ResponseWriter, r *http.Request) {
	a, err := h.st.Appointment(r.Context(), user(r).OrgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/visit/"+a.ProviderToken)
}

// attachment serves an appointment's attachment to staff.
func (h *handlers) attachment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgID := user(r).OrgID
	att, err := h.st.AttachmentMeta(ctx, orgID, r.PathValue("uuid"))
	if err == nil && att.AppointmentID != pathID(r) {
		err = store.ErrNotFound
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.st.Appointment(ctx, orgID, att.AppointmentID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.st.AuditRead(ctx, orgID, "attachment", att.UUID, a.PatientID)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFileName(att.Title)+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(att.Size))
	if _, err := h.st.CopyAttachment(ctx, att, w); err != nil && ctx.Err() == nil {
		// Part of the file is sent: cut the connection so the browser
		// sees a failed download rather than a short file.
		h.log.Error("attachment download", "attachment", att.UUID, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func safeFileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '\\' || r == '/' || r > 0x7e {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "attachment"
	}
	return s
}

// videoStatusLabel words a video call status.
func videoStatusLabel(ctx context.Context, s string) string {
	switch s {
	case "LWBS":
		return i18n.T(ctx, "VideoStatusLWBS")
	case "incomplete":
		return i18n.T(ctx, "VideoStatusIncomplete")
	case "complete":
		return i18n.T(ctx, "VideoStatusComplete")
	case "on call":
		return i18n.T(ctx, "VideoStatusOnCall")
	case "waiting":
		return i18n.T(ctx, "VideoLobbyWaiting")
	}
	return s
}
