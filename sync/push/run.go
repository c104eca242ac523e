package push

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/nodelock"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Skipped: a gated rollout stopped before this node; it was not touched.
const Skipped Status = "skipped"

// Statuses are every status, in the order a summary names them.
var Statuses = []Status{Updated, Unchanged, Fixed, WouldUpdate, WouldFix, Conflict, Failed, Skipped}

// Options are one push: the file, the nodes, and how to reach and write
// them. Run checks them before anything is written.
type Options struct {
	// Request is what to write: Data (and Local, Data parsed; Run parses
	// it when nil), Before for a create or delete, DryRun, Force.
	Request
	// Inventory is the whole inventory; Nodes are the nodes to write, in
	// order (nil: every node of Inventory).
	Inventory *inventory.Inventory
	Nodes     []*inventory.Node
	// Removed are the tokens a create or delete took out of the local
	// file: where the push does not land, they are still accepted there
	// (Report.StillAccepted). Nil for a plain push.
	Removed []string
	// Dialer reaches the nodes; Fleet bounds the work (concurrency, each
	// node's time, retries, progress and step hooks).
	Dialer *sshconn.Dialer
	Fleet  fleet.Options
	// Me is who this run is, written into each node's lock; BreakLock
	// takes over another run's lock at once.
	Me        nodelock.Holder
	BreakLock bool
	// Batches are the gated batches (rollout.Batches); nil: every node
	// at once.
	Batches []rollout.Batch
	// ES, when set, is asked after each batch and at the end whether
	// every Elasticsearch node loaded the change, waiting at most
	// ConfirmTimeout each time. A dry run asks nothing.
	ES             *elastic.Client
	ConfirmTimeout time.Duration
	// NameNodes reads each node's Elasticsearch name (Result.ESName) on
	// the push's own connection, for a caller that asks the cluster
	// itself; ES implies it.
	NameNodes bool
	// Audit, when set, is called with the report once the nodes are
	// written, before Run returns: the hook that records the run.
	Audit func(Report)
}

// Report is what a push did.
type Report struct {
	Results []Result // one per node, in node order
	Gates   []rollout.Gate
	ES      *rollout.Confirmation // nil without Elasticsearch
	// StillAccepted are the nodes where tokens this push removes may
	// still be accepted: where the revocation has not happened yet.
	StillAccepted []Unrevoked
}

// Run pushes the local file to the nodes, batch by batch when asked,
// with Elasticsearch's confirmation when configured. Each node is reached
// over one connection, which also reads its Elasticsearch name when the
// cluster is asked. Its error is about the options, and then nothing was
// written; what happened on the nodes is in the report.
func Run(ctx context.Context, opts Options) (Report, error) {
	nodes, err := opts.check()
	if err != nil {
		return Report{}, err
	}
	r := &runner{opts: opts, results: make([]Result, len(nodes))}
	r.p = &Pusher{Dialer: opts.Dialer, Fleet: opts.Fleet, Me: opts.Me, BreakLock: opts.BreakLock}
	plan := rollout.Plan{Batches: opts.Batches, Timeout: opts.ConfirmTimeout}
	if opts.Inventory != nil {
		plan.All = opts.Inventory.Nodes
	}
	if !opts.DryRun {
		plan.ES = opts.ES
	}
	if plan.ES != nil || opts.NameNodes {
		r.p.Inspect = r.names.Inspect
	}
	ro := rollout.Run(ctx, nodes, r.write, opts.Local, plan)
	r.skip(nodes[ro.Reached:])
	rep := Report{Results: r.results, Gates: ro.Gates, ES: ro.ES}
	if !opts.DryRun {
		rep.StillAccepted = StillAccepted(r.results, opts.Removed)
	}
	if opts.Audit != nil {
		opts.Audit(rep)
	}
	return rep, nil
}

// runner is one Run in progress: the results so far, and the names read
// on the nodes.
type runner struct {
	opts    Options
	p       *Pusher
	results []Result
	done    int // results written so far: the batches come in order
	names   esnode.Found
}

// write is the rollout's Writer: one batch pushed, and what the gates
// need of each node, its Elasticsearch name as its connection found it.
func (r *runner) write(ctx context.Context, batch []*inventory.Node) []rollout.Written {
	rs := r.p.Push(ctx, batch, r.opts.Request)
	out := make([]rollout.Written, len(rs))
	for i := range rs {
		if r.p.Inspect != nil {
			rs[i].ESName = r.names.Of(batch[i])
		}
		res := rs[i]
		out[i] = rollout.Written{Verified: res.Status.Verified(), Status: string(res.Status), Changes: res.Changes, Replaced: res.Replaced, ESName: res.ESName}
	}
	copy(r.results[r.done:], rs)
	r.done += len(rs)
	return out
}

// skip reports the nodes a failed gate kept the rollout from.
func (r *runner) skip(nodes []*inventory.Node) {
	for i, n := range nodes {
		r.results[r.done+i] = Result{Node: n.Name, Host: n.Host, Port: n.Port, Status: Skipped,
			Reason: remedy.Text("not touched: the rollout stopped at a failed gate")}
	}
}

// check fills in what Options leave out and refuses what cannot work,
// before anything is written. It returns the nodes to write.
func (o *Options) check() ([]*inventory.Node, error) {
	nodes := o.Nodes
	if nodes == nil && o.Inventory != nil {
		nodes = o.Inventory.Nodes
	}
	if o.Dialer == nil {
		return nil, errors.New("push: no Dialer to reach the nodes")
	}
	if o.Local == nil {
		local, err := tokens.Parse(o.Data)
		if err != nil {
			return nil, fmt.Errorf("the local file: %w", err)
		}
		o.Local = local
	}
	end := 0
	for _, b := range o.Batches {
		if b.Start != end || b.End <= b.Start || b.End > len(nodes) {
			return nil, fmt.Errorf("push: batch %d-%d does not follow %d of %d nodes", b.Start, b.End, end, len(nodes))
		}
		end = b.End
	}
	if len(o.Batches) > 0 && end != len(nodes) {
		return nil, fmt.Errorf("push: the batches cover %d of %d nodes", end, len(nodes))
	}
	return nodes, nil
}

// OK reports whether every node ended as the run meant (verified, or for a
// dry run what it would do) and the cluster, when asked, confirmed.
func (r Report) OK() bool {
	for _, res := range r.Results {
		if !res.Status.OK() {
			return false
		}
	}
	return r.ES.Confirmed()
}

// Count is how many nodes ended with each status.
func (r Report) Count() map[Status]int {
	n := map[Status]int{}
	for _, res := range r.Results {
		n[res.Status]++
	}
	return n
}

// Outcome is the run in one line, "3 updated, 1 failed": the report's last
// line and the audit record's outcome.
func (r Report) Outcome() string {
	count := r.Count()
	var parts []string
	for _, s := range Statuses {
		if n := count[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return strings.Join(parts, ", ")
}
