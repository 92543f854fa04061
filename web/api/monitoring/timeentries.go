package monitoring

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// wireTimeEntry is logged monitoring time.
type wireTimeEntry struct {
	ID           string  `json:"id"`
	EnrollmentID string  `json:"enrollmentId"`
	UserID       *string `json:"userId"`
	StartedAt    string  `json:"startedAt"`
	Minutes      float64 `json:"minutes"`
	Interactive  bool    `json:"interactive"`
	Note         string  `json:"note"`
	CreatedAt    string  `json:"createdAt"`
}

func toWireTime(t *store.TimeEntry) wireTimeEntry {
	w := wireTimeEntry{
		ID: prefixTime + t.UUID, EnrollmentID: prefixEnrollment + t.EnrollmentUUID, StartedAt: rfc3339(t.StartedAt),
		Minutes: math.Round(t.Duration.Minutes()*100) / 100, Interactive: t.Interactive, Note: t.Note, CreatedAt: rfc3339(t.CreatedAt),
	}
	if t.UserUUID != "" {
		u := prefixUser + t.UserUUID
		w.UserID = &u
	}
	return w
}

type timeInput struct {
	StartedAt   string  `json:"startedAt" format:"date-time"`
	Minutes     float64 `json:"minutes" range:"minutes"` // more than 0
	Interactive bool    `json:"interactive"`
	Note        string  `json:"note" bound:"note"`
}

// createTimeEntry: POST /api/enrollments/{id}/time-entries. The entry is
// the signed-in user's; startedAt defaults to now minus its minutes.
func (h *Handler) createTimeEntry(w http.ResponseWriter, r *http.Request) {
	var in timeInput
	if err := httpx.DecodeJSON(w, r, &in, 16<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	u, ok := modelID(prefixEnrollment, r.PathValue("id"))
	if !ok {
		h.fail(w, r, notFound("enrollment"))
		return
	}
	if in.Minutes <= 0 || in.Minutes > store.MaxTimeEntryMinutes || math.IsNaN(in.Minutes) {
		h.fail(w, r, store.Invalid("minutes", fmt.Sprintf("must be more than 0 and at most %d", store.MaxTimeEntryMinutes)))
		return
	}
	d := time.Duration(in.Minutes * float64(time.Minute)).Round(time.Second)
	t := &store.TimeEntry{UserID: signInFrom(r.Context()).UserID, Duration: d, Interactive: in.Interactive, Note: in.Note,
		StartedAt: h.now().Add(-d)}
	if in.StartedAt != "" {
		at, err := time.Parse(time.RFC3339, in.StartedAt)
		if err != nil {
			h.fail(w, r, store.Invalid("startedAt", "must be a date and time as RFC 3339"))
			return
		}
		t.StartedAt = at.UTC()
	}
	if err := h.store.LogTime(r.Context(), orgID(r), u, t); err != nil {
		h.fail(w, r, err)
		return
	}
	t.UserUUID = signInFrom(r.Context()).UserUUID
	httpx.JSON(w, http.StatusCreated, toWireTime(t))
}

// listTimeEntries: GET /api/enrollments/{id}/time-entries?month=YYYY-MM.
func (h *Handler) listTimeEntries(w http.ResponseWriter, r *http.Request) {
	u, ok := modelID(prefixEnrollment, r.PathValue("id"))
	if !ok {
		h.fail(w, r, notFound("enrollment"))
		return
	}
	var from, to time.Time
	if m := r.URL.Query().Get("month"); m != "" {
		var err error
		if from, to, err = store.ParseMonth(m); err != nil {
			h.fail(w, r, badRequest("month must be a month as YYYY-MM"))
			return
		}
	}
	ts, err := h.store.TimeEntries(r.Context(), orgID(r), u, from, to)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := listResponse[wireTimeEntry]{Data: make([]wireTimeEntry, len(ts))}
	for i := range ts {
		out.Data[i] = toWireTime(&ts[i])
	}
	httpx.JSON(w, http.StatusOK, out)
}
