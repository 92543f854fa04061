package poct_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clinicbox/clinicbox/web/api/poct"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// httpRecorderGet sends a request that arrived without TLS.
func httpRecorderGet(t *testing.T, e *env, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	httpx.Register(mux, poct.New(poct.Deps{Store: e.st, RequireTLS: true}).Routes())
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}
