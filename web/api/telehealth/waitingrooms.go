package telehealth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type waitingRoomJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ServiceLine string `json:"serviceLine"`
	ServiceType string `json:"serviceType"`
}

// listWaitingRooms: GET /qapi/v1/waiting-rooms. Inactive rooms are left out:
// appointments cannot be booked into them.
func (h *Handler) listWaitingRooms(w http.ResponseWriter, r *http.Request) {
	rooms, err := h.store.WaitingRooms(r.Context(), orgID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []waitingRoomJSON{}
	for _, wr := range rooms {
		if !wr.Active {
			continue
		}
		out = append(out, waitingRoomJSON{ID: wr.UUID, Name: wr.Name, ServiceLine: wr.ServiceLine, ServiceType: wr.ServiceType})
	}
	httpx.JSON(w, http.StatusOK, out)
}

type slotJSON struct {
	Date     int64 `json:"date"`
	Duration int   `json:"duration"`
}

// listSlots: GET /qapi/v1/appointment-slots?after=&before=&waitingRoom=[&duration=].
func (h *Handler) listSlots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v store.Validator
	unixParam := func(name string) time.Time {
		s := q.Get(name)
		if s == "" {
			v.Add(name, "is required")
			return time.Time{}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			v.Add(name, "must be a unix timestamp")
			return time.Time{}
		}
		return time.Unix(n, 0).UTC()
	}
	after, before := unixParam("after"), unixParam("before")
	roomName := strings.TrimSpace(q.Get("waitingRoom"))
	if roomName == "" {
		v.Add("waitingRoom", "is required")
	}
	duration := 0
	if s := q.Get("duration"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 86400 {
			v.Add("duration", "must be in range [1, 86400]")
		}
		duration = n
	}
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	room, err := h.store.WaitingRoomByName(r.Context(), orgID(r), roomName)
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, store.Invalid("waitingRoom", fmt.Sprintf("there is no waiting room named %q", roomName)))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	slots, err := h.store.FreeSlots(r.Context(), orgID(r), room, after, before, duration)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]slotJSON, len(slots))
	for i, s := range slots {
		out[i] = slotJSON{Date: s.Start.Unix(), Duration: s.Duration}
	}
	httpx.JSON(w, http.StatusOK, out)
}
