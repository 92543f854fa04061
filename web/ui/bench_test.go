package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// BenchmarkBoardRender measures the server time of GET /board for a day of
// 300 appointments in every status (handler called directly, no network).
func BenchmarkBoardRender(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	loc := e.room.Location()
	now := time.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 7, 0, 0, 0, loc)
	var pats []int64
	for i := range 60 {
		p := &store.Patient{Names: []store.HumanName{{FirstName: fmt.Sprint("First", i), LastName: fmt.Sprint("Last", i)}}, MRN: fmt.Sprint("B", i)}
		must(b, e.st.CreatePatient(ctx, e.org.ID, p))
		pats = append(pats, p.ID)
	}
	for i := range 300 {
		a := &store.Appointment{PatientID: pats[i%len(pats)], WaitingRoomID: e.room.ID, ProviderID: e.doc.ID,
			Start: day.Add(time.Duration(i*2) * time.Minute), Reasons: []string{"Follow-up", "Blood pressure"},
			Status: store.AppointmentStatuses[i%len(store.AppointmentStatuses)]}
		must(b, e.st.CreateAppointment(ctx, e.org.ID, a))
	}
	br := e.browser().signIn("doc@test.example")
	u, _ := url.Parse(e.srv.URL)
	var cookie string
	for _, c := range br.c.Jar.Cookies(u) {
		cookie += c.Name + "=" + c.Value + "; "
	}
	req := httptest.NewRequest("GET", "/board", nil)
	req.Header.Set("Cookie", cookie)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `class="card card-`) != 300 {
		b.Fatalf("board: %d, %d cards", rec.Code, strings.Count(rec.Body.String(), `class="card card-`))
	}
	b.ReportMetric(float64(rec.Body.Len()), "bytes/page")
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req.Clone(ctx))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
