package sshconn

import "syscall"

// procAttr puts a proxy command in a session of its own (its own process
// group, no controlling terminal) and has the kernel kill it when this
// process dies, however it dies: kill -9 leaves no proxy behind. What the
// proxy itself starts is ended with its group on Close; after a kill -9 it
// sees its input close.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}
