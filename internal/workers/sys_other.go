//go:build !linux

package workers

import (
	"errors"
	"net"
	"syscall"
)

func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// ListenReusePort is Linux-only here: SO_REUSEPORT balances connections
// over the listeners only on Linux.
func ListenReusePort(addr string) (net.Listener, error) {
	return nil, errors.New("serve --workers: SO_REUSEPORT load balancing needs Linux")
}
