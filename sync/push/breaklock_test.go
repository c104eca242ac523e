package push

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/nodelock"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Issue 16.2: a run holds a node's lock, has passed its last look and sent
// its rename, which stalls on the way (a slow link: sftptest holds it).
// Another run breaks the lock (--break-lock) and writes its own change.
// The holder's rename then lands at a chosen moment of the breaker's run.
// Whatever the moment, both reports are true at the end: a run says
// updated only when the node ends with its file, and when the held rename
// arrives after the breaker took the lock, the breaker's token is on the
// node. Each moment runs many times; the invariant is checked every time.
func TestBreakLockLosesNoVerifiedUpdate(t *testing.T) {
	files := breakFiles(t)
	for _, when := range []string{afterTakeover, atBreakerRename, afterBreaker} {
		t.Run(when, func(t *testing.T) {
			for i := 0; i < 15; i++ {
				holder, breaker, final := breakLockRace(t, files, when)
				checkBreakLock(t, i, when, files, holder, breaker, final)
			}
		})
	}
}

// The moments the holder's rename is let through.
const (
	afterTakeover   = "after the breaker took the lock"
	atBreakerRename = "when the breaker renames"
	afterBreaker    = "after the breaker ended"
)

type raceFiles struct{ base, holder, breaker []byte }

// breakFiles: a shared starting file and each run's create on top of it.
func breakFiles(t *testing.T) raceFiles {
	t.Helper()
	h, err := tokens.DefaultAlgorithm.Hash("s3cr3t-s3cr3t", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	with := func(names ...string) []byte {
		f := tokens.NewFile()
		for _, n := range names {
			f.Set(n, h)
		}
		b, err := f.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return raceFiles{
		base:    with("elastic/fleet-server/base"),
		holder:  with("elastic/fleet-server/base", "elastic/fleet-server/holder"),
		breaker: with("elastic/fleet-server/base", "elastic/kibana/breaker"),
	}
}

// breakLockRace runs the holder and, once its rename is held, the
// breaker, each through its own server over the same directory. It
// returns both results and the node's file at the end.
func breakLockRace(t *testing.T, files raceFiles, when string) (holder, breaker Result, final []byte) {
	t.Helper()
	dir := t.TempDir()
	target := filepath.Join(dir, "service_tokens")
	if err := os.WriteFile(target, files.base, 0o640); err != nil {
		t.Fatal(err)
	}
	held, release, landed := make(chan struct{}), make(chan struct{}), make(chan string, 1)
	var once sync.Once
	hs := sftptest.Options{
		BeforeRename: func(_, newpath string) {
			if newpath == target {
				once.Do(func() { close(held); <-release })
			}
		},
		AfterRename: func(_, newpath, result string) {
			if newpath == target {
				landed <- result
			}
		},
	}
	letThrough := func() { close(release); <-landed }
	bs := sftptest.Options{}
	switch when {
	case afterTakeover:
		bs.AfterRename = func(_, newpath, _ string) {
			if newpath == nodelock.Path(target) {
				letThrough()
			}
		}
	case atBreakerRename:
		bs.BeforeRename = func(_, newpath string) {
			if newpath == target {
				letThrough()
			}
		}
	}
	hNode, bNode := nodeOn(t, "n", hs, target), nodeOn(t, "n", bs, target)
	hDone := make(chan Result, 1)
	go func() {
		hDone <- push(t, pusherAs("holder", false), Request{Data: files.holder, Before: files.base}, hNode)["n"]
	}()
	select {
	case <-held:
	case r := <-hDone:
		t.Fatalf("the holder ended before its rename: %+v", r)
	}
	breaker = push(t, pusherAs("breaker", true), Request{Data: files.breaker, Before: files.base}, bNode)["n"]
	if when == afterBreaker {
		letThrough()
	}
	holder = <-hDone
	final, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	leftAlone(t, dir)
	return holder, breaker, final
}

// nodeOn is a node named name whose file is target, served by a server
// of its own with opts (the test's servers all see the same directory).
func nodeOn(t *testing.T, name string, opts sftptest.Options, target string) *node {
	t.Helper()
	n := newNode(t, name, opts, nil)
	n.dir, n.node.Path = filepath.Dir(target), target
	return n
}

func pusherAs(who string, breakLock bool) *Pusher {
	p := pusher(20 * time.Second)
	p.Me = nodelock.Holder{User: who, Host: "test", PID: os.Getpid(), Started: time.Now()}
	p.BreakLock = breakLock
	return p
}

// leftAlone: no temporary file and no lock stays behind.
func leftAlone(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "service_tokens" {
			t.Errorf("%s left behind", e.Name())
		}
	}
}

// checkBreakLock is the invariant: a run reported updated only if the
// node ends with its file; what each moment must give.
func checkBreakLock(t *testing.T, i int, when string, files raceFiles, holder, breaker Result, final []byte) {
	t.Helper()
	for _, r := range []struct {
		who  string
		res  Result
		data []byte
	}{{"holder", holder, files.holder}, {"breaker", breaker, files.breaker}} {
		if r.res.Status.Verified() && string(final) != string(r.data) {
			t.Errorf("try %d: the %s reported %s, but the node ends with another file; holder %+v, breaker %+v", i, r.who, r.res.Status, holder, breaker)
		}
	}
	if holder.Status.Verified() {
		t.Errorf("try %d: the holder, whose lock was broken, reported %s: %+v", i, holder.Status, holder)
	} else if holder.Failure != failure.Locked || !strings.Contains(holder.Reason.String(), "lock on the node was taken over") {
		t.Errorf("try %d: the holder's report does not say its lock was taken over: %+v", i, holder)
	}
	switch when {
	case afterTakeover:
		// The held rename landed before the breaker's read under the
		// lock: the breaker finds a file that is neither its before nor
		// its after, and says so.
		if breaker.Status != Conflict || string(final) != string(files.holder) {
			t.Errorf("try %d: breaker %+v, node %q", i, breaker, final)
		}
	default:
		if breaker.Status != Updated || !strings.Contains(string(final), "elastic/kibana/breaker:") {
			t.Errorf("try %d: the breaker's token is not on the node: breaker %+v, holder %+v", i, breaker, holder)
		}
	}
}
