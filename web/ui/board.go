package ui

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// Board groups, in the order a visit moves through them.
const (
	groupScheduled = "scheduled"
	groupArrived   = "arrived"
	groupProgress  = "progress"
	groupDischarge = "discharge"
	groupDone      = "done"
	groupCancelled = "cancelled"
)

var boardGroups = []string{groupScheduled, groupArrived, groupProgress, groupDischarge, groupDone, groupCancelled}

func groupTitle(ctx context.Context, g string) string {
	switch g {
	case groupScheduled:
		return text.T(ctx).GroupScheduled
	case groupArrived:
		return text.T(ctx).GroupArrived
	case groupProgress:
		return text.T(ctx).GroupInProgress
	case groupDischarge:
		return text.T(ctx).GroupDischarge
	case groupDone:
		return text.T(ctx).GroupDone
	}
	return text.T(ctx).GroupCancelled
}

// groupOf places a status in its board column.
func groupOf(status string) string {
	switch status {
	case store.StatusScheduled:
		return groupScheduled
	case store.StatusArrived, store.StatusIntakeReady:
		return groupArrived
	case store.StatusIntakeProgress, store.StatusExamReady, store.StatusExamProgress:
		return groupProgress
	case store.StatusDischargeReady, store.StatusDischargeActive:
		return groupDischarge
	case store.StatusCompleted, store.StatusSignOff:
		return groupDone
	}
	return groupCancelled
}

// cardAction is one button on a card: a POST to the appointment's status
// (or cancel) route.
type cardAction struct {
	Key    string // stable name for tests: arrive, intake, exam, discharge, complete, noshow, cancel
	Label  string
	Status string // target status; "" for cancel
	Danger bool
}

var (
	actArrive    = cardAction{"arrive", "", store.StatusArrived, false}
	actIntake    = cardAction{"intake", "", store.StatusIntakeProgress, false}
	actExam      = cardAction{"exam", "", store.StatusExamProgress, false}
	actDischarge = cardAction{"discharge", "", store.StatusDischargeReady, false}
	actComplete  = cardAction{"complete", "", store.StatusCompleted, false}
	actNoShow    = cardAction{"noshow", "", store.StatusNoShow, true}
	actCancel    = cardAction{"cancel", "", "", true}
)

// actionsFor is what can happen next to an appointment in a status.
func actionsFor(ctx context.Context, status string) []cardAction {
	var acts []cardAction
	switch status {
	case store.StatusScheduled:
		acts = []cardAction{actArrive, actNoShow, actCancel}
	case store.StatusArrived, store.StatusIntakeReady:
		acts = []cardAction{actIntake, actExam, actCancel}
	case store.StatusIntakeProgress, store.StatusExamReady:
		acts = []cardAction{actExam, actComplete}
	case store.StatusExamProgress:
		acts = []cardAction{actDischarge, actComplete}
	case store.StatusDischargeReady, store.StatusDischargeActive:
		acts = []cardAction{actComplete}
	}
	for i := range acts {
		acts[i].Label = actionLabel(ctx, acts[i].Key)
	}
	return acts
}

func actionLabel(ctx context.Context, key string) string {
	return map[string]string{
		"arrive": text.T(ctx).ActMarkArrived, "intake": text.T(ctx).ActStartIntake, "exam": text.T(ctx).ActStartExam,
		"discharge": text.T(ctx).ActDischarge, "complete": text.T(ctx).ActComplete, "noshow": text.T(ctx).ActNoShow,
		"cancel": text.T(ctx).ActCancel,
	}[key]
}

type boardCard struct {
	Appt      *store.AppointmentRow
	Time      string
	Group     string
	Actions   []cardAction
	Age       int    // -1 when the birth date is unknown
	Waiting   string // time since arrival while the patient waits, "" otherwise
	WaitShort string // the same, only the duration
	Video     bool   // the visit has a video call going or planned
}

type boardGroup struct {
	Key   string
	Title string
	Cards []boardCard
	Dense bool // one line per card (see boardFullCards)
}

// boardFullCards is how many full cards a group shows; a group with more
// shows each card as one line (time, name, video, waiting time, and the
// actions in its menu), so that a room's day of 30 appointments fits on a
// laptop screen (1366x900) whichever groups they are in. A full card is
// about 95 px high, a line 24 px: six full cards or 30 lines both stay
// under the ~800 px a room has below the page's head.
const boardFullCards = 6

type boardRoom struct {
	Room   store.WaitingRoom
	Total  int
	Groups []boardGroup
}

type boardProps struct {
	Page                 layout.PageProps
	Date                 string
	Today                bool
	Prev                 string
	Next                 string
	PrevLabel, NextLabel string // the days in words
	Back                 string // where actions return to
	Rooms                []boardRoom
	AnyRooms             bool
}

func (h *handlers) board(w http.ResponseWriter, r *http.Request) {
	p, err := h.loadBoard(r, r.URL.Query().Get("date"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if httpx.IsFragment(r) {
		h.render(w, r, http.StatusOK, boardContent(p))
		return
	}
	// The board lists patients by name. A whole page load is audited; the
	// live refreshes that follow are the same viewer watching the same day.
	h.st.AuditRead(r.Context(), user(r).OrgID, "board", p.Date, 0)
	p.Page = h.props(w, r, text.T(r.Context()).BoardTitle, layout.NavBoard)
	p.Page.BodyID = "board-page"
	h.render(w, r, http.StatusOK, boardPage(p))
}

// loadBoard reads a day's board with one appointments query for all rooms.
func (h *handlers) loadBoard(r *http.Request, day string) (boardProps, error) {
	ctx := r.Context()
	orgID := user(r).OrgID
	rooms, err := h.st.WaitingRooms(ctx, orgID)
	if err != nil {
		return boardProps{}, err
	}
	loc := clinicLocation(rooms)
	today := h.st.Now().In(loc).Format("2006-01-02")
	if _, ok := parseDay(day, loc); !ok {
		day = today
	}
	d, _ := parseDay(day, loc)
	p := boardProps{
		Date: day, Today: day == today, AnyRooms: len(rooms) > 0,
		Prev: d.AddDate(0, 0, -1).Format("2006-01-02"), Next: d.AddDate(0, 0, 1).Format("2006-01-02"),
		Back: "/board",
	}
	if !p.Today {
		p.Back = "/board?date=" + day
	}
	p.PrevLabel, p.NextLabel = i18n.ShortDate(ctx, d.AddDate(0, 0, -1)), i18n.ShortDate(ctx, d.AddDate(0, 0, 1))
	if len(rooms) == 0 {
		return p, nil
	}
	// Each room's day is midnight to midnight in its own zone; one query
	// covers the union of those ranges.
	type span struct{ from, to time.Time }
	spans := make(map[int64]span, len(rooms))
	var from, to time.Time
	for _, room := range rooms {
		f, t := dayRange(day, room.Location())
		spans[room.ID] = span{f, t}
		if from.IsZero() || f.Before(from) {
			from = f
		}
		if t.After(to) {
			to = t
		}
	}
	var appts []store.AppointmentRow
	for {
		page, total, err := h.st.Appointments(ctx, orgID, store.AppointmentFilter{From: from, To: to, Limit: 1000, Offset: len(appts)})
		if err != nil {
			return p, err
		}
		appts = append(appts, page...)
		if len(page) == 0 || len(appts) >= total {
			break
		}
	}
	byRoom := make(map[int64][]*store.AppointmentRow, len(rooms))
	for i := range appts {
		a := &appts[i]
		sp := spans[a.WaitingRoomID]
		if a.Start.Before(sp.from) || !a.Start.Before(sp.to) {
			continue
		}
		byRoom[a.WaitingRoomID] = append(byRoom[a.WaitingRoomID], a)
	}
	for _, room := range rooms {
		list := byRoom[room.ID]
		if !room.Active && len(list) == 0 {
			continue
		}
		br := boardRoom{Room: room, Total: len(list)}
		idx := map[string]int{}
		for _, g := range boardGroups {
			idx[g] = len(br.Groups)
			br.Groups = append(br.Groups, boardGroup{Key: g, Title: groupTitle(ctx, g)})
		}
		rl := room.Location()
		now := h.st.Now()
		for _, a := range list {
			g := groupOf(a.Status)
			card := boardCard{Appt: a, Time: i18n.Time(ctx, a.Start.In(rl)), Group: g, Actions: actionsFor(ctx, a.Status),
				Age: ageOn(a.PatientBirth, now.In(rl)), Video: a.VideoStatus != "" || videoRoom(&room)}
			if g == groupArrived && !a.ArrivedAt.IsZero() {
				card.WaitShort = waitText(ctx, now.Sub(a.ArrivedAt))
				card.Waiting = i18n.T(ctx, "WaitingFor", "Duration", card.WaitShort)
			}
			br.Groups[idx[g]].Cards = append(br.Groups[idx[g]].Cards, card)
		}
		for i := range br.Groups {
			br.Groups[i].Dense = len(br.Groups[i].Cards) > boardFullCards
		}
		p.Rooms = append(p.Rooms, br)
	}
	return p, nil
}

// boardEvents streams the organisation's appointment and waiting-room
// events to the open board, which then re-fetches its fragment.
func (h *handlers) boardEvents(w http.ResponseWriter, r *http.Request) {
	if h.live == nil {
		http.Error(w, i18n.T(r.Context(), "PlainLiveOff"), http.StatusServiceUnavailable)
		return
	}
	h.live.Stream(w, r, user(r).OrgID, func(e store.Event) bool {
		return strings.HasPrefix(e.Type, "appointment:") || strings.HasPrefix(e.Type, "waiting-room:")
	})
}

func reasonsText(rs []string) string { return strings.Join(rs, ", ") }

// waitText is a waiting time as staff say it: "12 min", "1 h 05 min".
func waitText(ctx context.Context, d time.Duration) string {
	m := int(d / time.Minute)
	if m < 0 {
		m = 0
	}
	if m < 60 {
		return i18n.T(ctx, "Minutes", "M", m)
	}
	return i18n.T(ctx, "HoursMinutes", "H", m/60, "M", fmt.Sprintf("%02d", m%60))
}

// videoRoom reports whether a waiting room holds video visits (its service
// type says so, as the demo's and the telehealth API's rooms do).
func videoRoom(w *store.WaitingRoom) bool {
	t := strings.ToLower(w.ServiceType + " " + w.ServiceLine)
	return strings.Contains(t, "video") || strings.Contains(t, "tele")
}
