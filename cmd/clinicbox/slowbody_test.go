package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowBodies opens many connections from one address that each post a
// 1 MB sign-in body at one byte every 5 s (300 under make attack, 50
// otherwise) against a server running as its own process, and checks:
//
//   - connections beyond --max-conns-per-ip are closed at once;
//   - the others are cut at the sign-in route's body deadline (10 s), well
//     before the default one (60 s), answered with a status line;
//   - meanwhile the server keeps answering another client address;
//   - both limits leave a line in the log.
func TestSlowBodies(t *testing.T) {
	t.Parallel()
	conns, perIP := 50, 32
	if atLength() {
		conns, perIP = 300, 64
	}
	c := startChild(t, t.TempDir(), "--max-conns-per-ip", strconv.Itoa(perIP))
	http.DefaultClient.CloseIdleConnections() // the readiness probe's connection counts against 127.0.0.1
	host := strings.TrimPrefix(c.base, "http://")
	_, port, _ := net.SplitHostPort(host)

	// Another client, from another loopback address, asks all along.
	other := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	ctx, stopOther := context.WithCancel(context.Background())
	var otherOK, otherFailed int
	var otherDone sync.WaitGroup
	otherDone.Go(func() {
		for ctx.Err() == nil {
			resp, err := other.Get("http://127.0.0.1:" + port + "/healthz")
			if err == nil && resp.StatusCode == 200 {
				otherOK++
			} else {
				otherFailed++
				t.Logf("another client: %v", err)
			}
			if resp != nil {
				resp.Body.Close()
			}
			time.Sleep(250 * time.Millisecond)
		}
	})

	type outcome struct {
		status string        // the answer's status line; "" when closed without one
		after  time.Duration // from the request's start
	}
	outcomes := make(chan outcome, conns)
	start := time.Now()
	for range conns {
		go func() {
			conn, err := net.Dial("tcp", host)
			if err != nil {
				outcomes <- outcome{after: time.Since(start)}
				return
			}
			defer conn.Close()
			began := time.Now()
			fmt.Fprintf(conn, "POST /signin HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", host, 1<<20)
			answer := make(chan string, 1)
			go func() {
				line, _ := bufio.NewReader(conn).ReadString('\n')
				answer <- strings.TrimSpace(line)
			}()
			tick := time.NewTicker(5 * time.Second)
			defer tick.Stop()
			giveUp := time.After(90 * time.Second)
			for {
				select {
				case line := <-answer:
					outcomes <- outcome{status: line, after: time.Since(began)}
					return
				case <-tick.C:
					conn.Write([]byte("a"))
				case <-giveUp:
					outcomes <- outcome{status: "still open", after: time.Since(began)}
					return
				}
			}
		}()
	}
	var refused, cut int
	var slowest time.Duration
	statuses := map[string]int{}
	for range conns {
		o := <-outcomes
		switch {
		case o.status == "":
			refused++
		case o.status == "still open":
			t.Errorf("a slow body was still being read after %v", o.after)
		default:
			cut++
			statuses[o.status]++
			slowest = max(slowest, o.after)
		}
	}
	stopOther()
	otherDone.Wait()
	t.Logf("%d slow connections: %d closed at once by the per-address cap of %d, %d cut at the body deadline (the last after %v): %v; another address: %d answers, %d failures",
		conns, refused, perIP, cut, slowest.Round(time.Millisecond), statuses, otherOK, otherFailed)
	if refused < conns-perIP || cut == 0 {
		t.Errorf("%d refused and %d cut of %d connections with a cap of %d", refused, cut, conns, perIP)
	}
	// Cut at the sign-in deadline (10 s), not the default one (60 s).
	if slowest >= 30*time.Second {
		t.Errorf("slow bodies were cut after %v, not at the sign-in route's deadline", slowest)
	}
	if otherFailed > 0 || otherOK == 0 {
		t.Errorf("another client: %d answers, %d failures while the slow bodies were open", otherOK, otherFailed)
	}
	for _, line := range []string{"slow request body cut off", "connection refused: too many from one address"} {
		if !strings.Contains(c.log.String(), line) {
			t.Errorf("no %q in the log:\n%s", line, c.log)
		}
	}
}
