package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPoctTokenAndLIS: a POCT token from the command line works against a
// running server, and a LIS added from the command line while it runs
// receives the next result within seconds; removing it stops the sending.
func TestPoctTokenAndLIS(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := map[string]string{"CLINICBOX_DATA": data}
	if _, _, err := runCLI(t, env, "", "org", "add", "--name", "North", "--slug", "north"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, env, "", "org", "add", "--name", "West", "--slug", "west"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, env, "", "user", "add", "--email", "dist@north.example", "--name", "D", "--role", "admin", "--org", "north"); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, env, "", "org", "grant-fleet", "--email", "dist@north.example", "--org", "west"); err != nil || !strings.Contains(out, "now sees the devices of west") {
		t.Fatalf("grant-fleet: %q %v", out, err)
	}
	if _, _, err := runCLI(t, env, "", "org", "grant-fleet", "--email", "nobody@x.example", "--org", "west"); err == nil {
		t.Error("grant-fleet to nobody worked")
	}
	out, errOut, err := runCLI(t, env, "", "client", "create", "--kind", "poct", "--name", "Distributor X", "--org", "north")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "token=cbp_") {
		t.Fatalf("stdout %q: want one token= line", out)
	}
	token := strings.TrimPrefix(lines[0], "token=")
	if strings.Contains(errOut, token) {
		t.Error("the token was repeated on stderr")
	}
	if _, _, err := runCLI(t, env, "", "client", "create", "--kind", "fax"); err == nil || !strings.Contains(err.Error(), "--kind") {
		t.Errorf("bad kind: %v", err)
	}
	instOut, _, err := runCLI(t, env, "", "client", "create", "--name", "ECG vendor", "--org", "north")
	if err != nil {
		t.Fatal(err)
	}

	// A LIS that acknowledges everything and hands over what it received.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan string, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					if _, err := br.ReadBytes(0x0b); err != nil {
						return
					}
					b, err := br.ReadBytes(0x1c)
					if err != nil {
						return
					}
					msg := string(b[:len(b)-1])
					ctrl := strings.Split(strings.SplitN(msg, "\r", 2)[0], "|")[9]
					received <- msg
					fmt.Fprintf(c, "\x0bMSH|^~\\&|LIS||||20261202||ACK|1|P|2.5.1\rMSA|AA|%s\r\x1c\r", ctrl)
				}
			}()
		}
	}()

	base, _, stop := startServe(t, data)
	defer stop()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, s := range []struct {
		args    []string
		wantErr string
		wantOut string
	}{
		{[]string{"lis", "add", "--name", "main", "--host", "127.0.0.1", "--port", "0", "--org", "north"}, "port", ""},
		{[]string{"lis", "add", "--name", "main", "--host", "127.0.0.1", "--port", port, "--send", "sometimes", "--org", "north"}, "send", ""},
		{[]string{"lis", "add", "--name", "main", "--host", "127.0.0.1", "--port", port, "--org", "north"}, "", "added LIS \"main\""},
		{[]string{"lis", "add", "--name", "main", "--host", "127.0.0.1", "--port", port, "--org", "north"}, "already exists", ""},
		{[]string{"lis", "list", "--org", "north"}, "", "main  127.0.0.1:" + port},
		{[]string{"lis", "list", "--org", "west"}, "", "NAME"},
		{[]string{"lis", "remove", "nosuch", "--org", "north"}, "no destination named", ""},
	} {
		out, _, err := runCLI(t, env, "", s.args...)
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Errorf("%v: error %v, want %q", s.args, err, s.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(out, s.wantOut) {
			t.Errorf("%v: %q %v, want %q", s.args, out, err, s.wantOut)
		}
	}

	// Create a patient through the POCT API with the token, then post a
	// result through the instrument API, as a vendor would.
	api := func(method, path, auth string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := insecureClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, m)
		}
		return m
	}
	p := api("POST", "/api/poct/v1/patients", "Bearer "+token, map[string]any{"mrn": "M-1", "family_name": "Holm", "given_name": "Ida"})
	var clientID, secret string
	for _, l := range strings.Split(instOut, "\n") {
		if v, ok := strings.CutPrefix(l, "clientID="); ok {
			clientID = v
		}
		if v, ok := strings.CutPrefix(l, "clientSecret="); ok {
			secret = v
		}
	}
	tok := api("POST", "/api/v1/integrationAuth", "", map[string]string{"clientID": clientID, "clientSecret": secret})
	access := tok["data"].(map[string]any)["accessToken"].(string)
	api("POST", "/api/v1/instrumentResults", access, map[string]any{"patientID": p["id"], "measurementType": "Spirometry",
		"measuredAt": "2026-12-02T08:00:00Z", "results": []map[string]any{{"code": "NPU19945", "value": "3,2"}}})
	select {
	case msg := <-received:
		if !strings.Contains(msg, "OBX|1|ST|NPU19945^^L||3,2|") || !strings.Contains(msg, "|M-1^^^north^MR~") {
			t.Errorf("ORU %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the LIS added while serving received nothing")
	}
	if _, _, err := runCLI(t, env, "", "lis", "remove", "main", "--org", "north"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // the server re-reads destinations every 2 s
	api("POST", "/api/v1/instrumentResults", access, map[string]any{"patientID": p["id"], "measurementType": "Spirometry",
		"measuredAt": "2026-12-02T08:05:00Z", "results": []map[string]any{{"code": "NPU19945", "value": "3,3"}}})
	select {
	case msg := <-received:
		t.Errorf("sent after removal: %q", msg)
	case <-time.After(3 * time.Second):
	}
}
