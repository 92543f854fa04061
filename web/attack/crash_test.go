package attack

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/sim"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/envelope"
)

// buildBinary builds the real clinicbox binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clinicbox")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.Command(gobin, "build", "-o", bin, "github.com/clinicbox/clinicbox/cmd/clinicbox")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// child is one run of `clinicbox serve` on the suite's data directory.
type child struct {
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
}

func startChild(t *testing.T, bin, data string) *child {
	t.Helper()
	addr := freePort(t)
	c := &child{base: "http://" + addr, log: &bytes.Buffer{}}
	c.cmd = exec.Command(bin, "serve", "--data", data, "--addr", addr, "--http", "--public-url", c.base,
		"--media-port", "0", "--turn-port", "0", "--turns-port", "0")
	c.cmd.Env = append(os.Environ(), "CLINICBOX_LOG_FORMAT=text")
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(c.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return c
			}
		}
		if time.Now().After(deadline) {
			c.cmd.Process.Kill()
			c.cmd.Wait()
			t.Fatalf("serve did not become ready:\n%s", c.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

// acked is what the writers were told is stored.
type acked struct {
	mu       sync.Mutex
	patients map[string]int64 // external id -> SPID
	appts    []string         // external ids
	samples  []string         // instrument sample ids whose message was ACKed
	requests int
}

func (a *acked) add(f func()) {
	a.mu.Lock()
	f()
	a.mu.Unlock()
}

// TestCrashLoop starts the real binary, writes through the API, over a pty
// as an ASTM analyser and out to a webhook receiver, kills it with SIGKILL
// at a random moment, restarts it, and repeats. Afterwards every write that
// was acknowledged is there exactly once, the database is intact, the audit
// chain verifies and every acknowledged patient's webhook was delivered.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}

	// The webhook receiver: decrypts each delivery and counts it by patient.
	var hookMu sync.Mutex
	delivered := map[int64]int{}
	var hookKey string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hookMu.Lock()
		defer hookMu.Unlock()
		plain, err := envelope.Open(hookKey, string(b))
		if err != nil {
			t.Errorf("webhook body does not open: %v", err)
			return
		}
		var p struct {
			Event string `json:"event"`
			Data  struct {
				PatientID int64 `json:"patientId"`
			} `json:"data"`
		}
		json.Unmarshal(plain, &p)
		if p.Event == "patient:created" {
			delivered[p.Data.PatientID]++
		}
	}))
	defer recv.Close()

	// The instrument: a pseudo-terminal whose far end the server reads.
	pt, err := sim.OpenPTY()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer pt.Close()

	// The clinic, as an admin sets it up before the first start.
	// Not storetest: the real binary's --data directory, closed before it starts.
	st, err := store.Open(ctx, filepath.Join(data, "clinicbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	o := &store.Org{Name: "Crash Clinic", Slug: "crash"}
	if err := st.CreateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	apiKey, err := st.CreateAPIKey(ctx, o.ID, &store.APIKey{Name: "crash loop"})
	if err != nil {
		t.Fatal(err)
	}
	room := &store.WaitingRoom{Name: "Room", SlotDuration: 900, Hours: store.WeekdayHours(), Timezone: "UTC", Active: true}
	if err := st.CreateWaitingRoom(ctx, o.ID, room); err != nil {
		t.Fatal(err)
	}
	hook := &store.Webhook{Endpoint: recv.URL + "/hook", Events: []string{"patient:created"}}
	if err := st.CreateWebhook(ctx, o.ID, hook); err != nil {
		t.Fatal(err)
	}
	hookKey = hook.EncryptionKey
	dev := &store.Device{Name: "Analyser", Protocol: "astm", PortPath: pt.Path, Baud: 9600, DataBits: 8, Parity: "none", StopBits: "1", Station: "Lab"}
	if err := st.CreateDevice(ctx, o.ID, dev); err != nil {
		t.Fatal(err)
	}
	st.Close()

	bin := buildBinary(t)
	ack := &acked{patients: map[string]int64{}}
	rounds := *flagRounds
	for round := range rounds {
		c := startChild(t, bin, data)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range *flagWriters {
			wg.Go(func() { apiWriter(c.base, apiKey, room.Name, fmt.Sprintf("r%dw%d", round, w), ack, stop) })
		}
		wg.Go(func() { instrumentWriter(pt, fmt.Sprintf("r%d", round), ack, stop) })
		// Kill at a random moment once writes are flowing.
		time.Sleep(time.Duration(400+rand.IntN(800)) * time.Millisecond)
		c.kill()
		close(stop)
		wg.Wait()
	}

	// A last start without a kill: the webhook worker drains what the
	// crashes left (a delivery claimed when the process died waits for
	// its lease to run out).
	c := startChild(t, bin, data)
	ack.mu.Lock()
	want := map[int64]bool{}
	for _, spid := range ack.patients {
		want[spid] = true
	}
	ack.mu.Unlock()
	deadline := time.Now().Add(90 * time.Second)
	for {
		hookMu.Lock()
		missing := 0
		for spid := range want {
			if delivered[spid] == 0 {
				missing++
			}
		}
		hookMu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d acknowledged patients' webhooks never delivered", missing)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()

	// Every acknowledged write, exactly once.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "clinicbox.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string, args ...any) int {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	lost, dups := 0, 0
	checkOnce := func(what string, n int) {
		switch {
		case n == 0:
			lost++
			t.Errorf("acknowledged %s lost", what)
		case n > 1:
			dups++
			t.Errorf("acknowledged %s stored %d times", what, n)
		}
	}
	for ext := range ack.patients {
		checkOnce("patient "+ext, count(`SELECT count(*) FROM patients WHERE org_id = ? AND external_id = ?`, o.ID, ext))
	}
	for _, ext := range ack.appts {
		checkOnce("appointment "+ext, count(`SELECT count(*) FROM appointments WHERE org_id = ? AND external_id = ?`, o.ID, ext))
	}
	for _, s := range ack.samples {
		checkOnce("instrument message "+s, count(`SELECT count(*) FROM device_messages WHERE org_id = ? AND direction = 'in'
			AND instr(CAST(raw AS TEXT), ?) > 0`, o.ID, "|"+s+"|"))
	}
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q %v", integrity, err)
	}
	// Reopened by path after the last child has stopped.
	st, err = store.Open(ctx, filepath.Join(data, "clinicbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if bad, err := st.VerifyAuditChain(ctx); err != nil || bad != 0 {
		t.Errorf("audit chain broken at row %d: %v", bad, err)
	}
	hookMu.Lock()
	extra := 0
	for _, n := range delivered {
		extra += n - 1
	}
	hookMu.Unlock()
	if len(ack.patients) == 0 || len(ack.samples) == 0 {
		t.Errorf("nothing was acknowledged (patients %d, instrument messages %d): the loop tested nothing", len(ack.patients), len(ack.samples))
	}
	t.Logf("crash loop: %d rounds of kill -9, %d requests; acknowledged %d patients, %d appointments, %d instrument messages; "+
		"lost %d, duplicated %d; %d webhook deliveries repeated (at-least-once)",
		rounds, ack.requests, len(ack.patients), len(ack.appts), len(ack.samples), lost, dups, extra)
}

// apiWriter creates patients and their appointments until stopped or the
// server is gone; only 201 answers are counted as acknowledged.
func apiWriter(base, key, room, prefix string, ack *acked, stop chan struct{}) {
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(path string, body any) (int, any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Api-Key", key)
		res, err := client.Do(req)
		ack.add(func() { ack.requests++ })
		if err != nil {
			return 0, nil
		}
		defer res.Body.Close()
		var v any
		json.NewDecoder(res.Body).Decode(&v)
		return res.StatusCode, v
	}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		ext := fmt.Sprintf("%s-%d", prefix, i)
		status, m := post("/qapi/v1/patients", map[string]any{"id": ext, "mrn": "M-" + ext,
			"name": []map[string]string{{"use": "official", "firstName": "Crash", "lastName": ext}}})
		if status == 0 {
			return // the server died
		}
		if status != 201 {
			continue
		}
		spid, _ := m.(float64) // the answer is the SPID
		if obj, ok := m.(map[string]any); ok {
			spid, _ = obj["id"].(float64)
		}
		ack.add(func() { ack.patients[ext] = int64(spid) })
		when := time.Now().Add(time.Duration(24+i%100) * time.Hour).Truncate(time.Minute).Unix()
		status, _ = post("/qapi/v1/patients/"+ext+"/appointments", map[string]any{"waitingRoom": room, "date": when,
			"duration": 900, "externalId": "a-" + ext})
		if status == 0 {
			return
		}
		if status == 201 {
			ack.add(func() { ack.appts = append(ack.appts, "a-"+ext) })
		}
	}
}

// instrumentWriter sends ASTM result messages as an analyser does; a
// message is acknowledged when the final frame's ACK came back.
func instrumentWriter(pt *sim.PTY, prefix string, ack *acked, stop chan struct{}) {
	inst := sim.New(pt.Master, sim.Config{Protocol: sim.Protocol("astm")})
	defer inst.Close()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		sample := fmt.Sprintf("S%s-%d", prefix, i)
		msg := "H|\\^&|||Analyser^1^SN1||||||P|LIS2-A2|20261202075500\r" +
			"P|1||||Crash^Test||19800101|F\r" +
			"O|1|" + sample + "||^^^GLU\r" +
			"R|1|^^^GLU|5,4|mmol/L|3.9-6.1|N||F||op||20261202075400\r" +
			"L|1|N\r"
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := inst.Send(ctx, []byte(msg))
		cancel()
		ack.add(func() { ack.requests++ })
		if err == nil {
			ack.add(func() { ack.samples = append(ack.samples, sample) })
			continue
		}
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		if strings.Contains(err.Error(), "closed") {
			return
		}
	}
}
