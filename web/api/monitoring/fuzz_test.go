package monitoring

import (
	"github.com/clinicbox/clinicbox/web/httpx"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzObservationBody posts arbitrary bodies to the observation create:
// every answer is a success or a 4xx in the face's error shape, never a 500.
func FuzzObservationBody(f *testing.F) {
	f.Add(`{"patientId":"patient_x","metricDefinitionId":"metric_bp_systolic","value":142,"unit":"mmHg","source":"DEVICE","recordedAt":"2026-01-15T07:00:00Z"}`)
	f.Add(`{"value":"1e400"}`)
	f.Add(`[]`)
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(body, "patient_x", e.patA)
		req := httptest.NewRequest("POST", "/api/observations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.tokA)
		req.Header.Set("X-Organization-ID", e.hdrA)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux := http.NewServeMux()
		httpx.Register(mux, e.h.Routes())
		mux.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%d for %q: %s", w.Code, body, w.Body)
		}
		if w.Code >= 400 && !strings.Contains(w.Body.String(), `"code":`) {
			t.Fatalf("error not in the face's shape: %s", w.Body)
		}
	})
}

// FuzzCursor: any cursor string decodes or is refused, without panicking.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(readingCursor{At: 1, ID: 2}))
	f.Add("eyJ9")
	f.Fuzz(func(t *testing.T, s string) {
		var c readingCursor
		decodeCursor(s, &c)
		var i idCursor
		decodeCursor(s, &i)
	})
}
