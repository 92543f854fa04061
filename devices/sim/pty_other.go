//go:build !linux

package sim

import (
	"errors"
	"os"
)

// PTY is a pseudo-terminal pair; see the Linux implementation.
type PTY struct {
	Master *os.File
	Path   string
}

// OpenPTY is only implemented on Linux, where the appliance runs.
func OpenPTY() (*PTY, error) { return nil, errors.New("sim: OpenPTY is only implemented on Linux") }

// Close does nothing.
func (p *PTY) Close() error { return nil }
