package nodelock

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
)

// osFS is the local file system with the node's semantics: link fails on
// an existing name, rename replaces.
type osFS struct{}

func (osFS) WriteNew(p string, data []byte) (time.Time, error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return time.Time{}, err
	}
	var mtime time.Time
	_, err = f.Write(data)
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil {
			mtime = fi.ModTime()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return mtime, err
}
func (osFS) Link(o, n string) error   { return os.Link(o, n) }
func (osFS) Rename(o, n string) error { return os.Rename(o, n) }
func (osFS) Remove(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// ReadFile refuses what is not a regular file before opening it, and
// checks the opened handle, as remotefile.Conn does.
func (osFS) ReadFile(p string) ([]byte, time.Time, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, time.Time{}, &remotefile.NotRegularError{Path: p, Mode: fi.Mode()}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, time.Time{}, err
	}
	b, err := io.ReadAll(f)
	return b, fi.ModTime(), err
}

func opts(user string, lease, wait time.Duration) Options {
	return Options{Me: Holder{User: user, Host: "ws", PID: 7, Started: time.Now()}, Lease: lease, WaitUntil: time.Now().Add(wait), Poll: time.Millisecond}
}

// lockedTarget is a service_tokens path in a fresh directory whose lock
// user holds with lease.
func lockedTarget(t *testing.T, user string, lease time.Duration) (dir, target string, held *Lock) {
	t.Helper()
	dir = t.TempDir()
	target = filepath.Join(dir, "service_tokens")
	held, err := Acquire(context.Background(), osFS{}, target, opts(user, lease, 0))
	if err != nil {
		t.Fatal(err)
	}
	held.tidied() // its own file's removal (alongside the caller's next steps) has ended
	return dir, target, held
}

func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestLiveLockIsWaitedForThenNamed(t *testing.T) {
	dir, target, a := lockedTarget(t, "alice", time.Hour)
	_, err := Acquire(context.Background(), osFS{}, target, opts("bob", time.Hour, 20*time.Millisecond))
	if failure.Of(err) != failure.Locked || !strings.HasPrefix(err.Error(), "locked by alice@ws (pid 7) since ") {
		t.Fatalf("second Acquire: %v (kind %q)", err, failure.Of(err))
	}
	if err := a.Verify(osFS{}); err != nil {
		t.Errorf("holder's Verify: %v", err)
	}
	if err := a.Release(osFS{}); err != nil {
		t.Fatal(err)
	}
	if names := leftovers(t, dir); len(names) != 0 {
		t.Errorf("left behind: %q", names)
	}
	b, err := Acquire(context.Background(), osFS{}, target, opts("bob", time.Hour, 0))
	if err != nil || b.TookOver != "" {
		t.Fatalf("after release: %v, took over %q", err, b.TookOver)
	}
}

func TestExpiredLockIsTakenOverAndTheOldHolderNoticesBeforeRenaming(t *testing.T) {
	_, target, a := lockedTarget(t, "alice", time.Minute)
	old := time.Now().Add(-2 * time.Minute)
	os.Chtimes(Path(target), old, old) // alice was kill -9'd two minutes ago
	b, err := Acquire(context.Background(), osFS{}, target, opts("bob", time.Minute, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.TookOver, "took over the expired lock of alice@ws (pid 7) since ") {
		t.Errorf("TookOver = %q", b.TookOver)
	}
	if err := a.Verify(osFS{}); failure.Of(err) != failure.Locked || !strings.Contains(err.Error(), "held by bob@ws") {
		t.Errorf("old holder's Verify = %v", err)
	}
	a.Release(osFS{}) // must not remove bob's lock
	if err := b.Verify(osFS{}); err != nil {
		t.Errorf("new holder's Verify after the old one's Release: %v", err)
	}
}

func TestBreakTakesALiveLock(t *testing.T) {
	_, target, _ := lockedTarget(t, "alice", time.Hour)
	o := opts("bob", time.Hour, 0)
	o.Break = true
	b, err := Acquire(context.Background(), osFS{}, target, o)
	if err != nil || !strings.HasPrefix(b.TookOver, "took over the live lock of alice@ws") {
		t.Fatalf("break: %v, %q", err, b.TookOver)
	}
}

// Many runs find the same expired lock at once and all try to take it
// over: at every moment at most one of them verifies as the holder. The 30
// rounds run 5 at a time, each on its own lock: the waiting is backoff,
// not CPU, and more runs at once only stress the rule harder.
func TestConcurrentTakeOverOfOneStaleLock(t *testing.T) {
	inRounds(t, func(round int) func() {
		dir, target, _ := lockedTarget(t, "dead", time.Second)
		return func() { takeOverRound(t, round, dir, target) }
	})
}

// inRounds runs 30 rounds, 5 at a time (they wait on polls, not on the
// CPU): setup makes a round's lock, and the function it returns races
// for it.
func inRounds(t *testing.T, setup func(round int) func()) {
	const rounds, atOnce = 30, 5
	for first := 0; first < rounds; first += atOnce {
		var wg sync.WaitGroup
		for round := first; round < first+atOnce; round++ {
			race := setup(round)
			wg.Add(1)
			go func() {
				defer wg.Done()
				race()
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}
}

// takeOverRound lets 8 runs take over target's expired lock at once and
// checks that at most one held it at any moment and nothing was left.
func takeOverRound(t *testing.T, round int, dir, target string) {
	old := time.Now().Add(-time.Minute)
	os.Chtimes(Path(target), old, old)
	contend(t, round, dir, target)
}

// contend has 8 runs take the lock of target at once, each holding it a
// moment: at every moment at most one of them holds it, and nothing is
// left behind.
func contend(t *testing.T, round int, dir, target string) {
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := Acquire(context.Background(), osFS{}, target, opts("run", time.Hour, 5*time.Second))
			if err != nil {
				t.Error(err)
				return
			}
			if l.Verify(osFS{}) == nil {
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(time.Millisecond) // hold it a moment, as a push does
				inside.Add(-1)
			}
			l.Release(osFS{})
		}()
	}
	wg.Wait()
	if maxInside.Load() > 1 {
		t.Errorf("round %d: %d runs held the lock at once", round, maxInside.Load())
	}
	if names := leftovers(t, dir); len(names) != 0 {
		t.Errorf("round %d: left behind %q", round, names)
	}
}

// Done releases a lock that is still the run's, and leaves one taken over
// to its new holder, naming it.
func TestDoneReleasesOnlyItsOwnLock(t *testing.T) {
	dir, _, a := lockedTarget(t, "alice", time.Minute)
	if who, err := a.Done(osFS{}); who != "" || err != nil {
		t.Fatalf("Done of a held lock: %q, %v", who, err)
	}
	if names := leftovers(t, dir); len(names) != 0 {
		t.Errorf("left behind: %q", names)
	}
	_, target, a := lockedTarget(t, "alice", time.Minute)
	old := time.Now().Add(-2 * time.Minute)
	os.Chtimes(Path(target), old, old)
	b, err := Acquire(context.Background(), osFS{}, target, opts("bob", time.Minute, 0))
	if err != nil {
		t.Fatal(err)
	}
	if who, err := a.Done(osFS{}); err != nil || !strings.Contains(who, "held by bob@ws") {
		t.Errorf("Done of a lock taken over: %q, %v", who, err)
	}
	if err := b.Verify(osFS{}); err != nil {
		t.Errorf("new holder's Verify after the old one's Done: %v", err)
	}
}

// readCounter counts ReadFile calls by path.
type readCounter struct {
	osFS
	reads map[string]int
}

func (r *readCounter) ReadFile(p string) ([]byte, time.Time, error) {
	r.reads[p]++
	return r.osFS.ReadFile(p)
}

// A free lock costs no read: its time is that of this run's own file,
// from the write's handle, and the lock's name holds that very file. A
// lock in the way is judged by the node's clock from that same write,
// without reading this run's own file.
func TestFreeLockReadsOnce(t *testing.T) {
	target := filepath.Join(t.TempDir(), "service_tokens")
	fsys := &readCounter{reads: map[string]int{}}
	lk, err := Acquire(context.Background(), fsys, target, opts("alice", time.Minute, 0))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(Path(target))
	if err != nil {
		t.Fatal(err)
	}
	if len(fsys.reads) != 0 || !lk.NodeTime.Equal(fi.ModTime()) {
		t.Errorf("reads %v, node time %v; want no read, and the lock file's time %v", fsys.reads, lk.NodeTime, fi.ModTime())
	}
	lk.Release(osFS{})
	old := time.Now().Add(-2 * time.Minute)
	_, target, _ = lockedTarget(t, "bob", time.Minute)
	os.Chtimes(Path(target), old, old) // expired: judged by the node's clock
	fsys.reads = map[string]int{}
	lk, err = Acquire(context.Background(), fsys, target, opts("alice", time.Minute, 0))
	if err != nil {
		t.Fatal(err)
	}
	if lk.TookOver == "" {
		t.Errorf("the expired lock was not taken over")
	}
	for p := range fsys.reads {
		if id := strings.TrimPrefix(p, Path(target)+"."); id != p && validID(id) {
			t.Errorf("reads %v: this run's own file was read; its time comes from the write", fsys.reads)
		}
	}
}
