// Package nodelock serialises es-service-tokens runs that write the same
// node: a lock file next to service_tokens, made atomically on the node,
// that says who holds it and for how long.
//
// Why a file and a hard link: SFTP has no compare-and-swap and no
// advisory locks, but link(2) fails when the name exists, so linking a
// fully written file to the lock's name creates it atomically with its
// content (an O_EXCL create would show other runs an empty lock for a
// moment). hardlink@openssh.com has been in OpenSSH since 5.7.
//
// A lock is a lease: it expires at its file's modification time (the
// node's clock, so the runs' clocks need not agree) plus the holder's
// lease, which the holder derives from its own time limit. A holder can
// never outlive its lease while it writes, because the node's deadline
// closes its connection first.
package nodelock

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/localproc"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
)

// FS is what a lock needs of the node's file system (remotefile.Conn).
type FS interface {
	// WriteNew creates path exclusively, writes data and closes it. It
	// returns the file's modification time as its handle gave it with the
	// write (that of the write or, a moment earlier, of the creation): the
	// node's clock.
	WriteNew(path string, data []byte) (time.Time, error)
	// Link makes newname a hard link to oldname; it fails if newname exists.
	Link(oldname, newname string) error
	// ReadFile returns a regular file's content and modification time.
	// Anything else at path fails with a *remotefile.NotRegularError
	// before it is opened (a FIFO would block the open), and what was
	// opened is checked again on its handle.
	ReadFile(path string) ([]byte, time.Time, error)
	// Rename replaces newname atomically (posix-rename).
	Rename(oldname, newname string) error
	// Remove deletes path; a missing path is no error.
	Remove(path string) error
}

// Holder is who holds a lock: the content of the lock file.
type Holder struct {
	Tool         string    `json:"tool"`
	ID           string    `json:"id"`
	User         string    `json:"user"`
	Host         string    `json:"host"`
	PID          int       `json:"pid"`
	Started      time.Time `json:"started"`
	LeaseSeconds float64   `json:"lease_seconds"`
	// HostID and ProcStart name the holder's process (internal/localproc),
	// so that a run on the same host can prove it has ended.
	HostID    string `json:"host_id,omitempty"`
	ProcStart string `json:"proc_start,omitempty"`
}

// process is the holder's process, for localproc.
func (h Holder) process() localproc.Process {
	return localproc.Process{HostID: h.HostID, PID: h.PID, Start: h.ProcStart}
}

// String names the holder for messages. User and host come from a file
// on the node, which anyone who can write there may have made: bounded
// and escaped.
func (h Holder) String() string {
	return fmt.Sprintf("%s@%s (pid %d) since %s", safetext.Bounded(h.User), safetext.Bounded(h.Host), h.PID, h.Started.UTC().Format(time.RFC3339))
}

// Path is the lock file of target.
func Path(target string) string {
	dir, base := path.Split(target)
	return dir + "." + base + ".es-service-tokens.lock"
}

// IsLockFile reports whether name (a base name) is a lock file of target,
// or one of the short-lived files Acquire makes on the way.
func IsLockFile(target, name string) bool {
	lock := path.Base(Path(target))
	return name == lock || (len(name) > len(lock)+1 && name[:len(lock)+1] == lock+".")
}

// Options say who is locking and how.
type Options struct {
	// Me is who is locking: User, Host, PID, Started, and HostID and
	// ProcStart where this system can tell them (localproc.Self); ID is
	// made here.
	Me    Holder
	Lease time.Duration // how long the lock stays valid without its holder
	// Break takes over a lock held by a live run at once.
	Break bool
	// WaitUntil is when to stop waiting for a live lock. A lock whose
	// lease ends before then is waited for to its end, then taken over.
	WaitUntil time.Time
	// Poll is the first interval between looks at a live lock (default
	// 200ms); it doubles up to 2s.
	Poll time.Duration
}

// Lock is a held lock.
type Lock struct {
	path    string
	content []byte
	Holder  Holder
	// NodeTime is the node's clock when the lock was taken: the lock
	// file's modification time.
	NodeTime time.Time
	// TookOver names the holder whose lock was taken over (ended, expired
	// or broken), for a warning; empty when the lock was free.
	TookOver string
	// own is this run's own lock file when it could not be removed after
	// linking; Release tries again.
	own string
	// mine is this run's own lock file, whose removal after linking is
	// under way until removing says how it went (tidied).
	mine     string
	removing chan error
}

// tidied waits for the removal of this run's own lock file that Acquire
// started, and keeps its name in own if it failed.
func (l *Lock) tidied() {
	if l.removing == nil {
		return
	}
	if err := <-l.removing; err != nil {
		l.own = l.mine
	}
	l.removing = nil
}

// Acquire takes the lock of target: at once when it is free or its
// holder has provably ended (a run on this host whose process is gone),
// after its lease when it has one that ends before opts.WaitUntil, at
// once with Break. It fails with kind failure.Locked naming the holder,
// and with kind failure.Refused when something other than a regular file
// is at the lock's path. A failed Acquire removes the file it made; when
// it cannot (the connection died), LeftBehind(err) names it.
func Acquire(ctx context.Context, fsys FS, target string, opts Options) (*Lock, error) {
	me, content, err := lockContent(opts)
	if err != nil {
		return nil, err
	}
	a := &acquirer{fsys: fsys, opts: opts, lockPath: Path(target), poll: opts.Poll}
	a.mine = a.lockPath + "." + me.ID
	a.lk = &Lock{path: a.lockPath, content: content, Holder: me}
	if a.poll <= 0 {
		a.poll = 200 * time.Millisecond
	}
	lk, err := a.start(ctx, target, content)
	if err != nil {
		if rmErr := fsys.Remove(a.mine); rmErr != nil {
			return nil, &leftBehind{err, a.mine}
		}
		return nil, err
	}
	// The lock is this run's: its own file, now linked (or renamed) to the
	// lock's name, is removed alongside what the caller does next under
	// the lock. Its name is this run's alone, and the lock's name holds
	// the file whatever becomes of it; Release and Done wait for the
	// removal (tidied).
	removed := make(chan error, 1)
	go func() { removed <- fsys.Remove(a.mine) }()
	lk.mine, lk.removing = a.mine, removed
	return lk, nil
}

// start writes this run's own lock file, then waits for the lock.
func (a *acquirer) start(ctx context.Context, target string, content []byte) (*Lock, error) {
	written, err := writeOwn(a.fsys, target, a.mine, content)
	if err != nil {
		if ctx.Err() != nil {
			return nil, a.stopped(ctx.Err()) // the request failed because the run stopped
		}
		return nil, err
	}
	a.written = written
	localThen := time.Now()
	a.nodeNow = func() time.Time { return written.Add(time.Since(localThen)) }
	return a.wait(ctx)
}

// leftBehind is a failed Acquire whose own lock file stayed on the node.
type leftBehind struct {
	error
	path string
}

func (e *leftBehind) Unwrap() error { return e.error }

// LeftBehind is the path of the file a failed Acquire made and could not
// remove, for the caller to remove over a new connection; empty if none.
func LeftBehind(err error) string {
	var lb *leftBehind
	if errors.As(err, &lb) {
		return lb.path
	}
	return ""
}

// lockContent is this run's lock file: who it is, a fresh ID, and the
// lease others grant it.
func lockContent(opts Options) (Holder, []byte, error) {
	var id [8]byte
	rand.Read(id[:])
	me := opts.Me
	me.Tool, me.ID, me.LeaseSeconds = "es-service-tokens", hex.EncodeToString(id[:]), opts.Lease.Seconds()
	content, err := json.Marshal(me)
	if err != nil {
		return Holder{}, nil, err
	}
	return me, append(content, '\n'), nil
}

// writeOwn writes this run's lock file under its own name (mine), fully,
// before it is linked to the lock's name, and returns its modification
// time.
func writeOwn(fsys FS, target, mine string, content []byte) (time.Time, error) {
	written, err := fsys.WriteNew(mine, content)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, failure.New(failure.RemoteIO, fmt.Errorf("the directory %s does not exist on the node: is Elasticsearch installed there, and is path right?", path.Dir(target)))
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("lock: %w", err)
	}
	return written, nil
}

// clock tells the node's time without trusting ours: the modification
// time of this run's own lock file as its handle gave it with the write
// (WriteNew), advanced by our clock since. The link that takes the lock
// comes after that write, so the node's time looks a request or two
// earlier than it is, which errs on the side of waiting.
func (a *acquirer) clock() time.Time { return a.nodeNow() }

// acquirer is one Acquire in progress.
type acquirer struct {
	fsys     FS
	opts     Options
	lockPath string
	mine     string           // this run's lock file, linked to lockPath to take it
	lk       *Lock            // what Acquire returns once linked
	written  time.Time        // mine's modification time: the node's clock then
	nodeNow  func() time.Time // the node's clock (clock)
	poll     time.Duration
	// The live holder last seen, when its lease ends, and what this host
	// knows of its process, for the failure after waiting in vain.
	lastHolder Holder
	lastEnd    time.Time
	lastState  string
}

// wait tries until the lock is this run's, the wait is over, or ctx ends.
func (a *acquirer) wait(ctx context.Context) (*Lock, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, a.stopped(err)
		}
		lk, pause, err := a.try()
		if err != nil && ctx.Err() != nil {
			return nil, a.stopped(ctx.Err()) // the request failed because the run stopped
		}
		if lk != nil || err != nil {
			return lk, err
		}
		if pause > 0 {
			if err := a.sleep(ctx, pause); err != nil {
				return nil, err
			}
		}
	}
}

// try is one round: link this run's file to the lock's name, or judge
// the lock in the way. With neither a lock nor an error, pause is how
// long to wait before the next round (zero: go on at once).
func (a *acquirer) try() (lk *Lock, pause time.Duration, err error) {
	if a.fsys.Link(a.mine, a.lockPath) == nil {
		return a.held(""), 0, nil
	}
	seen, mtime, err := a.fsys.ReadFile(a.lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		lk, err := a.vanished()
		return lk, 0, err
	}
	if err != nil {
		return nil, 0, a.unreadable(err)
	}
	return a.judge(seen, mtime)
}

// unreadable is the failure for a lock path that cannot be read: anything
// but a regular file there is named at once, with the fix.
func (a *acquirer) unreadable(err error) error {
	var nr *remotefile.NotRegularError
	if errors.As(err, &nr) {
		return failure.New(failure.Refused, fmt.Errorf("lock: %s is %s, where this tool keeps its lock file (a regular file it makes and removes); remove it from the node (nothing of es-service-tokens makes one), then run again",
			a.lockPath, nr.What()))
	}
	return fmt.Errorf("lock: read %s: %w", a.lockPath, err)
}

// vanished handles a link that failed with no lock to read: released
// between our link and our read, or the link failed for another reason.
// Linking again tells, and a link that fails with no lock in the way is
// an error of its own. Neither lock nor error: look again at once.
func (a *acquirer) vanished() (*Lock, error) {
	linkErr := a.fsys.Link(a.mine, a.lockPath)
	if linkErr == nil {
		return a.held(""), nil
	}
	if _, _, err := a.fsys.ReadFile(a.lockPath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lock: cannot create %s (hard link): %w", a.lockPath, linkErr)
	}
	return nil, nil
}

// judge decides about a lock held by another run (its content seen, its
// file's modification time mtime): take it over when its holder has
// provably ended, its lease has run out, or Break says so; else wait for
// it while there is time, to the end of its lease at most.
func (a *acquirer) judge(seen []byte, mtime time.Time) (lk *Lock, pause time.Duration, err error) {
	h, lease := holderOf(seen, mtime, a.opts.Lease)
	verdict, state := localproc.Check(h.process())
	a.lastHolder, a.lastEnd, a.lastState = h, mtime.Add(lease), state
	left := a.lastEnd.Sub(a.clock())
	var how string
	switch {
	case verdict == localproc.Ended:
		how = fmt.Sprintf("took over the lock of %s: that run has ended (%s)", h, state)
	case left < 0:
		how = fmt.Sprintf("took over the expired lock of %s (lease %s)", h, lease.Round(time.Second))
	case a.opts.Break:
		how = fmt.Sprintf("took over the live lock of %s (lease %s)", h, lease.Round(time.Second))
	default:
		// Look again after the poll interval, or right after the lease
		// ends if that is sooner.
		pause = min(a.poll, left+10*time.Millisecond)
		if !time.Now().Add(pause).Before(a.opts.WaitUntil) {
			return nil, 0, a.locked(nil)
		}
		return nil, pause, nil
	}
	took, err := takeOver(a.fsys, a.lockPath, a.mine, seen)
	if err != nil || !took {
		// Not taken: another run moved it first; look again after a pause.
		return nil, a.poll, err
	}
	if validID(h.ID) {
		// The old holder's own file, left if it was killed right after
		// linking it: only that run makes a file of this name.
		a.fsys.Remove(a.lockPath + "." + h.ID)
	}
	return a.held(how), 0, nil
}

// validID reports whether id is one lockContent makes, so that a name
// built from a lock's content stays inside the directory.
func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// holderOf reads a lock's content. A lock this tool cannot read (another
// version, a hand edit) is an unknown holder with the default lease,
// counted from its file's modification time.
func holderOf(seen []byte, mtime time.Time, defaultLease time.Duration) (Holder, time.Duration) {
	var h Holder
	if json.Unmarshal(seen, &h) == nil && h.LeaseSeconds > 0 {
		return h, time.Duration(h.LeaseSeconds * float64(time.Second))
	}
	return Holder{User: "?", Host: "?", Started: mtime}, defaultLease
}

// held is the lock, now this run's. Its NodeTime is the lock file's
// modification time: that of this run's own file, as its handle gave it
// with the write (WriteNew; if anything a moment early, which makes the
// lock look older to this run than to others: it sweeps less and waits
// more, never the other way). The lock's name now holds that very inode
// (a hard link, or a rename on a take-over; neither changes its
// modification time), so a read of the lock by name (five requests and
// four round trips, against the one fstat) would tell nothing more, and
// might tell less: a name can be swapped, the handle's file cannot.
func (a *acquirer) held(tookOver string) *Lock {
	a.lk.TookOver = tookOver
	a.lk.NodeTime = a.written
	return a.lk
}

// locked is the failure after waiting in vain for the last holder seen,
// or after being stopped while waiting (cause): what this host knows of
// the holder, and when its lease ends.
func (a *acquirer) locked(cause error) error {
	msg := remedy.Sprintf("locked by %s: %s; its lease ends %s", a.lastHolder, a.lastState, a.lastEnd.UTC().Format(time.RFC3339))
	if cause != nil {
		msg = msg.Append(" (stopped waiting: %s)", cause.Error())
	} else {
		msg = msg.Append(", after this run stopped waiting: try again then (%v takes it over now, if that run has ended)", remedy.BreakLock)
	}
	return failure.New(failure.Locked, &remedy.Error{Kind: remedy.BreakLock, Msg: msg})
}

// stopped is the failure of a wait that ctx ended: locked by the holder
// seen, if any was.
func (a *acquirer) stopped(cause error) error {
	if a.lastHolder.ID != "" || a.lastHolder.User != "" {
		return a.locked(cause)
	}
	return fmt.Errorf("stopped before the lock was taken: %w", cause)
}

// sleep waits d, and doubles the poll interval up to 2s for the next.
func (a *acquirer) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return a.stopped(ctx.Err())
	case <-t.C:
	}
	a.poll = min(a.poll*2, 2*time.Second)
	return nil
}

// takeOver replaces the lock file with this run's (mine) if it still
// holds stale, the content judged expired or broken. Several runs may
// judge the same lock at once, so the right to replace it is claimed
// first: a hard link to the lock under a name made from the stale
// content, which only one run can create (link fails if the name
// exists). The claimant then looks at what it linked: the stale lock, and
// it replaces it atomically with posix-rename, so the lock path is never
// empty for a third run to lock meanwhile; anything else (a fresh lock
// made in between) is left alone. The claim is removed only after the
// replacement, so a slower run that judged the same stale lock finds its
// claim taken, or links the new lock and leaves it alone too. Nothing
// ever moves a lock aside, so a lock whose holder has ended is never put
// back behind its back.
func takeOver(fsys FS, lockPath, mine string, stale []byte) (bool, error) {
	sum := sha256.Sum256(stale)
	claim := lockPath + ".takeover." + hex.EncodeToString(sum[:8])
	if err := fsys.Link(lockPath, claim); err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) {
			return false, nil // released, or another run claimed it first
		}
		if _, _, serr := fsys.ReadFile(claim); serr == nil {
			return false, nil // the claim exists: another run's
		}
		return false, fmt.Errorf("lock: take over %s: %w", lockPath, err)
	}
	defer fsys.Remove(claim)
	linked, _, err := fsys.ReadFile(claim)
	if err != nil || !bytes.Equal(linked, stale) {
		return false, nil // a fresh lock: not ours to take
	}
	if err := fsys.Rename(mine, lockPath); err != nil {
		return false, fmt.Errorf("lock: take over %s: %w", lockPath, err)
	}
	return true, nil
}

// Verify reports whether the lock is still this run's, right before the
// step it protects.
func (l *Lock) Verify(fsys FS) error {
	who, err := l.TakenBy(fsys)
	if err != nil || who == "" {
		return err
	}
	return failure.New(failure.Locked, fmt.Errorf("locked: this run's lock on the node was taken over (%s), so nothing was renamed", who))
}

// TakenBy says who has the lock once it is no longer this run's ("it is
// held by ...", "nobody holds it now", "its path is now a directory"),
// or "" while it still is.
func (l *Lock) TakenBy(fsys FS) (string, error) {
	seen, _, err := fsys.ReadFile(l.path)
	if err == nil && bytes.Equal(seen, l.content) {
		return "", nil
	}
	who := "nobody holds it now"
	var h Holder
	var nr *remotefile.NotRegularError
	switch {
	case err == nil && json.Unmarshal(seen, &h) == nil:
		who = "it is held by " + h.String()
	case errors.As(err, &nr):
		who = "its path is now " + nr.What()
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("lock: read %s: %w", l.path, err)
	}
	return who, nil
}

// Release removes the lock if it is still this run's.
func (l *Lock) Release(fsys FS) error {
	l.tidied()
	if l.own != "" {
		if err := fsys.Remove(l.own); err != nil {
			return err
		}
		l.own = ""
	}
	seen, _, err := fsys.ReadFile(l.path)
	var nr *remotefile.NotRegularError
	if errors.Is(err, fs.ErrNotExist) || errors.As(err, &nr) {
		return nil // gone, or replaced by something that is not ours
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(seen, l.content) {
		return nil // taken over: not ours to remove
	}
	return fsys.Remove(l.path)
}

// Done is TakenBy and Release with one read of the lock, for a run whose
// last step on the node was what the lock protected: who has the lock
// when it is no longer this run's (it is then left alone), else "" once
// it is removed. A read then a remove, as Release makes them: a second
// read in between would prove nothing more.
func (l *Lock) Done(fsys FS) (who string, err error) {
	l.tidied()
	if who, err = l.TakenBy(fsys); err != nil || who != "" {
		return who, err
	}
	if l.own != "" {
		if err := fsys.Remove(l.own); err != nil {
			return "", err
		}
		l.own = ""
	}
	return "", fsys.Remove(l.path)
}

// Path is the lock file's path on the node.
func (l *Lock) Path() string { return l.path }

// Leftover reports whether name (a base name next to target) is a file
// only a run of this tool makes and removes again: a temporary file, or a
// lock's own temporary or set-aside file. Found old, it was left by a
// killed run. The lock file itself is not a leftover.
func Leftover(target, name string) bool {
	if remotefile.IsTempName(target, name) {
		return true
	}
	return IsLockFile(target, name) && name != path.Base(Path(target))
}
