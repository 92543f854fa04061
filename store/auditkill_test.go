package store_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// TestAuditChild is the server that TestReadAuditSurvivesKill starts in a
// child process and kills; it does nothing in a normal run.
func TestAuditChild(t *testing.T) {
	path := os.Getenv("CLINICBOX_AUDIT_CHILD_DB")
	if path == "" {
		t.Skip("the child process of TestReadAuditSurvivesKill")
	}
	org, _ := strconv.ParseInt(os.Getenv("CLINICBOX_AUDIT_CHILD_ORG"), 10, 64)
	var opts []store.Option
	if d, err := time.ParseDuration(os.Getenv("CLINICBOX_AUDIT_CHILD_MOVE")); err == nil {
		opts = append(opts, store.WithReadMoveEvery(d))
	}
	st := storetest.OpenFile(t, path, opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	// A face's GET: audit the read, then answer.
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := store.WithActor(r.Context(), store.Actor{OrgID: org, Name: "apikey:kill-test"})
		st.AuditRead(ctx, org, "patient", r.URL.Query().Get("read"), 1)
		w.Write([]byte("ok"))
	}))
}

// A GET answered 200 and then kill -9 at once: the read's audit row is
// there when the database is opened again. Each round kills the child
// server as soon as the first of several concurrent GETs is answered.
func TestReadAuditSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	f := newFixture(t, st, "a")
	path := st.Path()
	st.Close()

	const rounds, concurrent = 5, 8
	var answered []string
	for round := range rounds {
		cmd, url := startAuditChild(t, path, f.org.ID, "")
		var mu sync.Mutex
		var killOnce sync.Once
		var wg sync.WaitGroup
		for i := range concurrent {
			id := fmt.Sprintf("r%d-%d", round, i)
			wg.Go(func() {
				res, err := http.Get(url + "/?read=" + id)
				if err != nil {
					return // the child was killed first
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return
				}
				mu.Lock()
				answered = append(answered, id)
				mu.Unlock()
				killOnce.Do(func() { cmd.Process.Kill() }) // SIGKILL
			})
		}
		wg.Wait()
		killOnce.Do(func() { cmd.Process.Kill() })
		cmd.Wait()
	}
	if len(answered) < rounds {
		t.Fatalf("only %d reads answered in %d rounds", len(answered), rounds)
	}

	st = storetest.OpenFile(t, path)
	rows, err := st.AuditLog(ctx, f.org.ID, store.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for _, e := range rows {
		if e.Actor == "apikey:kill-test" && e.Action == "read" {
			audited[e.EntityID] = true
		}
	}
	for _, id := range answered {
		if !audited[id] {
			t.Errorf("read %s was answered 200 but has no audit row after kill -9", id)
		}
	}
	if bad, err := st.VerifyAuditChain(ctx); err != nil || bad != 0 {
		t.Fatalf("audit chain broken at row %d: %v", bad, err)
	}
	t.Logf("%d answered reads over %d kills, all audited", len(answered), rounds)
}

// startAuditChild starts TestAuditChild serving the database at path for
// org; move is how often it moves read audits from the journal into
// audit_log ("" for the default). It returns the child and its URL.
func startAuditChild(t *testing.T, path string, org int64, move string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestAuditChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CLINICBOX_AUDIT_CHILD_DB="+path, fmt.Sprintf("CLINICBOX_AUDIT_CHILD_ORG=%d", org),
		"CLINICBOX_AUDIT_CHILD_MOVE="+move)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %v", err)
	}
	return cmd, "http://" + addr[:len(addr)-1]
}
