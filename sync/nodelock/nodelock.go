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
// lease, which the holder derives from its own --timeout. A holder can
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

	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
)

// FS is what a lock needs of the node's file system (remotefile.Conn).
type FS interface {
	// WriteNew creates path exclusively, writes data and closes it.
	WriteNew(path string, data []byte) error
	// Link makes newname a hard link to oldname; it fails if newname exists.
	Link(oldname, newname string) error
	// ReadFile returns a file's content and modification time.
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
}

func (h Holder) String() string {
	return fmt.Sprintf("%s@%s (pid %d) since %s", h.User, h.Host, h.PID, h.Started.UTC().Format(time.RFC3339))
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
	Me    Holder        // User, Host, PID, Started; ID is made here
	Lease time.Duration // how long the lock stays valid without its holder
	// Break takes over a lock held by a live run at once.
	Break bool
	// WaitUntil is when to stop waiting for a live lock.
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
	// TookOver names the holder whose lock was taken over (expired or
	// broken), for a warning; empty when the lock was free.
	TookOver string
}

// Acquire takes the lock of target, waiting for a live holder until
// opts.WaitUntil and taking over an expired one (or any, with Break).
// It fails with kind failure.Locked naming the holder.
func Acquire(ctx context.Context, fsys FS, target string, opts Options) (*Lock, error) {
	var id [8]byte
	rand.Read(id[:])
	me := opts.Me
	me.Tool, me.ID, me.LeaseSeconds = "es-service-tokens", hex.EncodeToString(id[:]), opts.Lease.Seconds()
	content, err := json.Marshal(me)
	if err != nil {
		return nil, err
	}
	content = append(content, '\n')
	lockPath := Path(target)
	mine := lockPath + "." + me.ID
	if err := fsys.WriteNew(mine, content); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, failure.New(failure.RemoteIO, fmt.Errorf("the directory %s does not exist on the node: is Elasticsearch installed there, and is path right?", path.Dir(target)))
		}
		return nil, fmt.Errorf("lock: %w", err)
	}
	defer fsys.Remove(mine)
	// The node's clock now, without trusting ours: the file just written.
	_, nodeThen, err := fsys.ReadFile(mine)
	if err != nil {
		return nil, fmt.Errorf("lock: read %s: %w", mine, err)
	}
	localThen := time.Now()
	nodeNow := func() time.Time { return nodeThen.Add(time.Since(localThen)) }

	poll := opts.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	lk := &Lock{path: lockPath, content: content, Holder: me}
	var lastHolder Holder
	var lastEnd time.Time
	// locked is the failure after waiting in vain for lastHolder.
	locked := func(cause error) error {
		msg := fmt.Sprintf("locked by %s: another es-service-tokens run is writing this node; try again when it ends (its lease ends %s; --break-lock takes it over)",
			lastHolder, lastEnd.UTC().Format(time.RFC3339))
		if cause != nil {
			msg += " (" + cause.Error() + " while waiting)"
		}
		return failure.New(failure.Locked, errors.New(msg))
	}
	sleep := func() error {
		t := time.NewTimer(poll)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return locked(ctx.Err())
		case <-t.C:
		}
		if poll *= 2; poll > 2*time.Second {
			poll = 2 * time.Second
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			if lastHolder.ID != "" || lastHolder.User != "" {
				return nil, locked(err)
			}
			return nil, err
		}
		linkErr := fsys.Link(mine, lockPath)
		if linkErr == nil {
			_, lk.NodeTime, err = fsys.ReadFile(lockPath)
			if err != nil {
				lk.NodeTime = nodeNow()
			}
			return lk, nil
		}
		seen, mtime, err := fsys.ReadFile(lockPath)
		if errors.Is(err, fs.ErrNotExist) {
			// Released between our link and our read, or the link failed
			// for another reason: the next round tells, and a link that
			// fails with no lock in the way is an error of its own.
			if linkErr = fsys.Link(mine, lockPath); linkErr == nil {
				_, lk.NodeTime, _ = fsys.ReadFile(lockPath)
				return lk, nil
			}
			if _, _, err := fsys.ReadFile(lockPath); errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("lock: cannot create %s (hard link): %w", lockPath, linkErr)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("lock: read %s: %w", lockPath, err)
		}
		var h Holder
		lease := opts.Lease
		if json.Unmarshal(seen, &h) == nil && h.LeaseSeconds > 0 {
			lease = time.Duration(h.LeaseSeconds * float64(time.Second))
		} else {
			h = Holder{User: "?", Host: "?", Started: mtime}
		}
		lastHolder, lastEnd = h, mtime.Add(lease)
		expired := nodeNow().After(mtime.Add(lease))
		if expired || opts.Break {
			took, err := takeOver(fsys, lockPath, mine, seen)
			if err != nil {
				return nil, err
			}
			if took {
				how := "expired"
				if !expired {
					how = "live"
				}
				lk.TookOver = fmt.Sprintf("took over the %s lock of %s (lease %s)", how, h, lease.Round(time.Second))
				if _, lk.NodeTime, err = fsys.ReadFile(lockPath); err != nil {
					lk.NodeTime = nodeNow()
				}
				return lk, nil
			}
			// Another run moved it first: look again after a pause.
		} else if !time.Now().Add(poll).Before(opts.WaitUntil) {
			return nil, locked(nil)
		}
		if err := sleep(); err != nil {
			return nil, err
		}
	}
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
	seen, _, err := fsys.ReadFile(l.path)
	if err == nil && bytes.Equal(seen, l.content) {
		return nil
	}
	who := "nobody holds it now"
	var h Holder
	if err == nil && json.Unmarshal(seen, &h) == nil {
		who = "it is held by " + h.String()
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lock: read %s: %w", l.path, err)
	}
	return failure.New(failure.Locked, fmt.Errorf("locked: this run's lock on the node was taken over (%s), so nothing was renamed", who))
}

// Release removes the lock if it is still this run's.
func (l *Lock) Release(fsys FS) error {
	seen, _, err := fsys.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(seen, l.content) {
		return nil // taken over: not ours to remove
	}
	return fsys.Remove(l.path)
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
