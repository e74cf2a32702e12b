//go:build linux

package transport

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort, the dialer's Control when a source address is bound, asks
// Linux to choose the source port at connect rather than at bind. bind()
// must pick a port free for every destination, so one source address
// ran out after about 12,000 connections here; connect() needs the
// address, port and destination only to be unique, and reuses ports
// across destinations. It is best effort: a kernel without the option
// (before 4.2) binds as before.
func bindNoPort(_, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
}
