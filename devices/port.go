package devices

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"

	"github.com/clinicbox/clinicbox/store"
)

// PortInfo is a serial port present on the machine, with what the operating
// system tells about its USB adapter.
type PortInfo struct {
	Path         string
	IsUSB        bool
	VendorID     string
	ProductID    string
	SerialNumber string
	Product      string
}

// ListPorts lists the serial ports present now. Where the OS cannot tell
// USB details, only the paths are returned.
func ListPorts() ([]PortInfo, error) {
	details, err := enumerator.GetDetailedPortsList()
	if err == nil {
		out := make([]PortInfo, 0, len(details))
		for _, d := range details {
			out = append(out, PortInfo{Path: d.Name, IsUSB: d.IsUSB, VendorID: d.VID, ProductID: d.PID,
				SerialNumber: d.SerialNumber, Product: d.Product})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
		return out, nil
	}
	names, err2 := serial.GetPortsList()
	if err2 != nil {
		return nil, fmt.Errorf("list serial ports: %w", errors.Join(err, err2))
	}
	sort.Strings(names)
	out := make([]PortInfo, len(names))
	for i, n := range names {
		out[i] = PortInfo{Path: n}
	}
	return out, nil
}

// resolvePath finds where a device is plugged in now: its configured path,
// or the port whose USB adapter has its serial number.
func resolvePath(d *store.Device) (string, error) {
	if d.USBSerial == "" {
		return d.PortPath, nil
	}
	ports, err := ListPorts()
	if err != nil {
		return "", fmt.Errorf("find USB serial %s: %w", d.USBSerial, err)
	}
	return findUSBSerial(ports, d.USBSerial)
}

// findUSBSerial picks the port whose USB adapter reports serial: the same
// adapter is found whichever socket it was plugged into.
func findUSBSerial(ports []PortInfo, serial string) (string, error) {
	for _, p := range ports {
		if p.IsUSB && p.SerialNumber == serial {
			return p.Path, nil
		}
	}
	return "", fmt.Errorf("no USB serial adapter with serial number %s is plugged in", serial)
}

// serialMode translates a device's framing for go.bug.st/serial.
func serialMode(d *store.Device) *serial.Mode {
	m := &serial.Mode{BaudRate: d.Baud, DataBits: d.DataBits}
	switch d.Parity {
	case "odd":
		m.Parity = serial.OddParity
	case "even":
		m.Parity = serial.EvenParity
	case "mark":
		m.Parity = serial.MarkParity
	case "space":
		m.Parity = serial.SpaceParity
	default:
		m.Parity = serial.NoParity
	}
	switch d.StopBits {
	case "1.5":
		m.StopBits = serial.OnePointFiveStopBits
	case "2":
		m.StopBits = serial.TwoStopBits
	default:
		m.StopBits = serial.OneStopBit
	}
	return m
}

// openSerial opens the device's serial port with its framing.
func openSerial(d *store.Device) (io.ReadWriteCloser, string, error) {
	path, err := resolvePath(d)
	if err != nil {
		return nil, "", err
	}
	p, err := serial.Open(path, serialMode(d))
	if err != nil {
		return nil, path, fmt.Errorf("open %s: %w", path, err)
	}
	return p, path, nil
}

// OpenPort opens a serial port at baud, 8N1: the simulator's end of a real
// cable (clinicbox simulate --port).
func OpenPort(path string, baud int) (io.ReadWriteCloser, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return p, nil
}
