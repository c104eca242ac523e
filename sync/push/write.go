package push

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/backup"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
)

var errConflictDuringWrite = errors.New("conflict during write")

// write puts the new file in place: a temporary file beside the old one,
// given its owner, group and mode through its own handle, then lastLook,
// then the rename over the old name (remotefile.Replace).
func (t *txn) write() error {
	t.tmp = t.tmpName
	done := steps.Start(t.ctx, "write")
	left, err := t.c.Replace(t.n.Path, t.tmp, t.req.Data, t.plan.want, t.lastLook)
	// The rename happened before its reply came back (the directory's
	// flush goes on alongside the read-back): this is a bound, a round
	// trip late at most.
	t.replaced = time.Now()
	done()
	t.leftTemp = left
	return err
}

// keepBackup keeps the file about to be replaced when keepsOld says so
// (a hard link: the same file, owner, group and mode).
func (t *txn) keepBackup() error {
	if !t.keepsOld() {
		return nil
	}
	now := time.Now()
	t.bakName = backup.Name(t.n.Path, now) // known before the link: its answer may be lost
	bak, err := backup.Make(t.c, t.n.Path, now)
	t.bak = bak
	return err
}

// keepsOld reports whether the write is to keep the file it replaces: as
// the node's backups setting asks, and always a file it repairs (what
// was in it may matter to whoever reads it, and it is nowhere else).
func (t *txn) keepsOld() bool {
	return t.st.Exists && !bytes.Equal(t.st.Data, t.req.Data) && (t.n.Backups > 0 || t.plan.repair != "")
}

// keptBackup notes the backup the write made and prunes those beyond the
// node's backups setting.
func (t *txn) keptBackup() {
	if t.bak == "" {
		return
	}
	r := &t.res
	r.Notes = append(r.Notes, t.backupNote(safetext.Escape(path.Base(t.bak))))
	if t.n.Backups <= 0 {
		return // a repair's backup, kept whatever the setting: nothing to prune
	}
	if removed, err := backup.Prune(t.c, t.n.Path, t.n.Backups); err != nil {
		r.Warnings = append(r.Warnings, oneLine(err.Error()))
	} else if len(removed) > 0 {
		r.Notes = append(r.Notes, remedy.Sprintf("removed %s beyond backups: %d", plural(len(removed), "old backup"), t.n.Backups))
	}
}

// backupNote says where the file this write replaced was kept.
func (t *txn) backupNote(kept string) remedy.Message {
	if t.plan.repair != "" {
		return remedy.Sprintf("repaired (was unloadable: %s); the broken file is kept as %s", t.plan.repair, kept)
	}
	return remedy.Text("previous file kept as " + kept)
}

// done is the status of a verified write: fixed when only the owner,
// group or mode were wrong.
func (t *txn) done() Status {
	if t.plan.action == fix {
		return Fixed
	}
	return Updated
}

// verify reads back what the name opens now, over c: the run's
// connection and context, or after it died a new connection and a context
// of its own. The node is Updated or Fixed only when content, owner,
// group and mode are what was asked.
func (t *txn) verify(ctx context.Context, c *remotefile.Conn) Result {
	readBack := steps.Start(ctx, "read-back")
	st, err := c.Read(t.n.Path)
	readBack()
	if err != nil {
		return failed(ctx, fmt.Errorf("read-back: %w", err))
	}
	res := describe(c, st)
	res.Changes = t.res.Changes
	var bad []string
	if !st.Exists {
		bad = append(bad, "the file is gone")
	}
	for _, m := range remotefile.Mismatches(st, t.plan.want, digest.SHA256(t.req.Data), c) {
		if m.What == "content" {
			m.Seen, m.Want = "sha256:"+digest.Short(m.Seen), "sha256:"+digest.Short(m.Want)
		}
		bad = append(bad, fmt.Sprintf("%s %s, expected %s", m.What, m.Seen, m.Want))
	}
	if len(bad) > 0 {
		res.Status, res.Failure = Failed, failure.RemoteIO
		res.Reason = failure.Format(failure.RemoteIO, remedy.Text("read-back: "+strings.Join(bad, "; ")))
		return res
	}
	res.Status = t.done()
	return res
}

// writeFailed reports a write that did not finish. When the connection
// went, the request may have reached the node without its reply reaching
// us: only a new look tells what the node holds. Otherwise the rename did
// not happen, and the temporary file it left is removed.
func (t *txn) writeFailed(err error) {
	if errors.Is(err, errConflictDuringWrite) {
		t.res.Status, t.res.Failure, t.res.Reason = Conflict, failure.Conflict, remedy.Text("the file changed on the node while it was being written; not replaced")
		return
	}
	r := failed(t.ctx, err)
	switch {
	case r.Failure == failure.ConnectionLost, r.Failure == failure.Timeout, r.Failure == failure.Interrupted:
		t.res = t.afterLoss(r)
		return
	case r.Failure == failure.Locked, t.lockTaken(&r):
		// Another run holds the node: what its file is now is that run's
		// to say; this one put nothing in place.
	default:
		r.Reason = r.Reason.Append("; the node's file is unchanged")
	}
	if t.bak != "" {
		// The last look kept the file before a later step failed (the
		// final mode, the close, the rename): the copy stays, named.
		r.Reason = r.Reason.Append("; a copy of the node's file was kept as %s", safetext.Escape(path.Base(t.bak)))
	}
	if t.leftTemp {
		r.Reason = r.Reason.Append("%s", t.cleanup())
	}
	t.res = r
}

// lockTaken rewrites r when the write failed because another run took
// the lock over: that run removed the temporary file (fence), so the
// rename found nothing to move.
func (t *txn) lockTaken(r *Result) bool {
	who, _ := t.lk.TakenBy(t.c)
	if who == "" {
		return false
	}
	r.Failure = failure.Locked
	r.Reason = failure.Format(failure.Locked, remedy.Sprintf("this run's lock on the node was taken over (%s) before its rename landed (%v): nothing of this run's was put in place", who, r.Reason))
	return true
}

// afterLoss reads the node again over a new connection after the one that
// was writing died, and reports what is true: the new file (verified
// as any other write), the old one, or something else or unknown.
func (t *txn) afterLoss(r Result) Result {
	var out Result
	err := t.p.fresh(t.n, func(c *remotefile.Conn) error {
		st, err := c.Read(t.n.Path)
		if err == nil {
			out = t.lookedAgain(c, st, r)
		}
		return err
	})
	if err != nil {
		out = r
		out.Reason = out.Reason.Append("; the node could not be read again (%s): whether its file was replaced is unknown; run check", oneLine(err.Error()))
	}
	return out
}

// lookedAgain is the node's line after a lost connection, from st, its
// file read again over c: r (the failure) completed with what is true.
func (t *txn) lookedAgain(c *remotefile.Conn, st remotefile.State, r Result) Result {
	tmpNote := ""
	if c.Exists(t.tmp) {
		tmpNote = removeTemp(c, t.tmp)
	}
	const again = "; read again over a new connection: "
	out := r
	switch {
	case st.Exists && st.SHA256 == digest.SHA256(t.req.Data):
		out = t.verify(context.Background(), c)
		// If the node has the new file, its rename happened before the
		// failed call came back.
		out.Replaced = t.replaced
		note := r.Reason.Append(" after the new file was written" + again + "the node has the new file")
		if out.Status == Failed {
			out.Reason = note.Append("; %v%s", out.Reason, tmpNote)
		} else {
			out.Notes = append(out.Notes, note.Append("%s", tmpNote))
		}
	case st.Exists == t.st.Exists && st.SHA256 == t.st.SHA256:
		out.Reason = out.Reason.Append(again+"the node's file is unchanged%s", tmpNote)
		now := describe(c, st)
		out.SHA256, out.Owner, out.Group, out.Mode = now.SHA256, now.Owner, now.Group, now.Mode
	case !st.Exists:
		out.Reason = out.Reason.Append(again+"the node has no file now%s", tmpNote)
	default:
		out.Reason = out.Reason.Append(again+"the node holds sha256:%s, neither its old file nor the new one (another writer?)%s", digest.Short(st.SHA256), tmpNote)
		out.SHA256 = st.SHA256
	}
	if kept := t.backupAfterLoss(c); kept != "" {
		if out.Status.Verified() {
			out.Notes = append(out.Notes, t.backupNote(kept))
		} else {
			out.Reason = out.Reason.Append("; a copy of the node's file was kept as %s", kept)
		}
	}
	return out
}

// backupAfterLoss names the backup the lost connection made, or was
// making (its link may have landed without its answer), when a new look
// finds it there holding the file this run replaced; "" otherwise.
func (t *txn) backupAfterLoss(c *remotefile.Conn) string {
	if t.bakName == "" {
		return ""
	}
	st, err := c.Read(t.bakName)
	if err != nil || !st.Exists || st.SHA256 != t.st.SHA256 {
		return ""
	}
	return safetext.Escape(path.Base(t.bakName))
}

// cleanup removes the temporary file over a fresh connection, for when
// the one that wrote it died. Its deadline is its own: the node's may be
// spent.
func (t *txn) cleanup() string {
	var note string
	err := t.p.fresh(t.n, func(c *remotefile.Conn) error {
		note = removeTemp(c, t.tmp)
		return nil
	})
	if err != nil {
		return tempLeft(t.tmp, err)
	}
	return note
}

// removeTemp removes a temporary file this run left and says so, for the
// end of a failed node's reason.
func removeTemp(c *remotefile.Conn, tmp string) string {
	if err := c.Remove(tmp); err != nil {
		return tempLeft(tmp, err)
	}
	return "; temporary file removed"
}

func tempLeft(tmp string, err error) string {
	return fmt.Sprintf("; could not remove the temporary file %s (%v): delete it by hand", safetext.Escape(tmp), err)
}
