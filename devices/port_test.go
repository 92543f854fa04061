package devices

import (
	"strings"
	"testing"
)

// The operating system's port list cannot be faked here, but choosing from
// it can: a re-plugged adapter keeps its serial number and changes its path.
func TestFindUSBSerial(t *testing.T) {
	before := []PortInfo{
		{Path: "/dev/ttyS0"},
		{Path: "/dev/ttyUSB0", IsUSB: true, VendorID: "0403", ProductID: "6001", SerialNumber: "FT5XK2L9"},
		{Path: "/dev/ttyUSB1", IsUSB: true, VendorID: "067b", ProductID: "2303", SerialNumber: "PL00123"},
	}
	after := []PortInfo{ // unplugged and plugged into another socket
		{Path: "/dev/ttyS0"},
		{Path: "/dev/ttyUSB0", IsUSB: true, VendorID: "067b", ProductID: "2303", SerialNumber: "PL00123"},
		{Path: "/dev/ttyUSB2", IsUSB: true, VendorID: "0403", ProductID: "6001", SerialNumber: "FT5XK2L9"},
	}
	cases := []struct {
		ports   []PortInfo
		serial  string
		want    string
		wantErr string
	}{
		{before, "FT5XK2L9", "/dev/ttyUSB0", ""},
		{after, "FT5XK2L9", "/dev/ttyUSB2", ""},
		{after, "PL00123", "/dev/ttyUSB0", ""},
		{[]PortInfo{{Path: "/dev/ttyS0", SerialNumber: "FT5XK2L9"}}, "FT5XK2L9", "", "is plugged in"}, // not USB
		{before, "NOPE", "", "no USB serial adapter with serial number NOPE"},
	}
	for _, c := range cases {
		got, err := findUSBSerial(c.ports, c.serial)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.serial, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.serial, got, err, c.want)
		}
	}
}
