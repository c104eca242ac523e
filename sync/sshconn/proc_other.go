//go:build !linux

package sshconn

import "syscall"

// procAttr puts a proxy command in a session of its own (its own process
// group, no controlling terminal), ended with its group on Close. Only
// Linux can have the kernel kill it when this process dies; elsewhere a
// kill -9 leaves it to notice that its input closed.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}
