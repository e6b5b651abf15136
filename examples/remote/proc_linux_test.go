package main

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes cmd's process be killed when the test binary dies, even
// without running its cleanups (a test timeout panics past them).
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
