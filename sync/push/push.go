// Package push makes every node's service_tokens file equal to the local
// one: same bytes, owner, group and mode, each node read back to prove it.
// A node changed behind the tool's back is reported, not overwritten.
package push

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/backup"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/nodelock"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Status is what happened on a node.
type Status string

// The statuses. Only Updated, Unchanged and Fixed mean "verified".
const (
	Updated     Status = "updated"   // content written and read back
	Unchanged   Status = "unchanged" // already right: nothing written
	Fixed       Status = "fixed"     // content right, owner/group/mode corrected
	Conflict    Status = "conflict"  // changed by someone else: not written
	Failed      Status = "failed"
	WouldUpdate Status = "would-update" // a dry run
	WouldFix    Status = "would-fix"    // a dry run
)

// Verified reports whether the node ends with the right file.
func (s Status) Verified() bool { return s == Updated || s == Unchanged || s == Fixed }

// OK reports whether the node did what was asked: it ends with the right
// file, or a dry run says what it would do. Anything else fails the run.
func (s Status) OK() bool { return s.Verified() || s == WouldUpdate || s == WouldFix }

// Request is what to push.
type Request struct {
	Data []byte
	// Local is Data parsed. The caller parses the local file once (and
	// refuses it, before any node is touched, if Elasticsearch would).
	Local *tokens.File
	// Before is the local file as it was before a create or delete; nodes
	// holding neither Before nor Data were edited by someone else. Nil for
	// a plain push, which makes the node equal to Data whatever it holds.
	Before []byte
	DryRun bool
	Force  bool // overwrite conflicting nodes
}

// Result is one node's outcome. The CLI's JSON form of it is in
// cmd/es-service-tokens/output_json.go (docs/output.md).
type Result struct {
	Node     string
	Host     string
	Port     int
	Status   Status
	SHA256   string // the node's file at the end
	Owner    string
	Group    string
	Mode     string
	Seconds  float64
	Failure  failure.Kind     // for failed and conflict
	Reason   remedy.Message   // why, for failed, conflict and dry runs; may name the caller's options
	Notes    []remedy.Message // what else was done: stale files removed, a lost reply
	Warnings []string         // a lock taken over or left behind
	Changes  *tokens.Diff     // token names, never hashes
	Attempts int
	// Replaced is when this run's rename put the file in place (zero when
	// it did not, or when a lost reply hides when it did): Elasticsearch
	// confirmation counts its time from the latest one.
	Replaced time.Time
}

// Pusher pushes with one Dialer (one set of shared bastion connections).
type Pusher struct {
	Dialer *sshconn.Dialer
	Fleet  fleet.Options
	// Me is who this run is (user, host, pid, start), written into the
	// lock it takes on each node.
	Me nodelock.Holder
	// BreakLock takes over a lock held by another run at once.
	BreakLock bool
}

// Push runs req on every node and returns the results in node order.
func (p *Pusher) Push(ctx context.Context, nodes []*inventory.Node, req Request) []Result {
	work := func(ctx context.Context, c *remotefile.Conn, n *inventory.Node) (Result, bool) {
		return p.node(ctx, c, n, req)
	}
	return remotefile.Each(ctx, p.Dialer, nodes, p.Fleet, work, failed,
		func(r *Result, n *inventory.Node, attempts int, seconds float64) string {
			r.Node, r.Host, r.Port, r.Attempts, r.Seconds = n.Name, n.Host, n.Port, attempts, seconds
			return string(r.Status)
		})
}

// leaseMargin covers what a node's deadline cannot cut at once: requests
// the node's sftp-server already received when the connection closes.
const leaseMargin = 5 * time.Second

// lockOptions: the lease is this run's timeout and the margin, which
// its connection to the node cannot outlive. A live lock is waited for
// up to the same length, and a few seconds' slack for the node's clock as
// read here, so that a lock left by a run with the same timeout that was
// killed on another host is always outlasted and taken over when its lease
// ends. The wait does not spend the timeout (fleet.Pause).
func (p *Pusher) lockOptions() nodelock.Options {
	timeout := p.Fleet.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	lease := timeout + leaseMargin
	return nodelock.Options{Me: p.Me, Lease: lease, Break: p.BreakLock, WaitUntil: time.Now().Add(lease + lockSlack)}
}

// lockSlack is how much later than its own lease a run still waits for a
// lock: the node's clock, as read here, is a second coarse.
const lockSlack = 2 * time.Second

// lock takes the node's lock. Waiting for another run's lock does not
// count against the node's timeout; a failed attempt removes what it
// left on the node over a new connection if its own has died.
func (p *Pusher) lock(ctx context.Context, c *remotefile.Conn, n *inventory.Node) (*nodelock.Lock, error) {
	opts := p.lockOptions()
	resume := fleet.Pause(ctx, time.Until(opts.WaitUntil)+leaseMargin)
	locked := steps.Start(ctx, "lock")
	lk, err := nodelock.Acquire(ctx, c, n.Path, opts)
	locked()
	resume()
	if left := nodelock.LeftBehind(err); left != "" {
		p.fresh(n, func(fc *remotefile.Conn) error { return fc.Remove(left) })
	}
	return lk, err
}

func failed(ctx context.Context, err error) Result {
	kind, reason := failure.Describe(ctx, err)
	return Result{Status: Failed, Failure: kind, Reason: reason}
}

// node brings one node in line, holding the node's lock from the read of
// its file to the read-back, so that the conflict rule and the rename are
// one step against every other run. retry is true only when nothing has
// been written to the node yet.
func (p *Pusher) node(ctx context.Context, c *remotefile.Conn, n *inventory.Node, req Request) (Result, bool) {
	// Nothing is written through a directory someone else could swap.
	if err := c.TrustDir(path.Dir(n.Path)); err != nil {
		return failed(ctx, err), failure.Of(err) == failure.ConnectionLost
	}
	// First a look without the lock, as a dry run: a node that is right,
	// or that must not be written, is reported without writing anything
	// to it (not even a lock), and a node this session cannot write fails
	// before the lock is taken.
	plan, retry := p.write(ctx, c, n, req, nil)
	if req.DryRun || (plan.Status != WouldUpdate && plan.Status != WouldFix && plan.Status != Unchanged) {
		return plan, retry
	}
	leftovers, _ := c.Siblings(n.Path, func(name string) bool { return nodelock.Leftover(n.Path, name) })
	if plan.Status == Unchanged && len(leftovers) == 0 {
		return plan, false
	}
	if err := c.CheckAtomic(); err != nil {
		return failed(ctx, err), false
	}
	lk, err := p.lock(ctx, c, n)
	if err != nil {
		r := failed(ctx, err)
		r.Reason = r.Reason.Append("; the node's file is unchanged")
		return r, r.Failure == failure.ConnectionLost
	}
	var warnings []string
	var notes []remedy.Message
	if lk.TookOver != "" {
		warnings = append(warnings, lk.TookOver)
	}
	notes = append(notes, p.sweep(c, n, lk)...)
	res, retry := p.write(ctx, c, n, req, lk)
	if msg := p.release(ctx, c, n, lk); msg != "" {
		warnings = append(warnings, msg)
	}
	res.Warnings = append(warnings, res.Warnings...)
	res.Notes = append(notes, res.Notes...)
	return res, retry
}

// sweep removes this tool's own temporary files that are older than a
// run's lease: their run was killed. Holding the lock, no other run of
// this tool can be writing one.
func (p *Pusher) sweep(c *remotefile.Conn, n *inventory.Node, lk *nodelock.Lock) []remedy.Message {
	old, err := c.Siblings(n.Path, func(name string) bool { return nodelock.Leftover(n.Path, name) })
	if err != nil {
		return nil // best effort: check reports what stays
	}
	cutoff := lk.NodeTime.Add(-time.Duration(lk.Holder.LeaseSeconds * float64(time.Second)))
	var removed, kept []string
	for _, e := range old {
		if !e.ModTime.Before(cutoff) {
			continue
		}
		if err := c.Remove(path.Join(path.Dir(n.Path), e.Name)); err != nil {
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

func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return strconv.Itoa(n) + " " + s + "s"
}

// release gives the lock back: over the run's connection if it still
// works, else over a new one with its own short deadline (after Ctrl-C or
// a lost connection, the node's context is spent). It returns a warning
// when the lock stays.
func (p *Pusher) release(ctx context.Context, c *remotefile.Conn, n *inventory.Node, lk *nodelock.Lock) string {
	err := ctx.Err()
	if err == nil {
		if err = lk.Release(c); err == nil {
			return ""
		}
	}
	err = p.fresh(n, func(fc *remotefile.Conn) error { return lk.Release(fc) })
	if err != nil {
		return fmt.Sprintf("could not release the lock %s (%v); it expires by itself after %s",
			safetext.Escape(lk.Path()), err, time.Duration(lk.Holder.LeaseSeconds*float64(time.Second)))
	}
	return ""
}

// fresh runs fn on a new connection with its own deadline, for when the
// node's connection died or its deadline is spent.
func (p *Pusher) fresh(n *inventory.Node, fn func(*remotefile.Conn) error) error {
	timeout := n.ConnectTimeout
	if timeout <= 0 {
		timeout = inventory.DefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	c, err := remotefile.Dial(ctx, p.Dialer, n)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

// write makes the node's file right. Without the lock (lk nil) it only
// reads and says what it would do, as for a dry run.
func (p *Pusher) write(ctx context.Context, c *remotefile.Conn, n *inventory.Node, req Request, lk *nodelock.Lock) (Result, bool) {
	st, err := readNode(ctx, c, n, lk != nil)
	if err != nil {
		return failed(ctx, err), failure.Of(err) == failure.ConnectionLost
	}
	want := target(c, st)
	res := describe(c, st)
	sameContent := st.Exists && bytes.Equal(st.Data, req.Data)
	if sameContent && st.UID == want.UID && st.GID == want.GID && st.Mode == want.Mode {
		res.Status = Unchanged
		return res, false
	}
	if !sameContent {
		res.Changes = changes(st, req.Local)
	}
	if reason, kind := refusal(st, req, sameContent); !reason.IsZero() {
		res.Status, res.Failure, res.Reason = Conflict, kind, reason
		return res, false
	}
	if err := c.CanSet(want); err != nil && !req.DryRun {
		return failed(ctx, err), false
	}
	switch {
	case lk == nil:
		res.Status, res.Reason = WouldUpdate, remedy.Text(dryRunReason(st, want, req.Data, c))
		if sameContent {
			res.Status = WouldFix
		}
		return res, false
	case sameContent:
		// Only owner, group or mode are wrong, but the repair is a whole
		// new file all the same: a change by path on the live name would
		// follow whatever link a local user swapped in there.
		res.Status = Fixed
	}
	return p.replace(ctx, c, n, req, st, want, lk, res)
}

// readNode reads the node's file, as a first look or, under the lock
// (locked), again: the progress line tells the two apart.
func readNode(ctx context.Context, c *remotefile.Conn, n *inventory.Node, locked bool) (remotefile.State, error) {
	step := "read"
	if locked {
		step = "re-read" // under the lock, after the first look
	}
	read := steps.Start(ctx, step)
	defer read()
	return c.Read(n.Path)
}

// target is what the node's file must end as: the inventory's owner,
// group and mode, and where owner or group is not enforced, what the
// file has now, as Elasticsearch's CLI keeps them.
func target(c *remotefile.Conn, st remotefile.State) remotefile.Attrs {
	want := c.Target()
	if st.Exists {
		if want.UID < 0 {
			want.UID = st.UID
		}
		if want.GID < 0 {
			want.GID = st.GID
		}
	}
	return want
}

// refusal says why the node's file must not be written: it is probably
// not what the user meant to replace (guard), or someone else changed it
// since the local file was read before a create or delete. Empty when
// the write may go ahead.
func refusal(st remotefile.State, req Request, sameContent bool) (remedy.Message, failure.Kind) {
	if reason, kind := guard(st, req); !reason.IsZero() {
		return reason, kind
	}
	if !sameContent && req.Before != nil && st.Exists && !req.Force &&
		st.SHA256 != digest.SHA256(req.Before) && st.SHA256 != digest.SHA256(req.Data) {
		return conflictReason(st, req.Before), failure.Conflict
	}
	return remedy.Message{}, ""
}

// replace writes the new file beside the old one and renames it over,
// then reads it back. st is the node's file as read under the lock.
func (p *Pusher) replace(ctx context.Context, c *remotefile.Conn, n *inventory.Node, req Request, st remotefile.State, want remotefile.Attrs, lk *nodelock.Lock, res Result) (Result, bool) {
	tmp := remotefile.TempName(n.Path)
	var bak string
	beforeRename := func() error {
		var err error
		bak, err = lastLook(c, n, req, st, lk)
		return err
	}
	wrote := steps.Start(ctx, "write")
	leftTemp, err := c.Replace(n.Path, tmp, req.Data, want, beforeRename)
	// The rename happened before its reply (and the directory's fsync)
	// came back: this is a bound, a round trip late at most.
	replaced := time.Now()
	wrote()
	if err != nil {
		return p.replaceFailed(ctx, n, err, res, st, req.Data, want, tmp, leftTemp, replaced), false
	}
	ok := Updated
	if res.Status == Fixed {
		ok = Fixed
	}
	r, retry := p.verify(ctx, c, n, req.Data, want, ok, res.Changes)
	r.Replaced = replaced
	if bak != "" {
		keptBackup(c, n, bak, &r)
	}
	return r, retry
}

// lastLook runs right before the rename: the lock is what makes the read
// under it and the rename one step, so it is checked last. It keeps the
// file about to be replaced as a backup when the node asks for backups,
// and returns the backup's path.
func lastLook(c *remotefile.Conn, n *inventory.Node, req Request, st remotefile.State, lk *nodelock.Lock) (string, error) {
	if req.Before != nil && !req.Force {
		// A writer that is not this tool (an editor, an older version)
		// may still have replaced the file meanwhile.
		again, err := c.Read(n.Path)
		if err != nil {
			return "", err
		}
		if again.SHA256 != st.SHA256 {
			return "", errConflictDuringWrite
		}
	}
	if err := lk.Verify(c); err != nil {
		return "", err
	}
	if n.Backups <= 0 || !st.Exists || bytes.Equal(st.Data, req.Data) {
		return "", nil // nothing to keep, or the same bytes as the new file
	}
	// A hard link is the same file, owner, group and mode.
	return backup.Make(c, n.Path, time.Now())
}

// keptBackup notes the backup this write made and prunes those beyond
// the node's backups setting.
func keptBackup(c *remotefile.Conn, n *inventory.Node, bak string, r *Result) {
	r.Notes = append(r.Notes, remedy.Text("previous file kept as "+safetext.Escape(path.Base(bak))))
	if removed, err := backup.Prune(c, n.Path, n.Backups); err != nil {
		r.Warnings = append(r.Warnings, oneLine(err.Error()))
	} else if len(removed) > 0 {
		r.Notes = append(r.Notes, remedy.Sprintf("removed %s beyond backups: %d", plural(len(removed), "old backup"), n.Backups))
	}
}

// replaceFailed reports a write that did not finish. When the connection
// went, the request may have reached the node without its reply reaching
// us: only a new look tells what the node holds. Otherwise the rename did
// not happen, and the temporary file it left is removed.
func (p *Pusher) replaceFailed(ctx context.Context, n *inventory.Node, err error, res Result, st remotefile.State, data []byte, want remotefile.Attrs, tmp string, leftTemp bool, returned time.Time) Result {
	if errors.Is(err, errConflictDuringWrite) {
		res.Status, res.Failure, res.Reason = Conflict, failure.Conflict, remedy.Text("the file changed on the node while it was being written; not replaced")
		return res
	}
	r := failed(ctx, err)
	switch r.Failure {
	case failure.ConnectionLost, failure.Timeout, failure.Interrupted:
		return p.afterLoss(n, r, st, data, want, tmp, res.Changes, returned)
	}
	r.Reason = r.Reason.Append("; the node's file is unchanged")
	if leftTemp {
		r.Reason = r.Reason.Append("%s", p.cleanup(n, tmp))
	}
	return r
}

// afterLoss reads the node again over a new connection after the one that
// was writing died, and reports what is true: the new file (verified
// as any other write), the old one, or something else or unknown.
//
// returned is when the failed call came back: if the node has the new
// file, its rename happened before then.
func (p *Pusher) afterLoss(n *inventory.Node, r Result, old remotefile.State, data []byte, want remotefile.Attrs, tmp string, ch *tokens.Diff, returned time.Time) Result {
	var out Result
	err := p.fresh(n, func(c *remotefile.Conn) error {
		st, err := c.Read(n.Path)
		if err != nil {
			return err
		}
		tmpNote := ""
		if c.Exists(tmp) {
			tmpNote = removeTemp(c, tmp)
		}
		switch {
		case st.Exists && st.SHA256 == digest.SHA256(data):
			out, _ = p.verify(context.Background(), c, n, data, want, Updated, ch)
			out.Replaced = returned
			note := r.Reason.Append(" after the new file was written; read again over a new connection: the node has the new file")
			if out.Status == Failed {
				out.Reason = note.Append("; %v%s", out.Reason, tmpNote)
			} else {
				out.Notes = append(out.Notes, note.Append("%s", tmpNote))
			}
		case st.Exists == old.Exists && st.SHA256 == old.SHA256:
			out = r
			out.Reason = out.Reason.Append("; read again over a new connection: the node's file is unchanged%s", tmpNote)
			now := describe(c, st)
			out.SHA256, out.Owner, out.Group, out.Mode = now.SHA256, now.Owner, now.Group, now.Mode
		case !st.Exists:
			out = r
			out.Reason = out.Reason.Append("; read again over a new connection: the node has no file now%s", tmpNote)
		default:
			out = r
			out.Reason = out.Reason.Append("; read again over a new connection: the node holds sha256:%s, neither its old file nor the new one (another writer?)%s", digest.Short(st.SHA256), tmpNote)
			out.SHA256 = st.SHA256
		}
		return nil
	})
	if err != nil {
		out = r
		out.Reason = out.Reason.Append("; the node could not be read again (%s): whether its file was replaced is unknown; run check", oneLine(err.Error()))
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// guard stops a push that is probably a slip: overwriting a file that is
// not a service_tokens file Elasticsearch loads (a wrong path, an
// unfinished hand edit), or emptying a node that has tokens. Force says
// it is meant.
func guard(st remotefile.State, req Request) (remedy.Message, failure.Kind) {
	if !st.Exists || req.Force || bytes.Equal(st.Data, req.Data) {
		return remedy.Message{}, ""
	}
	onNode, err := tokens.Parse(st.Data)
	if err != nil {
		return remedy.Sprintf("the node's file is not a service_tokens file Elasticsearch can load (%s); not overwritten: check path, or use %v to replace it", tokens.Redacted(err), remedy.Force), failure.Refused
	}
	if onNode.Len() == 0 {
		for _, d := range onNode.Dropped {
			if d.Key != "" {
				// Lines, and not one token: another kind of file (a wrong
				// path, elasticsearch.yml).
				// Its words are not shown: through a link it may be any
				// file on the node.
				return remedy.Sprintf("the node's file is not a service_tokens file: it holds no token, and line %d is not one (%s); not overwritten: check path, or use %v to replace it",
					d.Line, d.Reason, remedy.Force), failure.Refused
			}
		}
	}
	if req.Local.Len() == 0 && onNode.Len() > 0 {
		return remedy.Sprintf("this would remove every token from the node (%s); not written: use %v if you mean it", plural(onNode.Len(), "token"), remedy.Force), failure.Conflict
	}
	return remedy.Message{}, ""
}

var errConflictDuringWrite = errors.New("conflict during write")

// verify reads the file back: content and attributes must be what was asked.
func (p *Pusher) verify(ctx context.Context, c *remotefile.Conn, n *inventory.Node, data []byte, want remotefile.Attrs, ok Status, ch *tokens.Diff) (Result, bool) {
	readBack := steps.Start(ctx, "read-back")
	st, err := c.Read(n.Path)
	readBack()
	if err != nil {
		kind, reason := failure.Describe(ctx, fmt.Errorf("read-back: %w", err))
		return Result{Status: Failed, Failure: kind, Reason: reason}, false
	}
	res := describe(c, st)
	res.Changes = ch
	var bad []string
	if !st.Exists {
		bad = append(bad, "the file is gone")
	}
	// Owner or group at -1: not enforced, and there was no file to keep
	// them from.
	for _, m := range remotefile.Mismatches(st, want, digest.SHA256(data), c) {
		if m.What == "content" {
			m.Seen, m.Want = "sha256:"+digest.Short(m.Seen), "sha256:"+digest.Short(m.Want)
		}
		bad = append(bad, fmt.Sprintf("%s %s, expected %s", m.What, m.Seen, m.Want))
	}
	if len(bad) > 0 {
		res.Status, res.Failure = Failed, failure.RemoteIO
		res.Reason = failure.Format(failure.RemoteIO, remedy.Text("read-back: "+strings.Join(bad, "; ")))
		return res, false
	}
	res.Status = ok
	return res, false
}

// cleanup removes a temporary file over a fresh connection, for when the
// one that wrote it died. Its deadline is its own: the node's may be spent.
func (p *Pusher) cleanup(n *inventory.Node, tmp string) string {
	var note string
	err := p.fresh(n, func(c *remotefile.Conn) error {
		note = removeTemp(c, tmp)
		return nil
	})
	if err != nil {
		return tempLeft(tmp, err)
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

func describe(c *remotefile.Conn, st remotefile.State) Result {
	if !st.Exists {
		return Result{}
	}
	return Result{SHA256: st.SHA256, Owner: c.UserName(st.UID), Group: c.GroupName(st.GID), Mode: remotefile.Mode(st.Mode)}
}

// changes names the tokens a push adds, removes or changes on the node.
func changes(st remotefile.State, local *tokens.File) *tokens.Diff {
	onNode := tokens.NewFile()
	if st.Exists {
		f, err := tokens.Parse(st.Data)
		if err != nil {
			return nil // malformed: the reason says so elsewhere
		}
		onNode = f
	}
	d := tokens.Compare(onNode, local)
	return &d
}

func conflictReason(st remotefile.State, before []byte) remedy.Message {
	node, err := tokens.Parse(st.Data)
	if err != nil {
		return remedy.Sprintf("the node's file was changed by someone else and Elasticsearch cannot load it (%s); not written: use %v to replace it", tokens.Redacted(err), remedy.Force)
	}
	prev, _ := tokens.Parse(before)
	d := tokens.Compare(prev, node)
	return remedy.Sprintf("the node's file was changed by someone else (%s); not written: use %v to overwrite, or pull it to keep its tokens", DescribeDiff(d, "extra on node", "missing on node"), remedy.Force)
}

func dryRunReason(st remotefile.State, want remotefile.Attrs, data []byte, c *remotefile.Conn) string {
	if !st.Exists {
		return "file missing: would create it"
	}
	var parts []string
	for _, m := range remotefile.Mismatches(st, want, digest.SHA256(data), c) {
		if m.What == "content" {
			parts = append(parts, "content")
		} else {
			parts = append(parts, fmt.Sprintf("%s %s -> %s", m.What, m.Seen, m.Want))
		}
	}
	return "would change " + strings.Join(parts, ", ")
}

// DescribeDiff names tokens for humans, never showing hashes. Each list
// is bounded (see nameList): a push of 10,000 tokens to 20 nodes must not
// print megabytes; JSON output keeps the full lists.
func DescribeDiff(d tokens.Diff, addedLabel, removedLabel string) string {
	var parts []string
	if len(d.Added) > 0 {
		parts = append(parts, nameList(addedLabel, d.Added))
	}
	if len(d.Removed) > 0 {
		parts = append(parts, nameList(removedLabel, d.Removed))
	}
	if len(d.Changed) > 0 {
		parts = append(parts, nameList("hash differs", d.Changed))
	}
	if len(parts) == 0 {
		return "same tokens, different bytes"
	}
	return strings.Join(parts, "; ")
}

// ShownNames is how many token names a text line lists before it only
// counts the rest.
const ShownNames = 5

// nameList is "label: a, b" for a short list and "label 3,000 tokens: a,
// b, c, d, e and 2,995 more" for a long one. Names come from files that
// anyone may have edited, so control characters are escaped.
func nameList(label string, names []string) string {
	shown := names
	if len(names) > ShownNames {
		shown = names[:ShownNames]
	}
	escaped := make([]string, len(shown))
	for i, n := range shown {
		escaped[i] = safetext.Escape(n)
	}
	if len(names) <= ShownNames {
		return label + ": " + strings.Join(escaped, ", ")
	}
	return fmt.Sprintf("%s %s tokens: %s and %s more", label, Thousands(len(names)), strings.Join(escaped, ", "), Thousands(len(names)-ShownNames))
}

// Thousands writes n with comma separators: 10,000 reads at a glance.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
