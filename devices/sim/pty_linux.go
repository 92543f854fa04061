package sim

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal pair standing in for a serial cable: the
// simulator reads and writes Master, and the code under test opens Path
// (/dev/pts/N) exactly as it would open /dev/ttyUSB0.
type PTY struct {
	Master *os.File // the instrument's end
	Path   string   // the device path to configure as the port
	slave  *os.File
}

// OpenPTY creates a pseudo-terminal pair with the terminal side in raw
// mode: no echo, no line editing, no CR/LF translation, 8-bit bytes, as a
// serial line carries them. The terminal side stays open until Close, so
// the device can be opened, closed and reopened (reconnection tests);
// closing Master is what "pulling the cable" looks like to the reader.
func OpenPTY() (*PTY, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("sim: open pty: %w", err)
	}
	if err := makeRaw(int(slave.Fd())); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("sim: pty %s raw mode: %w", slave.Name(), err)
	}
	return &PTY{Master: master, Path: slave.Name(), slave: slave}, nil
}

// Close closes both ends.
func (p *PTY) Close() error {
	err1 := p.Master.Close()
	err2 := p.slave.Close()
	if err1 != nil {
		return fmt.Errorf("sim: close pty: %w", err1)
	}
	if err2 != nil {
		return fmt.Errorf("sim: close pty: %w", err2)
	}
	return nil
}

// makeRaw does what cfmakeraw(3) does.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
