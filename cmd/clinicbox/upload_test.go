package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/api/instrument"
)

// maxUploadRSS is the bound: the server's resident memory while
// 16 maximum-size uploads arrive at once.
const maxUploadRSS = 250 << 20

// atLength says whether the resource tests run at the full size
// (make attack sets CLINICBOX_ATTACK=1) rather than the small one that
// keeps make test quick.
func atLength() bool { return os.Getenv("CLINICBOX_ATTACK") != "" && !testing.Short() }

// uploadCount is how many maximum-size uploads TestUploadMemory sends at
// once: 16, as the issue asks, under make attack; 4 otherwise.
func uploadCount() int {
	if atLength() {
		return 16
	}
	return 4
}

// TestUploadMemory sends concurrent maximum-size instrument-result posts
// (48 MB bodies, two base64 files each, the first of the largest size a
// file may have) with a valid token to a server running as its own
// process, samples its memory from /proc all along, and checks that the
// peak stays under maxUploadRSS, that every upload is answered 201 (or 503
// with Retry-After, retried like a client would), and that every file is
// stored byte for byte (SHA-256 of what was sent against what the database
// holds).
func TestUploadMemory(t *testing.T) {
	t.Parallel()
	n := uploadCount()
	data := t.TempDir()
	ctx := context.Background()

	// The clinic: one organisation, one patient, one instrument client.
	// Not storetest: the child server's --data directory, closed before it starts.
	st, err := store.Open(ctx, filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	org := &store.Org{Name: "Upload clinic", Slug: "upload"}
	if err := st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	patient := &store.Patient{Active: true, Names: []store.HumanName{{FirstName: "Ada", LastName: "Upload"}}}
	if err := st.CreatePatient(ctx, org.ID, patient); err != nil {
		t.Fatal(err)
	}
	client, secret, err := st.CreateInstrumentClient(ctx, org.ID, "ECG vendor")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	c := startChild(t, data)
	baseRSS, _ := c.memory(t)
	token := instrumentToken(t, c.base, client.ClientID, secret)

	// Two random files, shared by every upload; upload i writes its number
	// into the first six bytes of the first file, so each stored file is
	// checked against its own content.
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	file1 := make([]byte, instrument.MaxFile)
	for i := range file1 {
		file1[i] = byte(rng.Uint32())
	}
	b64File1 := base64.StdEncoding.EncodeToString(file1)
	head := func(i int) (string, []byte) {
		b := append([]byte(fmt.Sprintf("%06d", i)), file1[6:]...)
		return base64.StdEncoding.EncodeToString(b[:6]), b
	}
	prefix := `{"patientID":"` + patient.UUID + `","measurementType":"ECG","measuredAt":"2026-12-02T09:00:00Z",` +
		`"results":[{"code":"NPU03011","value":"7.40"}],"files":[{"filename":"ecg.pdf","data":"`
	middle := `"},{"filename":"spiro.bin","data":"`
	suffix := `"}]}`
	size2 := (instrument.MaxBody-len(prefix)-len(b64File1)-len(middle)-len(suffix))/4*3 - 3
	file2 := make([]byte, size2)
	for i := range file2 {
		file2[i] = byte(rng.Uint32())
	}
	b64File2 := base64.StdEncoding.EncodeToString(file2)
	bodyLen := int64(len(prefix) + len(b64File1) + len(middle) + len(b64File2) + len(suffix))
	if bodyLen > instrument.MaxBody || bodyLen < instrument.MaxBody-8 {
		t.Fatalf("body of %d bytes, want just under %d", bodyLen, instrument.MaxBody)
	}
	sum2 := sha256.Sum256(file2)
	want := map[string]string{} // file id -> SHA-256 of what was sent

	// Sample the child's memory while the uploads run.
	stopSampling := make(chan struct{})
	var peakRSS int64
	var sampled sync.WaitGroup
	sampled.Go(func() {
		for {
			rss, _ := c.memory(t)
			peakRSS = max(peakRSS, rss)
			select {
			case <-stopSampling:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})

	start := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	busy := 0
	for i := range n {
		wg.Go(func() {
			head64, content1 := head(i)
			sum1 := sha256.Sum256(content1)
			for attempt := 0; ; attempt++ {
				body := io.MultiReader(strings.NewReader(prefix), strings.NewReader(head64), strings.NewReader(b64File1[8:]),
					strings.NewReader(middle), strings.NewReader(b64File2), strings.NewReader(suffix))
				req, _ := http.NewRequest("POST", c.base+"/api/v1/instrumentResults", body)
				req.ContentLength = bodyLen
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("upload %d: %v", i, err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" && attempt < 20 {
					mu.Lock()
					busy++
					mu.Unlock()
					time.Sleep(time.Second)
					continue
				}
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("upload %d: %d %s", i, resp.StatusCode, b)
					return
				}
				var out struct {
					Data struct {
						FileIDs []string `json:"fileIDs"`
					} `json:"data"`
				}
				if err := json.Unmarshal(b, &out); err != nil || len(out.Data.FileIDs) != 2 {
					t.Errorf("upload %d: %s", i, b)
					return
				}
				mu.Lock()
				want[out.Data.FileIDs[0]] = hex.EncodeToString(sum1[:])
				want[out.Data.FileIDs[1]] = hex.EncodeToString(sum2[:])
				mu.Unlock()
				return
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSampling)
	sampled.Wait()
	_, hwm := c.memory(t)
	time.Sleep(2 * time.Second) // the gate hands memory back when the burst ends
	afterRSS, _ := c.memory(t)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("%d concurrent uploads of %d bytes in %v (%d answered 503 and retried): RSS %d MiB before, peak %d MiB (VmHWM %d MiB), %d MiB 2 s after; load %s",
		n, bodyLen, elapsed.Round(time.Millisecond), busy, baseRSS>>20, peakRSS>>20, hwm>>20, afterRSS>>20, strings.TrimSpace(string(load)))
	if hwm > maxUploadRSS {
		t.Errorf("peak RSS %d MiB, want under %d MiB", hwm>>20, maxUploadRSS>>20)
	}
	if t.Failed() {
		return
	}
	c.stop(t)

	// Every file is in the database, byte for byte.
	// Reopened by path after the child server has stopped.
	st, err = store.Open(ctx, filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if len(want) != 2*n {
		t.Fatalf("%d file ids for %d uploads", len(want), n)
	}
	for id, sum := range want {
		f, err := st.PatientFileByUUID(ctx, org.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.Sum256(f.Data)
		if hex.EncodeToString(got[:]) != sum || f.SHA256 != sum || f.Size != int64(len(f.Data)) {
			t.Errorf("file %s (%s): stored %d bytes with SHA-256 %x (column %s), sent SHA-256 %s", id, f.Filename, len(f.Data), got, f.SHA256, sum)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(data, "spool")); len(ents) > 0 {
		t.Errorf("%d spool files left behind", len(ents))
	}
}

// instrumentToken gets an access token of the instrument API.
func instrumentToken(t *testing.T, base, id, secret string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"clientID": id, "clientSecret": secret})
	resp, err := http.Post(base+"/api/v1/integrationAuth", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			AccessToken string `json:"accessToken"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Data.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return out.Data.AccessToken
}
