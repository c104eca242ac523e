//go:build unix

package localproc

import (
	"errors"
	"syscall"
)

// exists asks the kernel whether pid is a process: kill(pid, 0) fails with
// ESRCH only when there is none (EPERM means it exists but is another
// user's). /proc cannot say so: hidepid hides other users' processes.
func exists(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
