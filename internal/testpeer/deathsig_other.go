//go:build !linux

package testpeer

import "os/exec"

// setDeathSignal has no portable equivalent off Linux: Stop and t.Cleanup end the programs.
func setDeathSignal(*exec.Cmd) {}
