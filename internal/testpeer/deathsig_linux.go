package testpeer

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the program when the test process dies, because
// redis-server, nginx and haproxy (unlike the peers) do not exit when their stdin closes.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
