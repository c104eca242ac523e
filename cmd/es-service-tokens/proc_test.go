package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/proctest"
)

// scriptDeadline bounds the polling of waitfile and gone: the condition
// is checked again and again until it holds or this much time has passed.
const scriptDeadline = 30 * time.Second

// waitFileCmd is "waitfile FILE": wait until FILE exists and is not empty,
// or is a socket (a process in the background has written it, or listens).
func waitFileCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	deadline := time.Now().Add(scriptDeadline)
	for {
		if st, err := os.Stat(ts.MkAbs(args[0])); err == nil && st.Mode().Type() == os.ModeSocket {
			return
		}
		if b, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within %v", args[0], scriptDeadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// goneCmd is "gone PIDFILE...": wait until each process whose pid a file
// holds has ended (a zombie counts as ended: it runs nothing). The
// processes still running at the deadline are killed and the script fails.
func goneCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: gone PIDFILE...")
	}
	deadline := time.Now().Add(scriptDeadline)
	for _, f := range args {
		pid, err := strconv.Atoi(strings.TrimSpace(ts.ReadFile(f)))
		ts.Check(err)
		if !proctest.WaitGone(pid, time.Until(deadline)) {
			syscall.Kill(pid, syscall.SIGKILL)
			ts.Fatalf("process %d (%s) still runs after %v", pid, f, scriptDeadline)
		}
	}
}
