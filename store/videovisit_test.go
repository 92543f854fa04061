package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// Each call change moves the video status (and the visit's status where the
// call implies it) and writes the documented webhook event, or changes
// nothing when it does not apply.
func TestRecordVideo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                  string
		status, video         string
		change                store.VideoChange
		wantStatus, wantVideo string
		wantEvent             string // "" = no event at all
	}{
		{"patient arrives in the lobby", store.StatusScheduled, "", store.VideoPatientWaiting, store.StatusArrived, "waiting", store.EventAppointmentStatus},
		{"admitted", store.StatusArrived, "waiting", store.VideoAdmitted, store.StatusExamProgress, "on call", store.EventAppointmentStatus},
		{"admitted during intake keeps intake", store.StatusIntakeProgress, "waiting", store.VideoAdmitted, store.StatusIntakeProgress, "on call", store.EventAppointmentUpdated},
		{"left the lobby unseen", store.StatusArrived, "waiting", store.VideoLeftUnseen, store.StatusArrived, "LWBS", store.EventAppointmentLWBS},
		{"left unseen after the call: nothing", store.StatusExamProgress, "on call", store.VideoLeftUnseen, store.StatusExamProgress, "on call", ""},
		{"call dropped", store.StatusExamProgress, "on call", store.VideoDropped, store.StatusExamProgress, "incomplete", store.EventAppointmentIncompleted},
		{"dropped from the lobby: nothing", store.StatusArrived, "waiting", store.VideoDropped, store.StatusArrived, "waiting", ""},
		{"ended by the clinician", store.StatusExamProgress, "on call", store.VideoEnded, store.StatusCompleted, "complete", store.EventAppointmentCompleted},
		{"rejoining after a drop waits again", store.StatusExamProgress, "incomplete", store.VideoPatientWaiting, store.StatusExamProgress, "waiting", store.EventAppointmentUpdated},
		{"rejoining on call stays on call", store.StatusExamProgress, "on call", store.VideoPatientWaiting, store.StatusExamProgress, "on call", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, _ := newStore(t)
			f := newFixture(t, st, "v")
			ctx := context.Background()
			a := &store.Appointment{PatientID: f.patient.ID, WaitingRoomID: f.room.ID, Status: tc.status, VideoStatus: tc.video}
			if err := st.CreateAppointment(ctx, f.org.ID, a); err != nil {
				t.Fatal(err)
			}
			last, _ := st.LastEventID(ctx)
			got, err := st.RecordVideo(ctx, f.org.ID, a.ID, tc.change)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.wantStatus || got.VideoStatus != tc.wantVideo {
				t.Errorf("status %q video %q, want %q %q", got.Status, got.VideoStatus, tc.wantStatus, tc.wantVideo)
			}
			evs, _ := st.EventsAfter(ctx, f.org.ID, last, 100)
			var types []string
			for _, e := range evs {
				types = append(types, e.Type)
			}
			if tc.wantEvent == "" && len(types) > 0 {
				t.Errorf("events %v, want none", types)
			}
			if tc.wantEvent != "" && !slices.Contains(types, tc.wantEvent) {
				t.Errorf("events %v lack %s", types, tc.wantEvent)
			}
		})
	}
}

func TestRecordVideoRefusesEndedVisits(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	f := newFixture(t, st, "v")
	other := newFixture(t, st, "w")
	ctx := context.Background()
	a := &store.Appointment{PatientID: f.patient.ID, WaitingRoomID: f.room.ID, Status: store.StatusCompleted}
	if err := st.CreateAppointment(ctx, f.org.ID, a); err != nil {
		t.Fatal(err)
	}
	var conflict *store.ConflictError
	if _, err := st.RecordVideo(ctx, f.org.ID, a.ID, store.VideoPatientWaiting); !errors.As(err, &conflict) {
		t.Errorf("joining a completed visit: %v, want a conflict", err)
	}
	if _, err := st.RecordVideo(ctx, other.org.ID, a.ID, store.VideoAdmitted); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another organisation's appointment: %v, want not found", err)
	}
}

func TestGuestTokenAndChat(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	f := newFixture(t, st, "v")
	other := newFixture(t, st, "w")
	ctx := context.Background()
	a := &store.Appointment{PatientID: f.patient.ID, WaitingRoomID: f.room.ID}
	if err := st.CreateAppointment(ctx, f.org.ID, a); err != nil {
		t.Fatal(err)
	}
	tok, err := st.GuestToken(ctx, f.org.ID, a.ID)
	if err != nil || len(tok) < 30 {
		t.Fatalf("guest token %q, %v", tok, err)
	}
	if again, _ := st.GuestToken(ctx, f.org.ID, a.ID); again != tok {
		t.Errorf("second call made a new token")
	}
	got, role, err := st.AppointmentByToken(ctx, tok)
	if err != nil || got.ID != a.ID || role != "guest" {
		t.Errorf("by guest token: %v %q %v", got, role, err)
	}
	for _, tc := range []struct{ token, role string }{{a.PatientToken, "patient"}, {a.ProviderToken, "provider"}} {
		if _, role, err := st.AppointmentByToken(ctx, tc.token); err != nil || role != tc.role {
			t.Errorf("role %q, %v; want %q", role, err, tc.role)
		}
	}
	if _, err := st.GuestToken(ctx, other.org.ID, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("guest token of another organisation: %v", err)
	}

	for _, tc := range []struct {
		body, role, field string
	}{
		{"   ", "patient", "body"},
		{strings.Repeat("x", store.MaxChatLength+1), "patient", "body"},
		{"hi", "admin", "role"},
	} {
		var ve *store.ValidationError
		err := st.AddVisitChat(ctx, f.org.ID, &store.ChatMessage{AppointmentID: a.ID, AuthorRole: tc.role, Body: tc.body})
		if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
			t.Errorf("chat %q as %s: %v, want an error on %s", tc.body[:min(len(tc.body), 10)], tc.role, err, tc.field)
		}
	}
	if err := st.AddVisitChat(ctx, other.org.ID, &store.ChatMessage{AppointmentID: a.ID, AuthorRole: "patient", Body: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("chat into another organisation's visit: %v", err)
	}
	for _, m := range []store.ChatMessage{{AuthorRole: "patient", AuthorName: "Anna", Body: " hello "}, {AuthorRole: "provider", AuthorName: "Dr", Body: "hi Anna"}} {
		m.AppointmentID = a.ID
		if err := st.AddVisitChat(ctx, f.org.ID, &m); err != nil {
			t.Fatal(err)
		}
	}
	chat, err := st.VisitChat(ctx, f.org.ID, a.ID)
	if err != nil || len(chat) != 2 || chat[0].Body != "hello" || chat[1].AuthorRole != "provider" || chat[0].CreatedAt.IsZero() {
		t.Fatalf("chat = %+v, %v", chat, err)
	}
	if chat, _ := st.VisitChat(ctx, other.org.ID, a.ID); len(chat) != 0 {
		t.Errorf("another organisation reads %d chat lines", len(chat))
	}
}
