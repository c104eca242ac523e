// Package check compares every node's service_tokens file with the local
// one without writing anything, and reports drift in forms people and
// monitoring systems act on. It names tokens, never hashes or secrets.
package check

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/nodelock"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// State of a node.
type State string

const (
	InSync State = "in-sync"
	Drift  State = "drift"
	Error  State = "error"
)

// Difference is one way a node differs from what is expected.
type Difference struct {
	What     string // content, owner, group, mode, missing
	Seen     string
	Expected string
	// For content: token names only.
	MissingOnNode []string
	ExtraOnNode   []string
	HashDiffers   []string
	Detail        string
	// Unloadable: Elasticsearch cannot load the node's file, so the node
	// serves no file tokens at all (on reload it drops every one).
	Unloadable bool
}

// Attributes are a file's owner, group and mode.
type Attributes struct {
	SHA256 string
	Owner  string
	Group  string
	Mode   string
}

// Result is one node's state. The CLI's JSON form of it is in
// cmd/es-service-tokens/internal/output/json.go (docs/output.md).
type Result struct {
	Node        string
	Host        string
	Port        int
	State       State
	Differences []Difference
	Seen        Attributes
	Expected    Attributes
	Failure     failure.Kind   // for errors
	Reason      remedy.Message // for errors: "KIND: message"; may name the caller's options
	Seconds     float64
	Attempts    int
}

// Checker checks nodes with one Dialer.
type Checker struct {
	Dialer *sshconn.Dialer
	Fleet  fleet.Options
	// Inspect, when set, reads what else the run needs from a node on the
	// check's own connection (one connection per node per run), before
	// its file is read; an error makes the node an Error.
	Inspect func(ctx context.Context, c *remotefile.Conn, n *inventory.Node) error
}

// Check compares every node's file with data, the local file, and local,
// data parsed (the caller parses it once).
func (k *Checker) Check(ctx context.Context, nodes []*inventory.Node, data []byte, local *tokens.File) []Result {
	work := func(ctx context.Context, c *remotefile.Conn, n *inventory.Node) (Result, bool) {
		if k.Inspect != nil {
			if err := k.Inspect(ctx, c, n); err != nil {
				kind, reason := failure.Describe(ctx, err)
				return Result{State: Error, Failure: kind, Reason: reason}, false
			}
		}
		return k.node(ctx, c, n, data, local), false
	}
	unreached := func(ctx context.Context, err error) Result {
		kind, reason := failure.Describe(ctx, err)
		return Result{State: Error, Failure: kind, Reason: reason}
	}
	return remotefile.Each(ctx, k.Dialer, nodes, k.Fleet, work, unreached,
		func(r *Result, n *inventory.Node, attempts int, seconds float64) string {
			r.Node, r.Host, r.Port, r.Attempts, r.Seconds = n.Name, n.Host, n.Port, attempts, seconds
			r.Expected = Attributes{SHA256: digest.SHA256(data), Owner: n.Owner, Group: n.Group, Mode: remotefile.Mode(n.Mode)}
			if r.Differences == nil {
				r.Differences = []Difference{}
			}
			return string(r.State)
		})
}

func (k *Checker) node(ctx context.Context, c *remotefile.Conn, n *inventory.Node, data []byte, local *tokens.File) Result {
	// The directory is listed alongside the read: both only read, and
	// each would otherwise wait for the other's round trips.
	left := make(chan []Difference, 1)
	go func() { left <- k.leftovers(c, n) }()
	read := steps.Start(ctx, "read")
	st, err := c.Read(n.Path)
	read()
	leftovers := <-left
	if err != nil {
		kind, reason := failure.Describe(ctx, err)
		return Result{State: Error, Failure: kind, Reason: reason}
	}
	r := Result{State: InSync}
	if !st.Exists {
		r.State = Drift
		r.Differences = []Difference{{What: "missing", Detail: n.Path + " does not exist"}}
		return r
	}
	r.Seen = seen(st, c)
	r.Differences = compare(st, c.Target(), data, local, c)
	r.Differences = append(r.Differences, leftovers...)
	if len(r.Differences) > 0 {
		r.State = Drift
	}
	return r
}

// seen is a file's attributes as a report shows them.
func seen(st remotefile.State, names remotefile.Names) Attributes {
	return Attributes{SHA256: st.SHA256, Owner: names.UserName(st.UID), Group: names.GroupName(st.GID), Mode: remotefile.Mode(st.Mode)}
}

// compare is how a file that exists differs from what it should be: its
// content by token name, then owner, group and mode.
func compare(st remotefile.State, want remotefile.Attrs, data []byte, local *tokens.File, names remotefile.Names) []Difference {
	diffs := Compare(st.Data, data, local)
	for _, m := range remotefile.Mismatches(st, want, "", names) {
		diffs = append(diffs, Difference{What: m.What, Seen: m.Seen, Expected: m.Want})
	}
	return diffs
}

// leftovers reports this tool's temporary files older than a push's
// lease with the same time limit: a killed run left them, and they may hold
// hashes. The lock file and backups are not drift. Without write access
// check has no node clock, so age is by this machine's clock.
func (k *Checker) leftovers(c *remotefile.Conn, n *inventory.Node) []Difference {
	timeout := k.Fleet.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	old, err := c.Siblings(n.Path, func(name string) bool { return nodelock.Leftover(n.Path, name) })
	if err != nil {
		return nil
	}
	var out []Difference
	for _, e := range old {
		if time.Since(e.ModTime) > timeout+staleMargin {
			out = append(out, Difference{What: "stale temporary file", Seen: path.Join(path.Dir(n.Path), e.Name),
				Detail: "left by a killed run; the next push removes it"})
		}
	}
	return out
}

// staleMargin is push's lease margin.
const staleMargin = 5 * time.Second

// Compare describes how the content seen differs from the local file, by
// token name. It returns nil when the bytes are the same.
func Compare(seen, localData []byte, local *tokens.File) []Difference {
	if digest.SHA256(seen) == digest.SHA256(localData) {
		return nil
	}
	d := Difference{What: "content", Seen: "sha256:" + digest.SHA256(seen), Expected: "sha256:" + digest.SHA256(localData)}
	f, err := tokens.Parse(seen)
	if err != nil {
		// Only the line and what is wrong: through a link the file read may
		// be any file on the node.
		d.Detail = fmt.Sprintf("Elasticsearch cannot load this file (%s) and serves no file tokens from it", tokens.Redacted(err))
		d.Unloadable = true
		return []Difference{d}
	}
	diff := tokens.Compare(f, local)
	d.MissingOnNode, d.ExtraOnNode, d.HashDiffers = diff.Added, diff.Removed, diff.Changed
	if diff.Empty() {
		d.Detail = "same tokens, different bytes (order, comments or duplicates)"
	}
	return []Difference{d}
}

// Loadable reports whether Elasticsearch can load the node's file (a
// missing file loads as empty); known is false when the node could not be
// checked.
func (r Result) Loadable() (loadable, known bool) {
	if r.State == Error {
		return false, false
	}
	for _, d := range r.Differences {
		if d.Unloadable {
			return false, true
		}
	}
	return true, true
}

// Summary counts nodes by state.
type Summary struct {
	Total   int
	InSync  int
	Drifted int
	Failed  int
	// Unloadable counts drifted nodes whose file Elasticsearch cannot load.
	Unloadable int
}

// Summarize counts results.
func Summarize(rs []Result) Summary {
	s := Summary{Total: len(rs)}
	for _, r := range rs {
		switch r.State {
		case InSync:
			s.InSync++
		case Drift:
			s.Drifted++
			if ok, _ := r.Loadable(); !ok {
				s.Unloadable++
			}
		default:
			s.Failed++
		}
	}
	return s
}

// ExitCode follows diff(1): 0 all in sync, 1 drift and no failure, 2 at
// least one node could not be checked.
func (s Summary) ExitCode() int {
	switch {
	case s.Failed > 0:
		return 2
	case s.Drifted > 0:
		return 1
	}
	return 0
}
