// Package push makes every node's service_tokens file equal to the local
// one: same bytes, owner, group and mode, each node read back to prove it.
// A node changed behind the tool's back is reported, not overwritten.
package push

import (
	"context"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
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
// cmd/es-service-tokens/internal/output/json.go (docs/output.md).
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
	// ESName is the node's Elasticsearch name, read on the push's own
	// connection when Options asked for it (ES, NameNodes); zero otherwise.
	ESName esnode.Name
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
	// Inspect, if set, reads what else the run needs from a node, over
	// the push's own connection (one connection per node per run), in the
	// transaction's first look: after the directories are proven safe,
	// before anything is written. An error fails the node, unwritten.
	Inspect func(ctx context.Context, c *remotefile.Conn, n *inventory.Node) error
}

// Push runs req on every node and returns the results in node order.
func (p *Pusher) Push(ctx context.Context, nodes []*inventory.Node, req Request) []Result {
	work := func(ctx context.Context, c *remotefile.Conn, n *inventory.Node) (Result, bool) {
		t := &txn{p: p, ctx: ctx, c: c, n: n, req: req}
		return t.run()
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
