package workers

import (
	"context"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// childAttr puts a worker in a process group of its own and has the
// kernel kill it when its parent dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// ListenReusePort listens on addr with SO_REUSEPORT, so that several
// processes listen on one port and the kernel spreads the connections
// over them (by a hash of the connection's addresses and ports).
func ListenReusePort(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}
