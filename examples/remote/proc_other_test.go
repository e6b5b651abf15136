//go:build !linux

package main

import "os/exec"

// dieWithTest would make cmd's process die with the test binary; only Linux
// can (Pdeathsig), elsewhere the test's cleanup kills it.
func dieWithTest(cmd *exec.Cmd) {}
