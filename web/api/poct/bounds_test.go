package poct_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// TestDocumentedBounds: every maxLength the OpenAPI document states for a
// request field is the one enforced: a value of that length is stored, one
// character more is refused (422), and the bound is the store's constant.
func TestDocumentedBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc := e.do("GET", "/api/poct/v1/openapi.json", "", nil).json(t)
	// Routes whose body can be sent alone, with only the field under test.
	creates := map[string]map[string]any{
		"/api/poct/v1/patients": {"family_name": "Jensen"},
	}
	checked := 0
	for path, base := range creates {
		props, _ := field(doc, "paths."+path+".post.requestBody.content.application/json.schema.properties").(map[string]any)
		if props == nil {
			t.Fatalf("%s: no request schema", path)
		}
		for name, sc := range props {
			max, ok := sc.(map[string]any)["maxLength"].(float64)
			if !ok {
				continue
			}
			checked++
			known := false
			for _, b := range store.Bounds {
				known = known || b == int(max)
			}
			if !known {
				t.Errorf("%s %s: maxLength %v is none of the store's bounds", path, name, max)
			}
			for _, n := range []int{int(max), int(max) + 1} {
				body := map[string]any{}
				for k, v := range base {
					body[k] = v
				}
				body[name] = strings.Repeat("x", n)
				r := e.do("POST", path, e.tokenA, body)
				want := http.StatusCreated
				if n > int(max) {
					want = http.StatusUnprocessableEntity
				}
				if r.status != want {
					t.Errorf("%s %s of %d characters (documented maxLength %v): %d, want %d: %s", path, name, n, max, r.status, want, r.body)
				}
			}
		}
	}
	if checked < 5 {
		t.Errorf("%d bounded fields documented, want the patient's five", checked)
	}
}
