package push

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/nodelock"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
)

// txn is one node's push: its connection, node, request, lock and
// result in one value, and its steps as methods, in this order (run):
//
//	inspect  prove the directories safe, read the file (the first look)
//	plan     decide: keep, refuse, replace or fix; a dry run ends here
//	lock     take the node's lock (a lock taken over: fence its old
//	         holder's write off), sweep what killed runs left
//	inspect  read again under the lock, and plan again
//	write    a new file beside the old one, the last look, the rename
//	verify   read back what the name now opens
//	release  give the lock back
//
// The file is read four times on a node that changes; each read proves
// something the others cannot: firstLook (what the node needs, without
// writing even a lock when it needs nothing), underLock (what it holds now
// that no other run of this tool can write), unchangedSinceRead (no writer
// that is not this tool replaced it while the new file was written), and
// the read-back in verify (the node ends with the file asked for), after
// which stillLocked proves no run that took the lock over will replace it.
type txn struct {
	p   *Pusher
	ctx context.Context
	c   *remotefile.Conn
	n   *inventory.Node
	req Request

	st   remotefile.State // the node's file, as last read
	plan plan
	lk   *nodelock.Lock // held from lock to release

	tmpName  string    // the name write will give its temporary file
	tmp      string    // this run's temporary file, once write began
	leftTemp bool      // the failed write could not remove tmp
	replaced time.Time // the rename happened before this (a bound)
	bak      string    // the backup the write kept, if any
	bakName  string    // the backup the write tried to keep, answered or not

	res      Result
	released bool                  // the lock is gone: stillLocked released it
	notes    []remedy.Message      // the lock's: stale files swept
	warnings []string              // the lock's: taken over, left behind
	sweeping chan []remedy.Message // the sweep under way, until swept
}

// The reads, by what each proves (steps' progress names).
const (
	firstLook = "read"
	underLock = "re-read"
)

// run brings the node in line. retry is true only when nothing has been
// written to the node yet.
func (t *txn) run() (Result, bool) {
	if err := t.inspect(firstLook); err != nil {
		return t.fail(err)
	}
	if t.decide(); !t.applies() {
		return t.res, false
	}
	if err := t.lock(); err != nil {
		r, retry := t.fail(err)
		r.Reason = r.Reason.Append("; the node's file is unchanged")
		r.Notes, r.Warnings = t.notes, t.warnings
		return r, retry
	}
	retry := t.apply()
	t.release()
	t.res.Notes = append(t.notes, t.res.Notes...)
	t.res.Warnings = append(t.warnings, t.res.Warnings...)
	return t.res, retry
}

// apply is the part under the lock: read again, plan again, and carry
// the plan out.
func (t *txn) apply() (retry bool) {
	if err := t.inspect(underLock); err != nil {
		t.res, retry = t.fail(err)
		return retry
	}
	if t.decide(); t.plan.action != replace && t.plan.action != fix {
		return false // right already (the lock was for the sweep), or refused now
	}
	if err := t.write(); err != nil {
		t.writeFailed(err)
		return false
	}
	t.res = t.verify(t.ctx, t.c)
	t.c.Flushed() // the directory's flush, alongside the read-back
	t.res.Replaced = t.replaced
	t.keptBackup()
	t.stillLocked()
	return false
}

// stillLocked: a read-back proves the file at that moment; the lock still
// being this run's proves no other run is about to replace it. A run that
// took the lock over (breaking it on purpose) writes its own file, so
// this one is not reported updated. The same read releases a lock that
// is still this run's: nothing is left to protect.
func (t *txn) stillLocked() {
	if !t.res.Status.Verified() {
		return
	}
	t.swept() // the sweep's removals end under the lock
	who, err := t.lk.Done(t.c)
	t.released = err == nil && who == ""
	if err != nil || who == "" {
		return
	}
	t.res.Status, t.res.Failure = Failed, failure.Locked
	t.res.Reason = failure.Format(failure.Locked, remedy.Sprintf("the new file was put in place and read back, but this run's lock on the node was taken over meanwhile (%s): that run may replace it; run check", who))
}

func (t *txn) fail(err error) (Result, bool) {
	return failed(t.ctx, err), failure.Of(err) == failure.ConnectionLost
}

// inspect reads what the node has. The first look also proves the
// directories on the way to the file safe (nothing is written through
// one that someone else could swap) and runs the Pusher's Inspect: what
// else the run needs from the node is read here, on this connection.
//
// The first look's read goes alongside that proof, not after it: a read
// writes nothing and reports only what it opened (Read), wherever the
// name led, so it needs no trusted directory; what it found is used only
// once the proof is in. The proof's failure comes first, as when the
// read waited for it. Their round trips overlap: the first look costs
// none of its own when the walk is at least as long.
func (t *txn) inspect(look string) error {
	done := steps.Start(t.ctx, look)
	defer done()
	if look != firstLook {
		return t.read()
	}
	read := make(chan error, 1)
	go func() { read <- t.read() }()
	err := t.firstLook()
	if rerr := <-read; err == nil {
		err = rerr
	}
	return err
}

// read reads the node's file into t.st.
func (t *txn) read() error {
	st, err := t.c.Read(t.n.Path)
	t.st = st
	return err
}

// firstLook proves the directories safe and runs the Pusher's Inspect.
func (t *txn) firstLook() error {
	if err := t.c.TrustDir(path.Dir(t.n.Path)); err != nil {
		return err
	}
	if t.p.Inspect != nil {
		return t.p.Inspect(t.ctx, t.c, t.n)
	}
	return nil
}

// applies says whether the plan is carried out: never in a dry run (a
// plan that is not applied), and otherwise for a node that needs a
// write, or that is right but holds files a killed run left (the lock
// guards their sweep).
func (t *txn) applies() bool {
	switch {
	case t.req.DryRun:
		return false
	case t.plan.action == replace, t.plan.action == fix:
		return true
	case t.plan.action == keep:
		old, _ := t.c.Siblings(t.n.Path, func(name string) bool { return nodelock.Leftover(t.n.Path, name) })
		return len(old) > 0
	}
	return false
}

// lock takes the node's lock, holding it from the read under it to the
// read-back, so that the conflict rule and the rename are one step
// against every other run; then sweeps what killed runs left.
func (t *txn) lock() error {
	if err := t.c.CheckAtomic(); err != nil {
		return err
	}
	lk, err := t.p.lock(t.ctx, t.c, t.n)
	if err != nil {
		return err
	}
	t.lk = lk
	if lk.TookOver != "" {
		t.warnings = append(t.warnings, lk.TookOver)
		if err := t.fence(); err != nil {
			t.release()
			return err
		}
	}
	// The sweep goes on alongside the read under the lock and the write,
	// and ends before the lock does (swept): holding the lock, no other
	// run of this tool writes a temporary file meanwhile, and this run's
	// own is new (and skipped by name), so what the sweep removes and
	// what the write does cannot meet.
	t.tmpName = remotefile.TempName(t.n.Path)
	t.sweeping = make(chan []remedy.Message, 1)
	go func() { t.sweeping <- t.sweep() }()
	return nil
}

// swept waits for the sweep that lock started, and keeps its notes.
func (t *txn) swept() {
	if t.sweeping != nil {
		t.notes = append(t.notes, <-t.sweeping...)
		t.sweeping = nil
	}
}

// fence makes sure the run whose lock was just taken over cannot finish
// its write: it may still be alive, its rename on the way (a slow link, a
// stalled node, a live lock broken on purpose). That rename needs its
// temporary file, so every temporary file of this tool here is removed
// now, before the read under the lock: a rename that landed first is in
// that read; one that comes later finds no file and fails. A file that
// cannot be removed leaves the old holder able to write after this run,
// so nothing is written.
func (t *txn) fence() error {
	tmps, err := t.c.Siblings(t.n.Path, func(name string) bool { return remotefile.IsTempName(t.n.Path, name) })
	if err != nil {
		return err
	}
	for _, e := range tmps {
		if err := t.c.Remove(path.Join(path.Dir(t.n.Path), e.Name)); err != nil {
			return fmt.Errorf("could not remove %s, the temporary file of the run whose lock was taken over (%w): its rename could still land after this run's; nothing was written: remove it on the node, then push again", safetext.Escape(e.Name), err)
		}
		t.notes = append(t.notes, remedy.Sprintf("removed %s, the temporary file of the run whose lock was taken over: its rename cannot land now", safetext.Escape(e.Name)))
	}
	return nil
}

// sweep removes this tool's own temporary files that are older than a
// run's lease: their run was killed. Holding the lock, no other run of
// this tool can be writing one.
func (t *txn) sweep() []remedy.Message {
	old, err := t.c.Siblings(t.n.Path, func(name string) bool { return nodelock.Leftover(t.n.Path, name) })
	if err != nil {
		return nil // best effort: check reports what stays
	}
	cutoff := t.lk.NodeTime.Add(-t.lease())
	var removed, kept []string
	for _, e := range old {
		if !e.ModTime.Before(cutoff) || e.Name == path.Base(t.tmpName) {
			continue
		}
		if err := t.c.Remove(path.Join(path.Dir(t.n.Path), e.Name)); err != nil {
			kept = append(kept, safetext.Escape(e.Name))
		} else {
			removed = append(removed, safetext.Escape(e.Name))
		}
	}
	var out []remedy.Message
	if len(removed) > 0 {
		out = append(out, remedy.Sprintf("removed %s left by a killed run: %s", plural(len(removed), "stale temporary file"), strings.Join(removed, ", ")))
	}
	if len(kept) > 0 {
		out = append(out, remedy.Sprintf("could not remove %s: %s", plural(len(kept), "stale temporary file"), strings.Join(kept, ", ")))
	}
	return out
}

func (t *txn) lease() time.Duration {
	return time.Duration(t.lk.Holder.LeaseSeconds * float64(time.Second))
}

// release gives the lock back: over the run's connection if it still
// works, else over a new one with its own short deadline (after Ctrl-C or
// a lost connection, the node's context is spent). A lock that stays is
// a warning.
func (t *txn) release() {
	t.swept()
	if t.released {
		return
	}
	err := t.ctx.Err()
	if err == nil {
		if err = t.lk.Release(t.c); err == nil {
			return
		}
	}
	if err = t.p.fresh(t.n, func(fc *remotefile.Conn) error { return t.lk.Release(fc) }); err != nil {
		t.warnings = append(t.warnings, fmt.Sprintf("could not release the lock %s (%v); it expires by itself after %s",
			safetext.Escape(t.lk.Path()), err, t.lease()))
	}
}

// lastLook runs right before the rename, once the new file is written:
// the lock is what makes the read under it and the rename one step, so it
// is checked after the file; then the file about to be replaced is kept,
// when it is to be (keepsOld). The re-read of the file and the read of
// the lock go together: both only read, and the rename waits for both.
func (t *txn) lastLook() error {
	unchanged := make(chan error, 1)
	go func() { unchanged <- t.unchangedSinceRead() }()
	verr := t.lk.Verify(t.c)
	if err := <-unchanged; err != nil {
		return err
	}
	if verr != nil {
		return verr
	}
	return t.keepBackup()
}

// unchangedSinceRead: for a create or delete, whose conflict rule was
// judged on the read under the lock, a writer that is not this tool (an
// editor, an older version) may still have replaced the file meanwhile.
func (t *txn) unchangedSinceRead() error {
	if t.req.Before == nil || t.req.Force {
		return nil
	}
	again, err := t.c.Read(t.n.Path)
	if err != nil {
		return err
	}
	if again.SHA256 != t.st.SHA256 {
		return errConflictDuringWrite
	}
	return nil
}
