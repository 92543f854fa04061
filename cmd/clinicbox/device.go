package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
)

var deviceCmd = subcommand("device", map[string]func(context.Context, env, []string) error{
	"add": deviceAdd, "update": deviceUpdate, "list": deviceList, "remove": deviceRemove, "log": deviceLog,
})

// deviceAdd configures an instrument. A running server picks it up within
// seconds, without a restart.
func deviceAdd(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("device add", e)
	d := &store.Device{}
	deviceFlags(fs, d, true)
	st, o, err := fs.openOrg(ctx, args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateDevice(ctx, o.ID, d); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "added device %q (%s on %s %s) to %s; a running server picks it up within seconds\n",
		d.Name, d.Protocol, d.Where(), d.Framing(), o.Slug)
	return nil
}

// deviceFlags binds the device settings to flags; add gives them the
// defaults of a new device.
func deviceFlags(fs *flagSet, d *store.Device, add bool) {
	def := func(v, dflt string) string {
		if add {
			return dflt
		}
		return ""
	}
	idef := func(dflt int) int {
		if add {
			return dflt
		}
		return 0
	}
	fs.FlagSet.StringVar(&d.Name, "name", "", "the device's name, e.g. \"Cobas c111\" (required)")
	fs.FlagSet.StringVar(&d.PortPath, "port", "", "serial port path, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...")
	fs.FlagSet.StringVar(&d.USBSerial, "usb-serial", "", "USB serial number of the adapter instead of --port (survives moving the plug)")
	fs.FlagSet.StringVar(&d.TCPAddr, "tcp", "", "HOST:PORT to listen on for HL7 over MLLP instead of a serial port")
	fs.FlagSet.StringVar(&d.Protocol, "protocol", "", "astm, hl7 or line (required)")
	fs.FlagSet.IntVar(&d.Baud, "baud", idef(9600), "baud rate")
	fs.FlagSet.IntVar(&d.DataBits, "data-bits", idef(8), "data bits: 5, 6, 7 or 8")
	fs.FlagSet.StringVar(&d.Parity, "parity", def("", "none"), "none, odd, even, mark or space")
	fs.FlagSet.StringVar(&d.StopBits, "stop-bits", def("", "1"), "1, 1.5 or 2")
	fs.FlagSet.StringVar(&d.Station, "station", "", "the station (device group) whose clinicians see its readings")
	fs.FlagSet.StringVar(&d.Options, "options", "", "driver options, key=value;key=value (e.g. tz=Europe/Copenhagen)")
	fs.FlagSet.BoolVar(&d.StrictFraming, "strict-framing", false,
		"refuse what the standards forbid (ASTM frames out of sequence are NAKed, HL7 segments must end in CR);\n"+
			"by default such frames are accepted when their checksum is right and each deviation is logged as a warning")
}

// deviceUpdate changes the settings given as flags of the device named by
// the argument; the others stay as they are. A running server restarts
// the device with them within seconds.
func deviceUpdate(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("device update", e)
	var f store.Device
	deviceFlags(fs, &f, false)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: clinicbox device update [--org SLUG] [flags] NAME   (only the flags given change)")
		fs.PrintDefaults()
	}
	st, o, err := fs.openOrgWith(ctx, args, 1, "device update: name the device")
	if err != nil {
		return err
	}
	defer st.Close()
	cur, err := st.DeviceByName(ctx, o.ID, fs.Arg(0))
	if err != nil {
		return userError(err)
	}
	d, err := st.UpdateDevice(ctx, o.ID, cur.ID, func(d *store.Device) error {
		fs.Visit(func(fl *flag.Flag) {
			switch fl.Name {
			case "name":
				d.Name = f.Name
			case "port", "usb-serial", "tcp":
				// One place at a time: naming a new one clears the others.
				d.PortPath, d.USBSerial, d.TCPAddr = f.PortPath, f.USBSerial, f.TCPAddr
			case "protocol":
				d.Protocol = f.Protocol
			case "baud":
				d.Baud = f.Baud
			case "data-bits":
				d.DataBits = f.DataBits
			case "parity":
				d.Parity = f.Parity
			case "stop-bits":
				d.StopBits = f.StopBits
			case "station":
				d.Station = f.Station
			case "options":
				d.Options = f.Options
			case "strict-framing":
				d.StrictFraming = f.StrictFraming
			}
		})
		return nil
	})
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "updated device %q (%s on %s %s, %s framing); a running server restarts it within seconds\n",
		d.Name, d.Protocol, d.Where(), d.Framing(), framingRules(d))
	return nil
}

func framingRules(d *store.Device) string {
	if d.StrictFraming {
		return "strict"
	}
	return "tolerant"
}

func deviceList(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("device list", e)
	st, o, err := fs.openOrg(ctx, args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	devs, err := st.Devices(ctx, o.ID, store.DeviceFilter{})
	if err != nil {
		return err
	}
	t := newTable(e.stdout, "NAME", "PROTOCOL", "PORT", "FRAMING", "RULES", "STATION")
	for _, d := range devs {
		t.row(d.Name, d.Protocol, d.Where(), d.Framing(), framingRules(&d), d.Station)
	}
	return t.flush()
}

func deviceRemove(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("device remove", e)
	fs.Usage = func() { fmt.Fprintln(e.stderr, "usage: clinicbox device remove [--org SLUG] NAME") }
	st, o, err := fs.openOrgWith(ctx, args, 1, "device remove: name the device")
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.DeviceByName(ctx, o.ID, fs.Arg(0))
	if err != nil {
		return userError(err)
	}
	if err := st.RemoveDevice(ctx, o.ID, d.ID); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "removed device %q; its messages and results are kept\n", d.Name)
	return nil
}

// deviceLog prints a device's raw message log, oldest first, each message
// with its bytes as received (control characters spelled out: <ENQ>, <STX>).
func deviceLog(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("device log", e)
	limit := fs.FlagSet.Int("limit", 50, "how many of the newest messages to print")
	fs.Usage = func() { fmt.Fprintln(e.stderr, "usage: clinicbox device log [--org SLUG] [--limit N] NAME") }
	st, o, err := fs.openOrgWith(ctx, args, 1, "device log: name the device")
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.DeviceByName(ctx, o.ID, fs.Arg(0))
	if err != nil {
		return userError(err)
	}
	msgs, err := st.DeviceMessages(ctx, o.ID, store.DeviceMessageFilter{DeviceID: d.ID, WithRaw: true, Limit: *limit})
	if err != nil {
		return err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		fmt.Fprintf(e.stdout, "#%d %s %s %s %s", m.ID, m.ReceivedAt.Local().Format("2006-01-02 15:04:05"), m.Direction, m.Status, m.Kind)
		if m.Observations > 0 {
			fmt.Fprintf(e.stdout, " observations=%d", m.Observations)
		}
		if m.PatientRef != "" {
			fmt.Fprintf(e.stdout, " ref=%q", m.PatientRef)
		}
		if m.Error != "" {
			fmt.Fprintf(e.stdout, " error=%q", m.Error)
		}
		for _, w := range m.Warnings {
			fmt.Fprintf(e.stdout, " warning=%q", w)
		}
		fmt.Fprintln(e.stdout)
		fmt.Fprintln(e.stdout, devices.Transcript(m.Raw))
	}
	return nil
}
