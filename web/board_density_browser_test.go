package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/store"
)

// roomFit is what the density check measures of one room on the board.
type roomFit struct {
	Room      string  `json:"room"`
	Cards     int     `json:"cards"`
	Height    float64 `json:"height"`    // the room section's height
	Overflows int     `json:"overflows"` // cards whose box sticks out of their group sideways
	Wraps     int     `json:"wraps"`     // one-line cards taller than one line
}

// TestBrowserBoardDensity: a day with 30 appointments in a room fits on one
// laptop screen (1366x900) per room, without sideways scrolling, whatever
// groups the appointments are in: a mixed day (done, in progress, waiting,
// scheduled) and the start of a day (all 30 scheduled).
func TestBrowserBoardDensity(t *testing.T) {
	exe := chromium(t)
	c := newDayClinic(t, 30)
	ctx := context.Background()
	// The start of a day: 30 appointments, none arrived yet.
	early := &store.WaitingRoom{Name: "Blodprøver", SlotDuration: 600, Timezone: "Europe/Copenhagen", Active: true}
	must(t, c.st.CreateWaitingRoom(ctx, c.org.ID, early))
	loc := early.Location()
	now := c.st.Now().In(loc)
	start := time.Date(now.Year(), now.Month(), now.Day(), 7, 30, 0, 0, loc)
	for i := 0; i < 30; i++ {
		must(t, c.st.CreateAppointment(ctx, c.org.ID, &store.Appointment{PatientID: c.pats[i].ID, WaitingRoomID: early.ID,
			Start: start.Add(time.Duration(i) * 10 * time.Minute), Reasons: []string{"Blodprøve"}}))
	}

	for _, lang := range []struct{ code, user string }{{"en", "doc@day.example"}, {"da", "laege@day.example"}} {
		b := newBrowser(t, exe)
		run(t, b, "sign in "+lang.code, signInAs(c.srv.URL, lang.user), chromedp.EmulateViewport(1366, 900),
			chromedp.Navigate(c.srv.URL+"/board?date="+now.Format("2006-01-02")),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="board"]`)))
		if evalBool(t, b, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
			t.Errorf("%s: the board scrolls sideways", lang.code)
		}
		raw, err := chromedp.Run(b, chromedp.Evaluate[string](`JSON.stringify([...document.querySelectorAll('section.room')].map(room => {
			const cards = [...room.querySelectorAll('li.card')];
			let overflows = 0, wraps = 0;
			for (const card of cards) {
				const g = card.closest('.group').getBoundingClientRect(), r = card.getBoundingClientRect();
				if (r.left < g.left - 0.5 || r.right > g.right + 0.5) overflows++;
				if (card.closest('.group-dense') && r.height > 30) wraps++;
			}
			return {room: room.querySelector('h2').textContent, cards: cards.length,
				height: room.getBoundingClientRect().height, overflows, wraps};
		}))`))
		must(t, err)
		var rooms []roomFit
		must(t, json.Unmarshal([]byte(raw), &rooms))
		viewport := float64(evalInt(t, b, `window.innerHeight`))
		checked := 0
		for _, r := range rooms {
			t.Logf("%s: room %s: %d cards, %.0f px high (viewport %.0f)", lang.code, r.Room, r.Cards, r.Height, viewport)
			if r.Cards != 30 {
				continue
			}
			checked++
			if r.Height > viewport {
				t.Errorf("%s: room %s with 30 appointments is %.0f px high, more than the %.0f px screen", lang.code, r.Room, r.Height, viewport)
			}
			if r.Overflows > 0 {
				t.Errorf("%s: room %s: %d cards stick out of their group", lang.code, r.Room, r.Overflows)
			}
			if r.Wraps > 0 {
				t.Errorf("%s: room %s: %d one-line cards wrap onto a second line", lang.code, r.Room, r.Wraps)
			}
		}
		if checked != 3 {
			t.Errorf("%s: measured %d rooms with 30 appointments, want 3: %+v", lang.code, checked, rooms)
		}
		if dir := os.Getenv("CLINICBOX_UPDATE_SCREENSHOTS"); dir == "1" {
			// One room at a time, as a person sees it on the laptop.
			for i := range rooms {
				png, err := chromedp.Run(b, chromedp.Screenshot(chromedp.CSS(fmt.Sprintf(`section.room:nth-of-type(%d)`, i+1))))
				must(t, err)
				must(t, os.WriteFile(filepath.Join("..", "docs", "screenshots", fmt.Sprintf("board-30-room%d-%s-laptop.png", i+1, lang.code)), png, 0o644))
			}
		}
	}
}
