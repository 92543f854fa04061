package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// A patient waiting in the video lobby shows on the board with a badge and a
// way into the call; once admitted, as on a call.
func TestBoardShowsVideoLobby(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pat := &store.Patient{Names: []store.HumanName{{FirstName: "Vi", LastName: "Dahl"}}, Active: true}
	must(t, e.st.CreatePatient(ctx, e.org.ID, pat))
	b := e.browser().signIn("front@test.example")
	now := time.Now().Truncate(time.Minute)
	if now.In(e.room.Location()).Format("2006-01-02") != now.Add(20*time.Minute).In(e.room.Location()).Format("2006-01-02") {
		t.Skip("midnight")
	}
	id := e.createAppointment(b, pat.ID, now)
	a, err := e.st.Appointment(ctx, e.org.ID, id)
	must(t, err)
	badge := `data-testid="video-waiting-` + itoa(id) + `"`
	if strings.Contains(b.get("/board").body, badge) {
		t.Fatal("badge before anyone waits")
	}
	for _, tc := range []struct {
		change     store.VideoChange
		want, gone string
	}{
		{store.VideoPatientWaiting, badge, `data-testid="video-oncall-` + itoa(id) + `"`},
		{store.VideoAdmitted, `data-testid="video-oncall-` + itoa(id) + `"`, badge},
	} {
		_, err := e.st.RecordVideo(ctx, e.org.ID, id, tc.change)
		must(t, err)
		body := b.get("/board").body
		if !strings.Contains(body, tc.want) || strings.Contains(body, tc.gone) {
			t.Errorf("after %s: want %s and not %s", tc.change, tc.want, tc.gone)
		}
		if !strings.Contains(body, `href="/visit/`+a.ProviderToken+`"`) {
			t.Errorf("after %s: no link into the call", tc.change)
		}
	}
}
