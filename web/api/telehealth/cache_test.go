package telehealth

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// A GET sent after a PUT's answer sees the PUT, by the client's id and by
// SPID, while other clients keep filling the cache with what they read
// before it.
func TestPatientCacheCoherentWithWrites(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	status, _, body := e.do("POST", "/qapi/v1/patients", e.keyA, "application/json", []byte(`{"id":"race-1","name":[{"firstName":"Ada","lastName":"Lund"}]}`))
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	spid := strings.TrimSpace(string(body))
	if _, err := strconv.ParseInt(spid, 10, 64); err != nil {
		t.Fatalf("SPID %q", body)
	}
	paths := []string{"/qapi/v1/patients/race-1", "/qapi/v1/patients/id/type/SPID/value/" + spid}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", e.srv.URL+paths[i%2], nil)
				req.Header.Set("Api-Key", e.keyA)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for i := range 100 {
		want := fmt.Sprint("MRN-", i)
		if status, _, body := e.do("PUT", paths[i%2], e.keyA, "application/json", []byte(`{"mrn":"`+want+`"}`)); status != 200 {
			t.Fatalf("PUT %d: %d %s", i, status, body)
		}
		for _, p := range paths {
			status, _, body := e.do("GET", p, e.keyA, "", nil)
			var got struct {
				MRN string `json:"mrn"`
			}
			if status != 200 || json.Unmarshal(body, &got) != nil || got.MRN != want {
				t.Fatalf("GET %s after PUT %d: %d %s, want mrn %s", p, i, status, body, want)
			}
		}
	}
	// A new client id answers at once; the old one is no longer found.
	if status, _, body := e.do("PUT", paths[1], e.keyA, "application/json", []byte(`{"id":"race-2"}`)); status != 200 {
		t.Fatalf("PUT id: %d %s", status, body)
	}
	if status, _, _ := e.do("GET", "/qapi/v1/patients/race-1", e.keyA, "", nil); status != 404 {
		t.Errorf("old client id after rename: %d", status)
	}
	if status, _, _ := e.do("GET", "/qapi/v1/patients/race-2", e.keyA, "", nil); status != 200 {
		t.Errorf("new client id after rename: %d", status)
	}
	// Another organisation's key never reads it, cached or not.
	if status, _, _ := e.do("GET", "/qapi/v1/patients/id/type/SPID/value/"+spid, e.keyB, "", nil); status != 404 {
		t.Errorf("org B read org A's patient: %d", status)
	}
}
