package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

func TestWebhookLinkingAndPlacesPages(t *testing.T) {
	ctx := context.Background()
	s := newNorth(t, storetest.Open(t))
	st, org := s.st, s.north
	room := &store.WaitingRoom{Name: "Neuro", SlotDuration: 900, Timezone: "UTC", Active: true}
	if err := st.CreateWaitingRoom(ctx, org.ID, room); err != nil {
		t.Fatal(err)
	}
	hook := &store.Webhook{Endpoint: "http://127.0.0.1:1/hook", Events: []string{store.EventPatientCreated}}
	if err := st.CreateWebhook(ctx, org.ID, hook); err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePatient(ctx, org.ID, &store.Patient{MRN: "M-1", Active: true}); err != nil {
		t.Fatal(err)
	}
	evs, _ := st.EventsAfter(ctx, org.ID, 0, 100)
	if _, err := st.EnqueueDeliveries(ctx, "test", evs, func(ev store.Event) (any, bool) {
		return map[string]int64{"patientId": ev.SubjectID}, ev.Type == store.EventPatientCreated
	}); err != nil {
		t.Fatal(err)
	}
	ds, _ := st.WebhookDeliveries(ctx, org.ID, store.DeliveryFilter{})
	if len(ds) != 1 {
		t.Fatalf("deliveries %v", ds)
	}
	// Make it a failed delivery, as the worker would after 24 hours.
	if err := st.RecordDeliveryAttempt(ctx, ds[0].ID, store.DeliveryAttempt{At: st.Now(), HTTPStatus: 500, Err: "endpoint answered 500", GiveUp: true}); err != nil {
		t.Fatal(err)
	}

	s.srv = serve(t, st)
	signIn := func(email string) *client { return s.signIn(t, email) }
	admin, doc := signIn("admin@north.example"), signIn("doc@north.example")

	for _, path := range []string{"/admin/integrations/webhooks", "/admin/integrations/linking", "/admin/integrations/locations"} {
		if code, _, _ := doc.do("GET", path, nil); code != http.StatusForbidden {
			t.Errorf("clinician GET %s: %d, want 403", path, code)
		}
	}
	code, _, body := admin.do("GET", "/admin/integrations/webhooks", nil)
	id := itoa(ds[0].ID)
	if code != 200 || !strings.Contains(body, `data-testid="webhook-`+hook.UUID) || !strings.Contains(body, `data-testid="delivery-status-`+id+`">failed`) ||
		!strings.Contains(body, "endpoint answered 500") || !strings.Contains(body, `data-testid="retry-`+id) {
		t.Fatalf("webhooks page: %d\n%s", code, body)
	}
	if strings.Contains(body, hook.EncryptionKey) {
		t.Error("the webhooks page shows the encryption key")
	}
	if code, loc, _ := admin.do("POST", "/admin/integrations/webhooks/deliveries/"+id+"/retry", url.Values{}); code != http.StatusSeeOther || loc != "/admin/integrations/webhooks" {
		t.Fatalf("retry: %d %s", code, loc)
	}
	if d, _ := st.WebhookDeliveries(ctx, org.ID, store.DeliveryFilter{}); d[0].Status != store.DeliveryPending || d[0].Attempts != 0 {
		t.Errorf("after retry now: %s, %d attempts", d[0].Status, d[0].Attempts)
	}

	o, _ := st.Org(ctx, org.ID)
	if _, _, body := admin.do("GET", "/admin/integrations/linking", nil); !strings.Contains(body, o.LinkingSecret) {
		t.Error("linking page does not show the secret")
	}
	if code, _, _ := admin.do("POST", "/admin/integrations/linking/rotate", url.Values{}); code != http.StatusSeeOther {
		t.Errorf("rotate: %d", code)
	}
	if o2, _ := st.Org(ctx, org.ID); o2.LinkingSecret == o.LinkingSecret || o2.LinkingSecret == "" {
		t.Error("secret not rotated")
	}

	code, _, body = admin.do("POST", "/admin/integrations/locations", url.Values{"name": {"Main"}, "geolocationId": {"123"}, "waitingRoom": {itoa(room.ID)}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "must be a UUID") {
		t.Errorf("bad geolocation id: %d", code)
	}
	if code, _, _ := admin.do("POST", "/admin/integrations/locations", url.Values{"name": {"Main"},
		"geolocationId": {"5C0A9A4E-2B7C-4D7E-9F51-0E7D3C2B1A90"}, "waitingRoom": {itoa(room.ID)}}); code != http.StatusSeeOther {
		t.Fatalf("add location: %d", code)
	}
	l, err := st.LocationByGeolocationID(ctx, org.ID, "5c0a9a4e-2b7c-4d7e-9f51-0e7d3c2b1a90")
	if err != nil || l.WaitingRoomID != room.ID {
		t.Fatalf("location %+v %v", l, err)
	}
	if code, _, body := admin.do("POST", "/admin/integrations/care-locations", url.Values{"cl_name": {"ICC-1"}, "room": {"431"},
		"department": {"ER"}, "deviceSerial": {"123457"}, "patientMrn": {"nobody"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "no patient has this MRN") {
		t.Errorf("unknown MRN: %d", code)
	}
	if code, _, _ := admin.do("POST", "/admin/integrations/care-locations", url.Values{"cl_name": {"ICC-1"}, "room": {"431"},
		"department": {"ER"}, "deviceSerial": {"123457"}, "patientMrn": {"M-1"}, "location": {itoa(l.ID)}}); code != http.StatusSeeOther {
		t.Fatalf("add care location: %d", code)
	}
	cl, err := st.FindCareLocation(ctx, org.ID, store.CareLocationQuery{PatientMRN: "M-1"})
	if err != nil || cl.DeviceSerial != "123457" || cl.LocationID != l.ID {
		t.Errorf("care location %+v %v", cl, err)
	}
	if code, _, _ := admin.do("POST", "/admin/integrations/report-presets", url.Values{"preset_name": {"Visits"}, "columns": {"date", "mrn"}}); code != http.StatusSeeOther {
		t.Fatalf("add preset: %d", code)
	}
	if code, _, _ := admin.do("POST", "/admin/integrations/report-presets", url.Values{"preset_name": {"Bad"}, "columns": {"password"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("bad column: %d", code)
	}
	_, _, body = admin.do("GET", "/admin/integrations/locations", nil)
	for _, want := range []string{"Main", "ICC-1", "123457", "Visits"} {
		if !strings.Contains(body, want) {
			t.Errorf("locations page lacks %q", want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
