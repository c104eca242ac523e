package localproc

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

func supported(t *testing.T) Process {
	t.Helper()
	self := Self()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		if self.HostID != "" {
			t.Fatalf("Self on %s = %+v, want no host id", runtime.GOOS, self)
		}
		t.Skip("no process lookup on " + runtime.GOOS)
	}
	if self.HostID == "" || self.Start == "" || self.PID != os.Getpid() {
		t.Fatalf("Self = %+v", self)
	}
	return self
}

func TestThisProcessIsRunning(t *testing.T) {
	self := supported(t)
	if v, why := Check(self); v != Running || !strings.Contains(why, "still running") {
		t.Errorf("Check(self) = %v, %q", v, why)
	}
}

// A process that ran here and was reaped is provably gone.
func TestEndedProcess(t *testing.T) {
	self := supported(t)
	child, reap := startChild(t)
	reap()
	p := Process{HostID: self.HostID, PID: child.PID, Start: child.Start}
	if v, why := Check(p); v != Ended || why != fmt.Sprintf("no process %d on this host", child.PID) {
		t.Errorf("Check(ended child) = %v, %q", v, why)
	}
}

// A live pid started at another time is another process: the one the
// lock names is gone, its pid reused.
func TestReusedPID(t *testing.T) {
	self := supported(t)
	p := Process{HostID: self.HostID, PID: self.PID, Start: self.Start + "0"}
	if v, why := Check(p); v != Ended || why != fmt.Sprintf("pid %d is now another process", self.PID) {
		t.Errorf("Check(reused pid) = %v, %q", v, why)
	}
}

// A child that runs is running; once it has exited it is gone, even
// before its parent reaps it.
func TestRunningThenZombie(t *testing.T) {
	self := supported(t)
	child, reap := startChild(t)
	defer reap()
	child.HostID = self.HostID
	if v, why := Check(child); v != Running {
		t.Fatalf("Check(running child) = %v, %q", v, why)
	}
	waitExitedNotReaped(t, child.PID)
	if v, why := Check(child); v != Ended || why != fmt.Sprintf("process %d has exited", child.PID) {
		t.Errorf("Check(zombie) = %v, %q", v, why)
	}
}

// Nothing is proved about a process of another host, or one the lock
// does not fully name.
func TestUnknown(t *testing.T) {
	self := supported(t)
	for _, p := range []Process{
		{HostID: self.HostID + "x", PID: 999999, Start: "1"}, // another pid namespace
		{HostID: "", PID: 999999, Start: "1"},                // an old lock
		{HostID: self.HostID, PID: 999999, Start: ""},
		{HostID: self.HostID, PID: 0, Start: self.Start},
	} {
		if v, why := Check(p); v != Unknown || why == "" {
			t.Errorf("Check(%+v) = %v, %q", p, v, why)
		}
	}
}

// startChild starts `cat` reading a pipe and returns it named as a lock
// would name it; closing the pipe ends it, reap waits for it.
func startChild(t *testing.T) (Process, func()) {
	t.Helper()
	cmd := exec.Command("cat")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st, err := startOf(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	p := Process{PID: cmd.Process.Pid, Start: st.start}
	reaped := false
	return p, func() {
		stdin.Close()
		if !reaped {
			cmd.Wait()
			reaped = true
		}
	}
}

// The host id that goes into every node's lock file shows nothing of what
// identifies this machine (machine-id(5): confidential), and still tells
// this host from another: a hash of it, the same in every run.
func TestHostIDShowsNoMachineID(t *testing.T) {
	self := supported(t)
	raw, err := hostID()
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == '/' || r == ':' || r == '[' || r == ']' }) {
		if len(part) >= 6 && strings.Contains(self.HostID, part) {
			t.Errorf("host id %q shows %q, a part of %q", self.HostID, part, raw)
		}
	}
	if again, _ := Of(os.Getpid()); again.HostID != self.HostID {
		t.Errorf("host id changed between two looks: %q, %q", self.HostID, again.HostID)
	}
	if other := private(raw + "x"); other == self.HostID {
		t.Errorf("another host's id hashes the same: %q", other)
	}
	if !strings.HasPrefix(self.HostID, runtime.GOOS+"/") {
		t.Errorf("host id %q does not say its system", self.HostID)
	}
}

// A lock of an older version carries the raw host id: this version cannot
// compare it, waits for its lease, and says so.
func TestOldHostIDIsNamed(t *testing.T) {
	self := supported(t)
	old := Process{HostID: "linux/3d1219c7aaaa/6f1e2d3c-4b5a/pid:[4026531836]", PID: self.PID, Start: self.Start}
	if v, why := Check(old); v != Unknown || !strings.Contains(why, "older version") {
		t.Errorf("Check(old lock) = %v, %q", v, why)
	}
}
