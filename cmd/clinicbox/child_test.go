package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The resource tests run the server as a child process: its memory and its
// connections are then its own, measured from /proc as an operator would.
// The child is this test binary re-run with childEnv set, which runs the
// same serve command as the clinicbox binary.
const childEnv = "CLINICBOX_TEST_CHILD_ARGS"

// TestServeChild is the child: it serves until SIGTERM. It is skipped in
// an ordinary run.
func TestServeChild(t *testing.T) {
	args := os.Getenv(childEnv)
	if args == "" {
		t.Skip("only run as a child process")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, strings.Split(args, "\x1f"), os.Getenv, strings.NewReader(""), os.Stdout, os.Stderr); err != nil {
		t.Fatal(err)
	}
}

// child is a running server process.
type child struct {
	cmd    *exec.Cmd
	base   string
	log    *syncBuffer
	exited chan struct{} // closed when the process has ended
	err    error         // its exit status, once exited
}

// startChild starts 'clinicbox serve' on plain HTTP over data with the
// extra flags, as its own process, and waits until it is ready.
func startChild(t *testing.T, data string, extra ...string) *child {
	t.Helper()
	addr := freeAddr(t)
	base := "http://" + addr
	args := append([]string{"serve", "--data", data, "--addr", addr, "--http", "--public-url", base,
		"--media-port", "0", "--turn-port", "0", "--turns-port", "0"}, extra...)
	c := &child{base: base, log: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run", "^TestServeChild$", "-test.count=1", "-test.timeout=30m")
	c.cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() { c.stop(t) })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c
			}
		}
		select {
		case <-c.exited:
			t.Fatalf("child exited: %v\n%s", c.err, c.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("child did not become ready\n%s", c.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the child with SIGTERM (a graceful shutdown) and waits.
func (c *child) stop(t *testing.T) {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
		t.Error("child did not stop on SIGTERM")
	}
}

// memory reads the child's resident set (VmRSS) and its peak (VmHWM),
// in bytes.
func (c *child) memory(t *testing.T) (rss, hwm int64) {
	f, err := os.Open("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != "VmRSS" && k != "VmHWM" {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			t.Fatalf("%s: %q", k, v)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm
}
