package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

func (h *handlers) adminIndex(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, adminIndexPage(h.props(w, r, text.T(r.Context()).AdminTitle, layout.NavAdmin), h.certWarning()))
}

// ---- users

type userForm struct {
	ID       int64
	Email    string
	Name     string
	Role     string
	Active   bool
	Password string
	Errors   layout.Errors
}

type usersProps struct {
	Page  layout.PageProps
	Users []store.User
	Loc   *time.Location
}

type userFormProps struct {
	Page      layout.PageProps
	Form      userForm
	Generated string // a generated password, shown once
}

func (h *handlers) adminUsers(w http.ResponseWriter, r *http.Request) {
	users, err := h.st.Users(r.Context(), user(r).OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := usersProps{Users: users, Loc: time.Local, Page: h.props(w, r, text.T(r.Context()).AdminUsers, layout.NavAdmin)}
	h.render(w, r, http.StatusOK, usersPage(p))
}

func (h *handlers) newUserForm(w http.ResponseWriter, r *http.Request) {
	p := userFormProps{Form: userForm{Role: store.RoleClinician, Active: true}, Page: h.props(w, r, text.T(r.Context()).NewUser, layout.NavAdmin)}
	h.render(w, r, http.StatusOK, userFormPage(p))
}

func (h *handlers) createUser(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	f := userForm{Email: strings.TrimSpace(r.PostForm.Get("email")), Name: strings.TrimSpace(r.PostForm.Get("name")),
		Role: r.PostForm.Get("role"), Active: true, Errors: layout.Errors{}}
	pw, generated := r.PostForm.Get("password"), ""
	if pw == "" {
		pw = store.NewToken(12)
		generated = pw
	}
	u := &store.User{Email: f.Email, Name: f.Name, Role: f.Role}
	err := h.st.CreateUser(r.Context(), user(r).OrgID, u, pw)
	if err == nil {
		if generated == "" {
			layout.SetFlash(w, layout.FlashOK, text.T(r.Context()).UserCreated)
			redirect(w, r, "/admin/users")
			return
		}
		// The generated password is shown on this response only, never
		// stored in clear or put in a redirect.
		p := userFormProps{Form: userForm{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Active: true}, Generated: generated}
		p.Page = h.props(w, r, text.T(r.Context()).EditUser, layout.NavAdmin)
		p.Page.Flash = append(p.Page.Flash, layout.Flash{Kind: layout.FlashOK, Message: text.T(r.Context()).UserCreated})
		h.render(w, r, http.StatusOK, userFormPage(p))
		return
	}
	fe := layout.LocalErrors(r.Context(), err)
	if fe == nil {
		h.fail(w, r, err)
		return
	}
	f.Errors = fe
	p := userFormProps{Form: f, Page: h.props(w, r, text.T(r.Context()).NewUser, layout.NavAdmin)}
	h.render(w, r, http.StatusUnprocessableEntity, userFormPage(p))
}

func (h *handlers) editUserForm(w http.ResponseWriter, r *http.Request) {
	u, err := h.st.User(r.Context(), user(r).OrgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := userFormProps{Form: userForm{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Active: u.Active},
		Page: h.props(w, r, text.T(r.Context()).EditUser, layout.NavAdmin)}
	h.render(w, r, http.StatusOK, userFormPage(p))
}

func (h *handlers) updateUser(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	orgID := user(r).OrgID
	u, err := h.st.User(r.Context(), orgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u.Name, u.Role = strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("role")
	if e := strings.TrimSpace(r.PostForm.Get("email")); e != "" {
		u.Email = e
	}
	u.Active = r.PostForm.Get("active") == "1"
	// An admin cannot lock themselves out of administration.
	if u.ID == user(r).ID {
		u.Active, u.Role = true, store.RoleAdmin
	}
	err = h.st.UpdateUser(r.Context(), orgID, u)
	if err == nil {
		layout.SetFlash(w, layout.FlashOK, text.T(r.Context()).UserSaved)
		redirect(w, r, "/admin/users")
		return
	}
	fe := layout.LocalErrors(r.Context(), err)
	if fe == nil {
		h.fail(w, r, err)
		return
	}
	p := userFormProps{Form: userForm{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Active: u.Active, Errors: fe},
		Page: h.props(w, r, text.T(r.Context()).EditUser, layout.NavAdmin)}
	h.render(w, r, http.StatusUnprocessableEntity, userFormPage(p))
}

func (h *handlers) resetPassword(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	orgID := user(r).OrgID
	u, err := h.st.User(r.Context(), orgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pw, generated := r.PostForm.Get("password"), ""
	if pw == "" {
		pw = store.NewToken(12)
		generated = pw
	}
	p := userFormProps{Form: userForm{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Active: u.Active}}
	err = h.st.SetPassword(r.Context(), orgID, u.ID, pw)
	if fe := layout.LocalErrors(r.Context(), err); fe != nil {
		p.Form.Errors = fe
		p.Page = h.props(w, r, text.T(r.Context()).EditUser, layout.NavAdmin)
		h.render(w, r, http.StatusUnprocessableEntity, userFormPage(p))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if generated == "" {
		layout.SetFlash(w, layout.FlashOK, text.T(r.Context()).PasswordReset)
		redirect(w, r, "/admin/users/"+itoa(u.ID)+"/edit")
		return
	}
	p.Generated = generated
	p.Page = h.props(w, r, text.T(r.Context()).EditUser, layout.NavAdmin)
	p.Page.Flash = append(p.Page.Flash, layout.Flash{Kind: layout.FlashOK, Message: text.T(r.Context()).PasswordReset})
	h.render(w, r, http.StatusOK, userFormPage(p))
}

func (h *handlers) signOutUserEverywhere(w http.ResponseWriter, r *http.Request) {
	orgID := user(r).OrgID
	u, err := h.st.User(r.Context(), orgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.st.DeleteUserSessions(r.Context(), orgID, u.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, text.T(r.Context()).UserSignedOutEverywhere)
	redirect(w, r, "/admin/users/"+itoa(u.ID)+"/edit")
}

// ---- waiting rooms

type roomForm struct {
	ID                                              int64
	Name, ServiceLine, ServiceType, SlotMinutes, TZ string
	Active                                          bool
	Open, Close                                     [7]string // per weekday, 0 = Sunday
	Errors                                          layout.Errors
}

type roomsProps struct {
	Page  layout.PageProps
	Rooms []store.WaitingRoom
}

type roomFormProps struct {
	Page layout.PageProps
	Form roomForm
}

func roomFormFrom(room *store.WaitingRoom) roomForm {
	f := roomForm{ID: room.ID, Name: room.Name, ServiceLine: room.ServiceLine, ServiceType: room.ServiceType,
		SlotMinutes: strconv.Itoa(room.SlotDuration / 60), TZ: room.Timezone, Active: room.Active}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if ivs := room.Hours[d]; len(ivs) > 0 {
			f.Open[d], f.Close[d] = ivs[0].Open, ivs[0].Close
		}
	}
	return f
}

// readRoomForm parses the form onto room (keeping any second opening
// interval of a day, which this form does not show).
func readRoomForm(r *http.Request, room *store.WaitingRoom) roomForm {
	pf := r.PostForm
	f := roomForm{ID: room.ID, Name: strings.TrimSpace(pf.Get("name")), ServiceLine: strings.TrimSpace(pf.Get("serviceLine")),
		ServiceType: strings.TrimSpace(pf.Get("serviceType")), SlotMinutes: strings.TrimSpace(pf.Get("slotMinutes")),
		TZ: strings.TrimSpace(pf.Get("timezone")), Active: pf.Get("active") == "1", Errors: layout.Errors{}}
	room.Name, room.ServiceLine, room.ServiceType, room.Timezone, room.Active = f.Name, f.ServiceLine, f.ServiceType, f.TZ, f.Active
	if m, err := strconv.Atoi(f.SlotMinutes); err != nil || m < 1 || m > 1440 {
		f.Errors["slotDuration"] = text.T(r.Context()).DurationInvalid
	} else {
		room.SlotDuration = m * 60
	}
	hours := store.OpeningHours{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		o, c := strings.TrimSpace(pf.Get("open"+strconv.Itoa(int(d)))), strings.TrimSpace(pf.Get("close"+strconv.Itoa(int(d))))
		f.Open[d], f.Close[d] = o, c
		if o == "" && c == "" {
			continue
		}
		iv := store.Interval{Open: o, Close: c}
		if om, cm, ok := iv.Minutes(); !ok || om >= cm {
			f.Errors["hours"+strconv.Itoa(int(d))] = text.T(r.Context()).HoursInvalid
			continue
		}
		ivs := []store.Interval{iv}
		if old := room.Hours[d]; len(old) > 1 {
			ivs = append(ivs, old[1:]...)
		}
		hours[d] = ivs
	}
	room.Hours = hours
	return f
}

func (h *handlers) adminRooms(w http.ResponseWriter, r *http.Request) {
	rooms, err := h.st.WaitingRooms(r.Context(), user(r).OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, roomsPage(roomsProps{Rooms: rooms, Page: h.props(w, r, text.T(r.Context()).AdminRooms, layout.NavAdmin)}))
}

func (h *handlers) newRoomForm(w http.ResponseWriter, r *http.Request) {
	room := &store.WaitingRoom{SlotDuration: 15 * 60, Timezone: machineZone(), Active: true, Hours: store.WeekdayHours()}
	h.render(w, r, http.StatusOK, roomFormPage(roomFormProps{Form: roomFormFrom(room), Page: h.props(w, r, text.T(r.Context()).NewRoom, layout.NavAdmin)}))
}

func (h *handlers) createRoom(w http.ResponseWriter, r *http.Request) {
	h.saveRoom(w, r, &store.WaitingRoom{})
}

func (h *handlers) editRoomForm(w http.ResponseWriter, r *http.Request) {
	room, err := h.st.WaitingRoom(r.Context(), user(r).OrgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, roomFormPage(roomFormProps{Form: roomFormFrom(room), Page: h.props(w, r, text.T(r.Context()).EditRoom, layout.NavAdmin)}))
}

func (h *handlers) updateRoom(w http.ResponseWriter, r *http.Request) {
	room, err := h.st.WaitingRoom(r.Context(), user(r).OrgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.saveRoom(w, r, room)
}

// saveRoom creates (room.ID == 0) or updates a waiting room from the form.
func (h *handlers) saveRoom(w http.ResponseWriter, r *http.Request, room *store.WaitingRoom) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	orgID := user(r).OrgID
	f := readRoomForm(r, room)
	title, done := text.T(r.Context()).EditRoom, text.T(r.Context()).RoomSaved
	if room.ID == 0 {
		title, done = text.T(r.Context()).NewRoom, text.T(r.Context()).RoomCreated
	}
	if len(f.Errors) > 0 {
		// Show the store's own checks too, so every bad field is marked at once.
		for k, v := range layout.LocalErrors(r.Context(), room.Validate()) {
			if _, ok := f.Errors[k]; !ok && k != "hours" && k != "slotDuration" {
				f.Errors[k] = v
			}
		}
	} else {
		var err error
		if room.ID == 0 {
			err = h.st.CreateWaitingRoom(r.Context(), orgID, room)
		} else {
			err = h.st.UpdateWaitingRoom(r.Context(), orgID, room)
		}
		if err == nil {
			layout.SetFlash(w, layout.FlashOK, done)
			redirect(w, r, "/admin/rooms")
			return
		}
		fe := layout.LocalErrors(r.Context(), err)
		var ce *store.ConflictError
		if fe == nil && errors.As(err, &ce) {
			// A room's name is its only unique field: mark it there.
			fe = layout.Errors{"name": layout.Message(r.Context(), ce.Msg)}
		}
		if fe == nil {
			h.fail(w, r, err)
			return
		}
		for k, v := range fe {
			f.Errors[k] = v
		}
	}
	h.render(w, r, http.StatusUnprocessableEntity, roomFormPage(roomFormProps{Form: f, Page: h.props(w, r, title, layout.NavAdmin)}))
}

// ---- audit log

const auditPerPage = 100

type auditProps struct {
	Page      layout.PageProps
	Entries   []store.AuditEntry
	Users     []store.User
	PatientID string
	UserID    string
	Broken    int64
	Older     string // link to the next (older) page, "" when none
	Loc       *time.Location
}

func (h *handlers) adminAudit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgID := user(r).OrgID
	q := r.URL.Query()
	f := store.AuditFilter{Limit: auditPerPage}
	f.PatientID, _ = strconv.ParseInt(q.Get("patient"), 10, 64)
	f.UserID, _ = strconv.ParseInt(q.Get("user"), 10, 64)
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	entries, err := h.st.AuditLog(ctx, orgID, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	users, err := h.st.Users(ctx, orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	broken, err := h.st.VerifyAuditChain(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	p := auditProps{Entries: entries, Users: users, Broken: broken, PatientID: q.Get("patient"), UserID: q.Get("user"), Loc: time.Local}
	if len(entries) == auditPerPage {
		v := url.Values{"before": {itoa(entries[len(entries)-1].ID)}}
		if f.PatientID > 0 {
			v.Set("patient", itoa(f.PatientID))
		}
		if f.UserID > 0 {
			v.Set("user", itoa(f.UserID))
		}
		p.Older = "/admin/audit?" + v.Encode()
	}
	p.Page = h.props(w, r, text.T(r.Context()).AdminAudit, layout.NavAdmin)
	h.render(w, r, http.StatusOK, auditPage(p))
}
