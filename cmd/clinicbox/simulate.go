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

// simulateOptions are the simulate command's flags.
type simulateOptions struct {
	protocol, file, port, tcp string
	baud, repeat, corrupt     int
	usePTY, wait, list        bool
	interval                  time.Duration
}

// simulateCmd speaks like a real instrument: over a pseudo-terminal it
// creates (--pty), a serial port (--port) or TCP (--tcp, HL7 only).
func simulateCmd(ctx context.Context, e env, args []string) error {
	o, err := parseSimulate(e, args)
	if err != nil {
		return err
	}
	if o.list {
		for _, s := range sim.Samples() {
			fmt.Fprintf(e.stdout, "%-24s %-5s %s\n", s.Name, s.Protocol, s.Description)
		}
		return nil
	}
	msg, name, err := loadMessage(o.file, o.protocol)
	if err != nil {
		return err
	}
	rw, closeLink, err := openSimLink(ctx, e, o)
	if err != nil {
		return err
	}
	defer closeLink()
	inst := sim.New(rw, sim.Config{Protocol: sim.Protocol(o.protocol), CorruptFrame: o.corrupt})
	defer inst.Close()
	if err := sendRepeatedly(ctx, e, inst, o, msg, name); err != nil {
		return err
	}
	if o.usePTY {
		// Closing the pty is pulling the cable: keep it in until stopped.
		fmt.Fprintln(e.stderr, "Done; the pseudo-terminal stays open until Ctrl-C")
		<-ctx.Done()
	}
	return nil
}

// parseSimulate reads and checks the flags: one target, a known protocol,
// TCP only for HL7. With --pty and no --repeat it sends on every Enter.
func parseSimulate(e env, args []string) (*simulateOptions, error) {
	o := &simulateOptions{}
	fs := newFlagSet("simulate", e)
	fs.FlagSet.StringVar(&o.protocol, "protocol", "astm", "astm, hl7 or line")
	fs.FlagSet.StringVar(&o.file, "file", "", "message to send: a file, or a shipped sample name (see --list); default per protocol")
	fs.FlagSet.StringVar(&o.port, "port", "", "serial port to send on (the instrument's end of a cable)")
	fs.FlagSet.IntVar(&o.baud, "baud", 9600, "baud rate for --port")
	fs.FlagSet.BoolVar(&o.usePTY, "pty", false, "create a pseudo-terminal pair and print the path to configure as the device")
	fs.FlagSet.StringVar(&o.tcp, "tcp", "", "HL7 only: connect to HOST:PORT (a device configured with --tcp)")
	fs.FlagSet.IntVar(&o.repeat, "repeat", 1, "how many times to send the message (0: until stopped)")
	fs.FlagSet.DurationVar(&o.interval, "interval", 2*time.Second, "pause between repeats")
	fs.FlagSet.BoolVar(&o.wait, "wait", false, "wait for Enter on standard input before each send (default with --pty)")
	fs.FlagSet.IntVar(&o.corrupt, "corrupt-frame", 0, "ASTM: damage the first transmission of this frame (1-based), to show the NAK and resend")
	fs.FlagSet.BoolVar(&o.list, "list", false, "list the shipped sample messages and exit")
	if err := fs.parse(args, 0); err != nil {
		return nil, err
	}
	if o.list {
		return o, nil
	}
	if _, ok := defaultSample[o.protocol]; !ok {
		return nil, fmt.Errorf("--protocol %q: must be astm, hl7 or line", o.protocol)
	}
	targets := 0
	for _, set := range []bool{o.port != "", o.usePTY, o.tcp != ""} {
		if set {
			targets++
		}
	}
	if targets != 1 {
		return nil, errors.New("give exactly one of --pty, --port PATH or --tcp HOST:PORT")
	}
	if o.tcp != "" && o.protocol != "hl7" {
		return nil, errors.New("--tcp: only HL7 (MLLP) travels over TCP")
	}
	repeatSet := false
	fs.Visit(func(f *flag.Flag) { repeatSet = repeatSet || f.Name == "repeat" })
	if o.usePTY {
		o.wait = true
		if !repeatSet {
			o.repeat = 0 // a demo: send on every Enter until stopped
		}
	}
	return o, nil
}

// openSimLink opens the instrument's end of the link: a new pseudo-terminal
// (its path printed for the device's configuration), a serial port or a
// TCP connection.
func openSimLink(ctx context.Context, e env, o *simulateOptions) (io.ReadWriter, func(), error) {
	switch {
	case o.usePTY:
		p, err := sim.OpenPTY()
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(e.stdout, "%s\n", p.Path)
		fmt.Fprintf(e.stderr, "Simulated %s instrument on %s. Configure it, for example:\n  clinicbox device add --name Simulator --protocol %s --port %s\n",
			o.protocol, p.Path, o.protocol, p.Path)
		return p.Master, func() { p.Close() }, nil
	case o.port != "":
		p, err := devices.OpenPort(o.port, o.baud)
		if err != nil {
			return nil, nil, err
		}
		return p, func() { p.Close() }, nil
	default:
		c, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", o.tcp)
		if err != nil {
			return nil, nil, fmt.Errorf("connect %s: %w", o.tcp, err)
		}
		return c, func() { c.Close() }, nil
	}
}

// sendRepeatedly sends the message --repeat times (0: until stopped), on
// Enter with --wait, else --interval apart, printing what each send did.
func sendRepeatedly(ctx context.Context, e env, inst *sim.Instrument, o *simulateOptions, msg []byte, name string) error {
	in := bufio.NewReader(e.stdin)
	for i := 0; o.repeat == 0 || i < o.repeat; i++ {
		if o.wait {
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
			case <-time.After(o.interval):
			}
		}
		rep, err := inst.Send(ctx, msg)
		if err != nil {
			return fmt.Errorf("send %s: %w", name, err)
		}
		fmt.Fprintln(e.stdout, describeSend(name, o.protocol, rep))
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
