package nodelock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/localproc"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
)

// lockOf writes target's lock as holder h would have, with lease, taken
// at mtime.
func lockOf(t *testing.T, h Holder, lease time.Duration, mtime time.Time) (dir, target string) {
	t.Helper()
	dir = t.TempDir()
	target = filepath.Join(dir, "service_tokens")
	h.Tool, h.ID, h.LeaseSeconds = "es-service-tokens", "00112233445566ff", lease.Seconds()
	b, _ := json.Marshal(h)
	if err := os.WriteFile(Path(target), append(b, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	// The holder's own file, left when it was killed right after linking.
	if err := os.Link(Path(target), Path(target)+"."+h.ID); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(Path(target), mtime, mtime)
	return dir, target
}

func holderFor(p localproc.Process) Holder {
	return Holder{User: "root", Host: "ws", PID: p.PID, Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), HostID: p.HostID, ProcStart: p.Start}
}

func needProcs(t *testing.T) localproc.Process {
	self := localproc.Self()
	if self.HostID == "" {
		t.Skip("this system cannot tell whether a process runs")
	}
	return self
}

// endedProcess is a process of this host that ran and was reaped.
func endedProcess(t *testing.T) localproc.Process {
	t.Helper()
	cmd := exec.Command("cat")
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p, err := localproc.Of(cmd.Process.Pid)
	stdin.Close()
	cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A lock whose holder ran on this host and has ended (kill -9) is taken
// at once, long before its lease ends, with the reason; the dead run's
// own file goes with it.
func TestEndedHolderIsTakenAtOnce(t *testing.T) {
	needProcs(t)
	for _, c := range []struct {
		name string
		proc func(t *testing.T) localproc.Process
		why  string
	}{
		{"gone", endedProcess, "no process %d on this host"},
		{"pid reused", func(*testing.T) localproc.Process {
			p := localproc.Self() // a live pid, started at another time than the lock says
			p.Start += "0"
			return p
		}, "pid %d is now another process"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.proc(t)
			dir, target := lockOf(t, holderFor(p), time.Hour, time.Now())
			o := opts("bob", time.Hour, time.Hour)
			o.Me = holderFor(localproc.Self())
			began := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			lk, err := Acquire(ctx, osFS{}, target, o)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("took over the lock of root@ws (pid %d) since 2026-01-02T03:04:05Z: that run has ended ("+c.why+")", p.PID, p.PID)
			if lk.TookOver != want {
				t.Errorf("TookOver = %q\nwant       %q", lk.TookOver, want)
			}
			if d := time.Since(began); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			lk.Release(osFS{})
			if names := leftovers(t, dir); len(names) != 0 {
				t.Errorf("left behind: %q", names)
			}
		})
	}
}

// A holder that runs on this host, or that this host cannot look at,
// is waited for, and the failure says which.
func TestLiveOrUnknownHolderIsWaitedFor(t *testing.T) {
	self := needProcs(t)
	other, older := self, self
	other.HostID = "linux/" + strings.Repeat("ab", 16) // another host, hashed as this version does
	older.HostID = self.HostID + "/raw"                // an older version's raw id
	for _, c := range []struct {
		p    localproc.Process
		want string
	}{
		{self, fmt.Sprintf("process %d is still running on this host", self.PID)},
		{other, "it ran on another host (or container), where this run cannot look"},
		{older, "its lock was written by an older version of this tool, whose host ids this one does not compare"},
		{localproc.Process{PID: 4242}, "its lock does not say which process it is"},
	} {
		_, target := lockOf(t, holderFor(c.p), time.Hour, time.Now())
		_, err := Acquire(context.Background(), osFS{}, target, opts("bob", time.Hour, 20*time.Millisecond))
		if failure.Of(err) != failure.Locked || !strings.Contains(err.Error(), ": "+c.want+"; its lease ends ") {
			t.Errorf("%+v: %v", c.p, err)
		}
	}
}

// A live lock whose lease ends before the run stops waiting is waited for
// to the end of its lease, not given up on before, and then taken over.
func TestWaitsToTheEndOfTheLease(t *testing.T) {
	h := Holder{User: "alice", Host: "ws1", PID: 4242, Started: time.Now()}
	mtime := time.Now()
	_, target := lockOf(t, h, 1500*time.Millisecond, mtime)
	fi, _ := os.Stat(Path(target))
	end := fi.ModTime().Add(1500 * time.Millisecond)
	o := opts("bob", time.Hour, 0)
	o.WaitUntil = end.Add(2 * time.Second)
	o.Poll = 100 * time.Millisecond
	lk, err := Acquire(context.Background(), osFS{}, target, o)
	if err != nil {
		t.Fatal(err)
	}
	if now := time.Now(); now.Before(end) {
		t.Errorf("took the lock %v before its lease ended", end.Sub(now))
	}
	if !strings.HasPrefix(lk.TookOver, "took over the expired lock of alice@ws1 (pid 4242)") {
		t.Errorf("TookOver = %q", lk.TookOver)
	}
}

// Anything but a regular file at the lock's path fails at once, naming
// it and the fix, and leaves nothing of this run behind. A symlink is
// refused even when it points at a valid lock.
func TestNotAFileAtTheLockPath(t *testing.T) {
	for _, c := range []struct {
		what string
		make func(p string) error
	}{
		{"a named pipe (FIFO)", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"a directory", func(p string) error { return os.Mkdir(p, 0o700) }},
		{"a symbolic link", func(p string) error {
			_, valid := lockOf(t, Holder{User: "alice", Host: "ws1", PID: 1}, time.Hour, time.Now())
			return os.Symlink(Path(valid), p)
		}},
		{"a socket", func(p string) error {
			l, err := net.Listen("unix", p)
			if err == nil {
				t.Cleanup(func() { l.Close() })
			}
			return err
		}},
	} {
		dir := t.TempDir()
		target := filepath.Join(dir, "service_tokens")
		if err := c.make(Path(target)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := Acquire(ctx, osFS{}, target, opts("bob", time.Hour, time.Hour))
		cancel()
		want := fmt.Sprintf("lock: %s is %s, where this tool keeps its lock file", Path(target), c.what)
		if failure.Of(err) != failure.Refused || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "remove it from the node") {
			t.Errorf("%s: %v (kind %q)", c.what, err, failure.Of(err))
		}
		if names := leftovers(t, dir); len(names) != 1 {
			t.Errorf("%s: left %q", c.what, names)
		}
	}
}

// failingRemove is a node whose connection died: nothing can be removed.
type failingRemove struct{ osFS }

func (failingRemove) Remove(string) error { return errors.New("connection lost") }

// A failed Acquire that cannot remove its own file says which, for the
// caller to remove over a new connection.
func TestLeftBehindIsNamed(t *testing.T) {
	dir, target, _ := lockedTarget(t, "alice", time.Hour)
	_, err := Acquire(context.Background(), failingRemove{}, target, opts("bob", time.Hour, 0))
	left := LeftBehind(err)
	if failure.Of(err) != failure.Locked || !strings.HasPrefix(left, Path(target)+".") {
		t.Fatalf("err %v, left %q", err, left)
	}
	if _, serr := os.Stat(left); serr != nil {
		t.Errorf("LeftBehind names %s: %v", left, serr)
	}
	if names := leftovers(t, dir); len(names) != 2 {
		t.Errorf("in the directory: %q", names)
	}
}

// Many runs find the lock of a run that ended on this host at once (its
// lease far from over) and all take it: at every moment at most one of
// them holds it, and the dead run's own file goes too. 30 rounds.
func TestConcurrentTakeOverOfAnEndedHolder(t *testing.T) {
	needProcs(t)
	inRounds(t, func(round int) func() {
		dir, target := lockOf(t, holderFor(endedProcess(t)), time.Hour, time.Now())
		return func() { contend(t, round, dir, target) }
	})
}

// A holder's words come from a file on the node: escaped and bounded.
func TestHolderStringIsBoundedAndEscaped(t *testing.T) {
	h := Holder{User: "root\n" + strings.Repeat("u", 100), Host: "ws\x1b[2J", PID: 7, Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	want := `root\n` + strings.Repeat("u", 59) + `... (105 characters)@ws\x1b[2J (pid 7) since 2026-01-02T03:04:05Z`
	if got := h.String(); got != want {
		t.Errorf("String() = %q\nwant       %q", got, want)
	}
}
