package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/hl7"
)

func TestSimulateArgs(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	cases := []struct {
		name    string
		args    []string
		wantErr string
		wantOut string
	}{
		{"list", []string{"simulate", "--list"}, "", "chemistry.astm"},
		{"no target", []string{"simulate", "--protocol", "astm"}, "exactly one of", ""},
		{"two targets", []string{"simulate", "--pty", "--port", "/dev/ttyS0"}, "exactly one of", ""},
		{"bad protocol", []string{"simulate", "--protocol", "dicom", "--pty"}, "must be astm, hl7 or line", ""},
		{"astm over tcp", []string{"simulate", "--protocol", "astm", "--tcp", "127.0.0.1:1"}, "only HL7", ""},
		{"missing file", []string{"simulate", "--protocol", "hl7", "--tcp", "127.0.0.1:1", "--file", "/nonexistent.hl7"}, "not a shipped sample", ""},
	}
	for _, c := range cases {
		out, _, err := runCLI(t, env, "", c.args...)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("%s: want error %q, got %v", c.name, c.wantErr, err)
			}
			continue
		}
		if err != nil || !strings.Contains(out, c.wantOut) {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
	}
}

// TestSimulateHL7OverTCP: the simulator sends a sample over MLLP and
// reports the host's acknowledgement.
func TestSimulateHL7OverTCP(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		raw, err := hl7.NewMLLPReader(c, 0).ReadMessage()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(raw)
		m, _ := hl7.Parse(raw)
		hl7.WriteMLLP(c, hl7.NewACK(m, hl7.AA, "", "1", time.Now()))
	}()
	out, _, err := runCLI(t, map[string]string{}, "", "simulate", "--protocol", "hl7", "--tcp", ln.Addr().String(), "--file", "spirometry-oru.hl7")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "sent spirometry-oru.hl7: acknowledged AA") {
		t.Fatalf("output: %s", out)
	}
	if msg := <-got; !strings.HasPrefix(msg, "MSH|") {
		t.Fatalf("the host received %q", msg)
	}
}
