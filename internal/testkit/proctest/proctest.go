// Package proctest tells tests whether a process has ended, polling with a
// deadline rather than sleeping: for tests that stop a tool and check that
// what it started is gone.
package proctest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Gone reports whether pid no longer runs: there is no such process, or it
// is a zombie nobody has reaped yet (it runs nothing; in a container, the
// first process may never reap it).
func Gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false // no /proc (macOS): the process answered kill -0
	}
	s := string(b) // "pid (comm) S ...": the state follows the last ')'
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// WaitGone polls until pid has ended, for at most timeout, and reports
// whether it has.
func WaitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !Gone(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
