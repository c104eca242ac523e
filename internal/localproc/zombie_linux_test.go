package localproc

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// waitExitedNotReaped ends the child with SIGTERM and waits until it has
// exited, leaving it unreaped (WNOWAIT): a zombie.
func waitExitedNotReaped(t *testing.T, pid int) {
	t.Helper()
	p, _ := os.FindProcess(pid)
	p.Signal(unix.SIGTERM)
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
}
