package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
)

// downloadCount is how many maximum-size documents TestDownloadMemory
// downloads at once.
func downloadCount() int {
	if atLength() {
		return 16
	}
	return 6
}

// TestDownloadMemory downloads maximum-size patient files (20 MiB, stored
// in chunks as uploads store them) concurrently through the point-of-care
// API from a server running as its own process, with each client reading
// slowly at first so that every download is in flight at once, samples
// the server's memory from /proc all along, and checks that its resident
// memory grew by less than two files' size while n files were sent: the
// bytes are streamed a chunk at a time, never held whole, so what grows is
// the readers' page caches and the collector's headroom, not n × 20 MiB.
// (Reading each file whole, as downloads did before, grew it by 6 × 20 MiB
// and more.)
// Every download is checked byte for byte against the SHA-256 stored.
func TestDownloadMemory(t *testing.T) {
	t.Parallel()
	n := downloadCount()
	data := t.TempDir()
	ctx := context.Background()

	// Not storetest: the child server's --data directory, closed before it starts.
	st, err := store.Open(ctx, filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	org := &store.Org{Name: "Download clinic", Slug: "download"}
	if err := st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	patient := &store.Patient{Active: true, Names: []store.HumanName{{FirstName: "Ada", LastName: "Download"}}}
	if err := st.CreatePatient(ctx, org.ID, patient); err != nil {
		t.Fatal(err)
	}
	token, err := st.CreatePoctToken(ctx, org.ID, &store.PoctToken{Name: "LIS"})
	if err != nil {
		t.Fatal(err)
	}
	// Two random files of the largest size a patient file may have.
	rng := rand.New(rand.NewChaCha8([32]byte{2}))
	var files []*store.PatientFile
	for i := range 2 {
		sp, err := st.NewSpool(store.MaxPatientFileSize)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1<<20)
		for range store.MaxPatientFileSize >> 20 {
			for j := range buf {
				buf[j] = byte(rng.Uint32())
			}
			if _, err := sp.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
		f := &store.PatientFile{PatientID: patient.ID, Filename: fmt.Sprintf("spiro%d.bin", i), ContentType: "application/octet-stream",
			Spool: sp, Source: "upload"}
		if err := st.AddPatientFile(ctx, org.ID, f); err != nil {
			t.Fatal(err)
		}
		sp.Close()
		files = append(files, f)
	}
	st.Close()

	c := startChild(t, data)
	get := func(f *store.PatientFile) (*http.Response, error) {
		req, _ := http.NewRequest("GET", c.base+"/api/poct/v1/documents/"+f.UUID, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Forwarded-Proto", "https")
		return http.DefaultClient.Do(req)
	}
	// One download first, so the server's code paths and connections are
	// warm when the base is taken.
	if resp, err := get(files[0]); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	time.Sleep(500 * time.Millisecond)
	baseRSS, baseHWM := c.memory(t)

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
	var wg, started sync.WaitGroup
	started.Add(n)
	for i := range n {
		wg.Go(func() {
			f := files[i%len(files)]
			resp, err := get(f)
			if err != nil {
				started.Done()
				t.Errorf("download %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			h := sha256.New()
			// Read the first MiB, then wait until every download has
			// started: all are in flight together.
			_, err = io.CopyN(h, resp.Body, 1<<20)
			started.Done()
			started.Wait()
			if err == nil {
				_, err = io.Copy(h, resp.Body)
			}
			if err != nil || resp.StatusCode != 200 || hex.EncodeToString(h.Sum(nil)) != f.SHA256 || resp.ContentLength != f.Size {
				t.Errorf("download %d: %d, %d bytes announced, SHA-256 %x, want %s (%v)", i, resp.StatusCode, resp.ContentLength, h.Sum(nil), f.SHA256, err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSampling)
	sampled.Wait()
	_, hwm := c.memory(t)
	load, _ := os.ReadFile("/proc/loadavg")
	growth := max(peakRSS, hwm) - max(baseRSS, baseHWM)
	t.Logf("%d concurrent downloads of %d bytes in %v: RSS %d MiB before (VmHWM %d MiB), peak %d MiB (VmHWM %d MiB), growth %d MiB; load %s",
		n, files[0].Size, elapsed.Round(time.Millisecond), baseRSS>>20, baseHWM>>20, peakRSS>>20, hwm>>20, growth>>20, strings.TrimSpace(string(load)))
	if growth >= 2*files[0].Size {
		t.Errorf("resident memory grew by %d MiB while %d files of %d MiB were downloaded: want less than two files", growth>>20, n, files[0].Size>>20)
	}
}
