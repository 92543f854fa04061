package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/live"
)

// monitoringClinic is a running appliance with one patient in remote
// monitoring (the default rules: SpO2 < 88 raises a critical alert).
type monitoringClinic struct {
	st      *store.Store
	srv     *httptest.Server
	org     *store.Org
	doc     *store.User
	patient *store.Patient
	enr     *store.Enrollment
}

func newMonitoringClinic(t *testing.T) *monitoringClinic {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	c := &monitoringClinic{st: st, org: &store.Org{Name: "Hjemmeklinikken", Slug: "rpm"}}
	must(t, st.CreateOrg(ctx, c.org))
	c.doc = &store.User{Email: "doc@rpm.example", Name: "Dora Doc", Role: store.RoleClinician}
	must(t, st.CreateUser(ctx, c.org.ID, c.doc, dayPassword))
	c.patient = &store.Patient{Names: []store.HumanName{{FirstName: "Hanne", LastName: "Holm"}}, Active: true, MRN: "H-1"}
	must(t, st.CreatePatient(ctx, c.org.ID, c.patient))
	c.enr = &store.Enrollment{PatientID: c.patient.ID, Program: store.ProgramRPM, StartDate: st.Now().AddDate(0, 0, -3).Format(time.DateOnly),
		Rules: store.DefaultAlertRules()}
	must(t, st.CreateEnrollment(ctx, c.org.ID, c.enr))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	hctx, stopHub := context.WithCancel(ctx)
	go hub.Run(hctx)
	c.srv = httptest.NewServer(web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "https://clinic.example",
		SessionKeys: [][]byte{[]byte("browser-test-key-0123456789abcdef")}}))
	t.Cleanup(func() { c.srv.Close(); hub.Close(); stopHub() })
	return c
}

// api calls the monitoring API as a client does and decodes the answer.
func (c *monitoringClinic) api(t *testing.T, method, path, token string, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	must(t, err)
	req, err := http.NewRequest(method, c.srv.URL+path, bytes.NewReader(b))
	must(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Organization-ID", "org_"+c.org.UUID)
	}
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, body)
	}
	if out != nil {
		must(t, json.Unmarshal(body, out))
	}
}

// TestBrowserMonitoringWorklist: an alert raised through the monitoring
// API appears on the open worklist without a reload.
func TestBrowserMonitoringWorklist(t *testing.T) {
	exe := chromium(t)
	c := newMonitoringClinic(t)
	b := newBrowser(t, exe)
	run(t, b, "open the worklist", signInAs(c.srv.URL, c.doc.Email),
		chromedp.Navigate(c.srv.URL+"/monitoring"),
		chromedp.WaitVisible(chromedp.CSS(`#worklist[data-live="on"] [data-testid="worklist-empty"]`)))
	evalBool(t, b, `window.__noReload = true`)

	var login struct {
		AccessToken string `json:"accessToken"`
	}
	c.api(t, "POST", "/api/auth/login", "", map[string]string{"email": c.doc.Email, "password": dayPassword}, &login)
	var obs struct {
		AlertIDs []string `json:"alertIds"`
	}
	c.api(t, "POST", "/api/observations", login.AccessToken, map[string]any{"patientId": "patient_" + c.patient.UUID,
		"metricDefinitionId": "metric_spo2", "value": 84, "unit": "%", "source": "DEVICE",
		"recordedAt": c.st.Now().UTC().Format(time.RFC3339)}, &obs)
	if len(obs.AlertIDs) != 1 {
		t.Fatalf("SpO2 84 raised alerts %v, want one", obs.AlertIDs)
	}
	row := `[data-testid="alert-` + strings.TrimPrefix(obs.AlertIDs[0], "alert_") + `"]`
	run(t, b, "the alert appears", chromedp.WaitVisible(chromedp.CSS(row)))
	if !evalBool(t, b, `window.__noReload === true`) {
		t.Error("the worklist reloaded the page to show the alert")
	}
	text, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(row)))
	must(t, err)
	if !strings.Contains(text, "Hanne Holm") || !strings.Contains(text, "critical") {
		t.Errorf("the alert's row: %q", text)
	}
}

// TestBrowserMonitoringTimer: the time log's timer starts and stops, fills
// the minutes in, and the entry is saved.
func TestBrowserMonitoringTimer(t *testing.T) {
	exe := chromium(t)
	c := newMonitoringClinic(t)
	b := newBrowser(t, exe)
	run(t, b, "open the enrollment", signInAs(c.srv.URL, c.doc.Email),
		chromedp.Navigate(c.srv.URL+"/monitoring/enrollments/"+c.enr.UUID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="timer"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="timer"]`)))
	if got, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS(`[data-testid="timer"]`))); got != "Stop timer" {
		t.Errorf("the running timer's button says %q", got)
	}
	// The minutes are tenths: 0.1 needs at least three seconds.
	time.Sleep(3500 * time.Millisecond)
	run(t, b, "stop it", chromedp.Click(chromedp.CSS(`[data-testid="timer"]`)))
	shown, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`[data-timer-display]`)))
	must(t, err)
	minutes, err := chromedp.Run(b, chromedp.Value(chromedp.CSS(`[data-testid="minutes"]`)))
	must(t, err)
	if !strings.HasPrefix(shown, "0:0") || shown == "0:00" || minutes == "" || minutes == "0" {
		t.Fatalf("after the timer ran: display %q, minutes %q", shown, minutes)
	}
	run(t, b, "save the entry",
		chromedp.Click(chromedp.CSS(`[data-testid="interactive"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-note`), "Telefonsamtale"),
		chromedp.Click(chromedp.CSS(`[data-testid="log-time"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="time-log"]`)))
	screenshot(t, b, "monitoring-enrollment.png")
	from, to, _ := store.ParseMonth(c.st.Now().Format("2006-01"))
	te, err := c.st.TimeEntries(context.Background(), c.org.ID, c.enr.UUID, from, to)
	must(t, err)
	if len(te) != 1 || !te[0].Interactive || te[0].Note != "Telefonsamtale" || te[0].Duration < 3*time.Second || te[0].Duration > time.Minute {
		t.Fatalf("saved entries: %+v (minutes field %q)", te, minutes)
	}
}
