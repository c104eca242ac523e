package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// stallCmd is the script command
//
//	stall NODE SYSCALL
//
// It attaches strace to the node's sshd, following every session the node
// starts from then on, and delays each SYSCALL they make by two minutes: a
// node whose disk hangs in that call, holding whatever the client had
// done before it. It returns once strace has attached. `unstall NODE`
// detaches it; a delayed call then goes on.
func stallCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: stall NODE SYSCALL")
	}
	if _, err := exec.LookPath("strace"); err != nil {
		ts.Fatalf("stall needs strace (apt-get install strace)")
	}
	n := nodeNamed(ts, args[0])
	cmd := exec.Command("strace", "-f", "-o", os.DevNull, "-p", fmt.Sprint(n.PID()),
		"-e", "trace="+args[1], "-e", "inject="+args[1]+":delay_enter=120s")
	stderr, err := cmd.StderrPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	stop := func() {
		cmd.Process.Signal(os.Interrupt) // strace detaches on SIGINT
		cmd.Wait()
	}
	ts.Defer(stop)
	stalls(ts)[args[0]] = stop
	attached := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "attached") {
				attached <- true
				break
			}
		}
		for sc.Scan() { // keep strace's stderr drained
		}
		attached <- false
	}()
	select {
	case ok := <-attached:
		if !ok {
			ts.Fatalf("strace did not attach to %s's sshd", args[0])
		}
	case <-time.After(30 * time.Second):
		ts.Fatalf("strace did not attach to %s's sshd within 30s", args[0])
	}
}

// unstallCmd is "unstall NODE": strace detaches from the node.
func unstallCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: unstall NODE")
	}
	stop, ok := stalls(ts)[args[0]]
	if !ok {
		ts.Fatalf("%s is not stalled", args[0])
	}
	stop()
	delete(stalls(ts), args[0])
}

func stalls(ts *testscript.TestScript) map[string]func() {
	st := ts.Value("state").(*scriptState)
	if st.stalls == nil {
		st.stalls = map[string]func(){}
	}
	return st.stalls
}

// waitforCmd is "waitfor GLOB": it returns once a file matches GLOB, and
// fails after 60 seconds. It waits for a state (a lock taken, a temporary
// file written), not for a time.
func waitforCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfor GLOB")
	}
	pattern := ts.MkAbs(args[0])
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no file matches %s after 60s", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
