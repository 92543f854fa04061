package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/devices/sim"
)

// defaultSample is the message each protocol sends when --file is not given.
var defaultSample = map[string]string{"astm": "chemistry.astm", "hl7": "poct-glucose-oru.hl7", "line": "scale.txt"}

// simulateCmd speaks like a real instrument: over a pseudo-terminal it
// creates (--pty), a serial port (--port) or TCP (--tcp, HL7 only).
func simulateCmd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("simulate", e)
	protocol := fs.FlagSet.String("protocol", "astm", "astm, hl7 or line")
	file := fs.FlagSet.String("file", "", "message to send: a file, or a shipped sample name (see --list); default per protocol")
	port := fs.FlagSet.String("port", "", "serial port to send on (the instrument's end of a cable)")
	baud := fs.FlagSet.Int("baud", 9600, "baud rate for --port")
	usePTY := fs.FlagSet.Bool("pty", false, "create a pseudo-terminal pair and print the path to configure as the device")
	tcp := fs.FlagSet.String("tcp", "", "HL7 only: connect to HOST:PORT (a device configured with --tcp)")
	repeat := fs.FlagSet.Int("repeat", 1, "how many times to send the message (0: until stopped)")
	interval := fs.FlagSet.Duration("interval", 2*time.Second, "pause between repeats")
	wait := fs.FlagSet.Bool("wait", false, "wait for Enter on standard input before each send (default with --pty)")
	corrupt := fs.FlagSet.Int("corrupt-frame", 0, "ASTM: damage the first transmission of this frame (1-based), to show the NAK and resend")
	list := fs.FlagSet.Bool("list", false, "list the shipped sample messages and exit")
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	if *list {
		for _, s := range sim.Samples() {
			fmt.Fprintf(e.stdout, "%-24s %-5s %s\n", s.Name, s.Protocol, s.Description)
		}
		return nil
	}
	if _, ok := defaultSample[*protocol]; !ok {
		return fmt.Errorf("--protocol %q: must be astm, hl7 or line", *protocol)
	}
	targets := 0
	for _, set := range []bool{*port != "", *usePTY, *tcp != ""} {
		if set {
			targets++
		}
	}
	if targets != 1 {
		return errors.New("give exactly one of --pty, --port PATH or --tcp HOST:PORT")
	}
	if *tcp != "" && *protocol != "hl7" {
		return errors.New("--tcp: only HL7 (MLLP) travels over TCP")
	}
	msg, name, err := loadMessage(*file, *protocol)
	if err != nil {
		return err
	}

	repeatSet := false
	fs.Visit(func(f *flag.Flag) { repeatSet = repeatSet || f.Name == "repeat" })
	if *usePTY && !repeatSet {
		*repeat = 0 // a demo: send on every Enter until stopped
	}
	var rw io.ReadWriter
	switch {
	case *usePTY:
		p, err := sim.OpenPTY()
		if err != nil {
			return err
		}
		defer p.Close()
		rw = p.Master
		*wait = true
		fmt.Fprintf(e.stdout, "%s\n", p.Path)
		fmt.Fprintf(e.stderr, "Simulated %s instrument on %s. Configure it, for example:\n  clinicbox device add --name Simulator --protocol %s --port %s\n",
			*protocol, p.Path, *protocol, p.Path)
	case *port != "":
		p, err := devices.OpenPort(*port, *baud)
		if err != nil {
			return err
		}
		defer p.Close()
		rw = p
	default:
		c, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", *tcp)
		if err != nil {
			return fmt.Errorf("connect %s: %w", *tcp, err)
		}
		defer c.Close()
		rw = c
	}
	inst := sim.New(rw, sim.Config{Protocol: sim.Protocol(*protocol), CorruptFrame: *corrupt})
	defer inst.Close()

	in := bufio.NewReader(e.stdin)
	for i := 0; *repeat == 0 || i < *repeat; i++ {
		if *wait {
			fmt.Fprintf(e.stderr, "Press Enter to send %s (Ctrl-C to stop)\n", name)
			if _, err := in.ReadString('\n'); err != nil {
				// No more input (a script): keep the instrument plugged in
				// until stopped, so the host is not cut off mid-session.
				<-ctx.Done()
				return nil
			}
		} else if i > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(*interval):
			}
		}
		rep, err := inst.Send(ctx, msg)
		if err != nil {
			return fmt.Errorf("send %s: %w", name, err)
		}
		fmt.Fprintln(e.stdout, describeSend(name, *protocol, rep))
	}
	if *usePTY {
		// Closing the pty is pulling the cable: keep it in until stopped.
		fmt.Fprintln(e.stderr, "Done; the pseudo-terminal stays open until Ctrl-C")
		<-ctx.Done()
	}
	return nil
}

// loadMessage reads --file, or a shipped sample by name, or the protocol's
// default sample. A file's LF line ends become CR for ASTM and HL7.
func loadMessage(file, protocol string) ([]byte, string, error) {
	if file == "" {
		file = defaultSample[protocol]
	}
	if b, err := sim.Sample(file); err == nil {
		return b, file, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("--file %s: not a shipped sample (see --list) and %w", file, err)
	}
	if protocol != "line" {
		b = []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\r"), "\n", "\r"))
	}
	return b, file, nil
}

func describeSend(name, protocol string, rep sim.Report) string {
	switch protocol {
	case "astm":
		return fmt.Sprintf("sent %s: %d frames, %d NAKs", name, rep.Frames, rep.NAKs)
	case "hl7":
		if m, err := hl7.Parse(rep.Ack); err == nil {
			if code, _, ok := hl7.AckOf(m); ok {
				return fmt.Sprintf("sent %s: acknowledged %s", name, code)
			}
		}
		return fmt.Sprintf("sent %s: acknowledgement %q", name, rep.Ack)
	}
	return "sent " + name
}
