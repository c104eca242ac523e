// Package push makes every node's service_tokens file equal to the local
// one: same bytes, owner, group and mode, each node read back to prove it.
// A node changed behind the tool's back is reported, not overwritten.
package push

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
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
	WouldUpdate Status = "would-update" // --dry-run
	WouldFix    Status = "would-fix"    // --dry-run
)

// Verified reports whether the node ends with the right file.
func (s Status) Verified() bool { return s == Updated || s == Unchanged || s == Fixed }

// Request is what to push.
type Request struct {
	Data []byte
	// Before is the local file as it was before a create or delete; nodes
	// holding neither Before nor Data were edited by someone else. Nil for
	// a plain push, which makes the node equal to Data whatever it holds.
	Before []byte
	DryRun bool
	Force  bool // overwrite conflicting nodes
}

// Result is one node's outcome. Its JSON form is documented in the README.
type Result struct {
	Node     string       `json:"name"`
	Host     string       `json:"host"`
	Port     int          `json:"port"`
	Status   Status       `json:"result"`
	SHA256   string       `json:"sha256,omitempty"` // the node's file at the end
	Owner    string       `json:"owner,omitempty"`
	Group    string       `json:"group,omitempty"`
	Mode     string       `json:"mode,omitempty"`
	Seconds  float64      `json:"seconds"`
	Failure  failure.Kind `json:"failure,omitempty"` // for failed and conflict
	Reason   string       `json:"reason,omitempty"`
	Changes  *tokens.Diff `json:"changes,omitempty"` // token names, never hashes
	Attempts int          `json:"attempts"`
}

// Pusher pushes with one Dialer (one set of shared bastion connections).
type Pusher struct {
	Dialer *sshconn.Dialer
	Fleet  fleet.Options
}

// Push runs req on every node and returns the results in node order.
func (p *Pusher) Push(ctx context.Context, nodes []*inventory.Node, req Request) []Result {
	local, err := tokens.Parse(req.Data)
	if err != nil {
		// The caller parses first; this is a programming error.
		panic(fmt.Sprintf("push: local file does not parse: %v", err))
	}
	return fleet.Run(ctx, nodes, p.Fleet, func(ctx context.Context, n *inventory.Node, attempt int, start time.Time) (Result, string, bool) {
		r, retry := p.node(ctx, n, req, local)
		r.Node, r.Host, r.Port, r.Attempts = n.Name, n.Host, n.Port, attempt
		r.Seconds = time.Since(start).Seconds()
		return r, string(r.Status), retry
	})
}

// node brings one node in line. retry is true only when nothing has been
// written to the node yet.
func (p *Pusher) node(ctx context.Context, n *inventory.Node, req Request, local *tokens.File) (Result, bool) {
	failed := func(err error, retry bool) (Result, bool) {
		kind, reason := failure.Describe(ctx, err)
		return Result{Status: Failed, Failure: kind, Reason: reason}, retry
	}
	c, err := remotefile.Dial(ctx, p.Dialer, n)
	if err != nil {
		return failed(err, sshconn.Retryable(err))
	}
	defer c.Close()
	st, err := c.Read(n.Path)
	if err != nil {
		return failed(err, failure.Of(err) == failure.ConnectionLost)
	}
	want := remotefile.Attrs{UID: c.OwnerUID, GID: c.GroupGID, Mode: n.Mode}
	if st.Exists {
		// Not enforced: keep what the file has, as Elasticsearch's CLI does.
		if want.UID < 0 {
			want.UID = st.UID
		}
		if want.GID < 0 {
			want.GID = st.GID
		}
	}
	res := describe(c, st)
	sameContent := st.Exists && bytes.Equal(st.Data, req.Data)
	attrsRight := st.Exists && st.UID == want.UID && st.GID == want.GID && st.Mode == want.Mode
	if sameContent && attrsRight {
		res.Status = Unchanged
		return res, false
	}
	if !sameContent {
		res.Changes = changes(st, local)
	}
	if !sameContent && req.Before != nil && st.Exists && !req.Force &&
		st.SHA256 != digest.SHA256(req.Before) && st.SHA256 != digest.SHA256(req.Data) {
		res.Status, res.Failure, res.Reason = Conflict, failure.Conflict, conflictReason(st, req.Before)
		return res, false
	}
	if req.DryRun {
		res.Status, res.Reason = WouldUpdate, dryRunReason(st, want, sameContent, c)
		if sameContent {
			res.Status = WouldFix
		}
		return res, false
	}
	if err := c.CanSet(want); err != nil {
		return failed(err, false)
	}

	if sameContent {
		if err := c.SetAttrs(n.Path, want); err != nil {
			return failed(err, false)
		}
		return p.verify(ctx, c, n, req.Data, want, Fixed, res.Changes)
	}
	tmp := remotefile.TempName(n.Path)
	var cas func() error
	if req.Before != nil && !req.Force {
		// Check again right before the rename: another writer may have
		// replaced the file while ours was being written.
		seen := st.SHA256
		cas = func() error {
			again, err := c.Read(n.Path)
			if err != nil {
				return err
			}
			if again.SHA256 != seen {
				return errConflictDuringWrite
			}
			return nil
		}
	}
	leftTemp, err := c.Replace(n.Path, tmp, req.Data, want, cas)
	if err != nil {
		if errors.Is(err, errConflictDuringWrite) {
			res.Status, res.Failure, res.Reason = Conflict, failure.Conflict, "the file changed on the node while it was being written; not replaced"
			return res, false
		}
		r, _ := failed(err, false)
		r.Reason += "; the node's file is unchanged"
		if leftTemp {
			r.Reason += p.cleanup(n, tmp)
		}
		return r, false
	}
	return p.verify(ctx, c, n, req.Data, want, Updated, res.Changes)
}

var errConflictDuringWrite = errors.New("conflict during write")

// verify reads the file back: content and attributes must be what was asked.
func (p *Pusher) verify(ctx context.Context, c *remotefile.Conn, n *inventory.Node, data []byte, want remotefile.Attrs, ok Status, ch *tokens.Diff) (Result, bool) {
	st, err := c.Read(n.Path)
	if err != nil {
		kind, reason := failure.Describe(ctx, fmt.Errorf("read-back: %w", err))
		return Result{Status: Failed, Failure: kind, Reason: reason}, false
	}
	res := describe(c, st)
	res.Changes = ch
	var bad []string
	if !st.Exists {
		bad = append(bad, "the file is gone")
	} else {
		if st.SHA256 != digest.SHA256(data) {
			bad = append(bad, fmt.Sprintf("content sha256:%s, expected sha256:%s", digest.Short(st.SHA256), digest.Short(digest.SHA256(data))))
		}
		// -1: not enforced, and there was no file to keep them from.
		if want.UID >= 0 && st.UID != want.UID {
			bad = append(bad, fmt.Sprintf("owner %s, expected %s", c.UserName(st.UID), c.UserName(want.UID)))
		}
		if want.GID >= 0 && st.GID != want.GID {
			bad = append(bad, fmt.Sprintf("group %s, expected %s", c.GroupName(st.GID), c.GroupName(want.GID)))
		}
		if st.Mode != want.Mode {
			bad = append(bad, fmt.Sprintf("mode %04o, expected %04o", st.Mode, want.Mode))
		}
	}
	if len(bad) > 0 {
		res.Status, res.Failure = Failed, failure.RemoteIO
		res.Reason = failure.Format(failure.RemoteIO, "read-back: "+strings.Join(bad, "; "))
		return res, false
	}
	res.Status = ok
	return res, false
}

// cleanup removes a temporary file over a fresh connection, for when the
// one that wrote it died. Its deadline is its own: the node's may be spent.
func (p *Pusher) cleanup(n *inventory.Node, tmp string) string {
	ctx, cancel := context.WithTimeout(context.Background(), n.ConnectTimeout+10*time.Second)
	defer cancel()
	c, err := remotefile.Dial(ctx, p.Dialer, n)
	if err == nil {
		defer c.Close()
		err = c.Remove(tmp)
	}
	if err != nil {
		return fmt.Sprintf("; could not remove the temporary file %s (%v): delete it by hand", tmp, err)
	}
	return "; temporary file removed"
}

func describe(c *remotefile.Conn, st remotefile.State) Result {
	if !st.Exists {
		return Result{}
	}
	return Result{SHA256: st.SHA256, Owner: c.UserName(st.UID), Group: c.GroupName(st.GID), Mode: fmt.Sprintf("%04o", st.Mode)}
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

func conflictReason(st remotefile.State, before []byte) string {
	node, err := tokens.Parse(st.Data)
	if err != nil {
		return fmt.Sprintf("the node's file was changed by someone else and Elasticsearch cannot load it (%v); not written: run push to replace it, or --force", err)
	}
	prev, _ := tokens.Parse(before)
	d := tokens.Compare(prev, node)
	return "the node's file was changed by someone else (" + DescribeDiff(d, "extra on node", "missing on node") + "); not written: use --force to overwrite, or pull it to keep its tokens"
}

func dryRunReason(st remotefile.State, want remotefile.Attrs, sameContent bool, c *remotefile.Conn) string {
	var parts []string
	if !st.Exists {
		return "file missing: would create it"
	}
	if !sameContent {
		parts = append(parts, "content")
	}
	if st.UID != want.UID {
		parts = append(parts, fmt.Sprintf("owner %s -> %s", c.UserName(st.UID), c.UserName(want.UID)))
	}
	if st.GID != want.GID {
		parts = append(parts, fmt.Sprintf("group %s -> %s", c.GroupName(st.GID), c.GroupName(want.GID)))
	}
	if st.Mode != want.Mode {
		parts = append(parts, fmt.Sprintf("mode %04o -> %04o", st.Mode, want.Mode))
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
