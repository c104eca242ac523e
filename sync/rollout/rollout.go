// Package rollout writes the local file to nodes batch by batch and, with
// an Elasticsearch cluster configured, proves that the cluster loaded it:
// each batch but the last is a gate (every node read back, and its
// Elasticsearch nodes list the change) that must pass before the next
// batch is touched; at the end the whole cluster is asked.
//
// It knows nothing of how a node is written: the caller's Writer writes a
// batch and says, per node, what the gates and the cluster must know.
package rollout

import (
	"context"
	"sort"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Plan is what a rollout needs besides the writing itself. It is built
// before anything is written, so that a bad setting changes nothing.
type Plan struct {
	Batches []Batch         // Batches; one batch of every node when empty
	ES      *elastic.Client // nil: gates are the read-back alone, nothing is confirmed
	Timeout time.Duration   // for each confirmation
	// All is the whole inventory: nodes outside the run are named to the
	// cluster by their es_node_name.
	All []*inventory.Node
}

// Written is what the rollout needs to know of one node once its batch
// was written.
type Written struct {
	Verified bool         // the node ended with the local file, read back
	Status   string       // its result in a word, for a gate's reason
	Changes  *tokens.Diff // what the write changed, by token name; nil: unknown
	Replaced time.Time    // when the new file was put in place; zero: not, or unknown
	// ESName is the node's Elasticsearch name, as found on the node
	// (esnode); "" when it was not read.
	ESName esnode.Name
}

// A Writer writes the nodes of one batch and reports them in order.
type Writer func(ctx context.Context, nodes []*inventory.Node) []Written

// Gate is one batch's gate.
type Gate struct {
	Batch  int
	Nodes  []string
	Passed bool
	Reason string
}

// Confirmation is the cluster's answer: the "elasticsearch" object of
// push, create and delete.
type Confirmation struct {
	*elastic.Outcome
}

// Confirmed reports whether the cluster part lets the run succeed: there
// was no cluster to ask, or it confirmed.
func (c *Confirmation) Confirmed() bool {
	return c == nil || c.Outcome == nil || c.Outcome.Confirmed
}

// Report is a rollout's outcome.
type Report struct {
	// Written has one entry per node, in node order; the nodes from
	// Reached on were not touched (a gate failed).
	Written []Written
	Reached int
	Gates   []Gate
	ES      *Confirmation // nil without Elasticsearch (or when a gate failed on the read-back)
}

// Run writes nodes as plan says. Nodes after a failed gate are not
// touched: Report.Reached says where it stopped.
func Run(ctx context.Context, nodes []*inventory.Node, write Writer, local *tokens.File, plan Plan) Report {
	batches := plan.Batches
	if len(batches) == 0 {
		batches = []Batch{{Start: 0, End: len(nodes)}}
	}
	r := &run{nodes: nodes, plan: plan, local: local, written: make([]Written, len(nodes)), reached: len(nodes)}
	for bi, b := range batches {
		copy(r.written[b.Start:], write(ctx, nodes[b.Start:b.End]))
		if bi == len(batches)-1 {
			break
		}
		g := r.gate(ctx, bi+1, b)
		r.gates = append(r.gates, g)
		if !g.Passed {
			r.reached = b.End
			return r.report()
		}
	}
	if plan.ES != nil {
		r.es = r.confirmAll(ctx)
	}
	return r.report()
}

// run is one rollout in progress.
type run struct {
	nodes   []*inventory.Node
	plan    Plan
	local   *tokens.File
	written []Written
	reached int
	gates   []Gate
	es      *Confirmation
}

func (r *run) report() Report {
	return Report{Written: r.written, Reached: r.reached, Gates: r.gates, ES: r.es}
}

// gate passes when every node of batch b read back what was written and,
// with Elasticsearch, their Elasticsearch nodes list the change.
func (r *run) gate(ctx context.Context, number int, b Batch) Gate {
	g := Gate{Batch: number, Passed: true}
	for i := b.Start; i < b.End; i++ {
		g.Nodes = append(g.Nodes, r.nodes[i].Name)
		if !r.written[i].Verified {
			g.Passed, g.Reason = false, r.nodes[i].Name+" "+r.written[i].Status
		}
	}
	if !g.Passed || r.plan.ES == nil {
		return g
	}
	want := WantOf(r.written[b.Start:b.End], r.local)
	names := r.names(b.End)
	tg := r.target(names, b.End)
	tg.Only = []string{}
	for i := b.Start; i < b.End; i++ {
		tg.Only = append(tg.Only, names.ESOf[r.nodes[i].Name])
	}
	out := r.plan.ES.Confirm(ctx, want, tg, r.plan.Timeout)
	if !out.Confirmed {
		g.Passed, g.Reason = false, "Elasticsearch did not confirm the batch"
		r.es = &Confirmation{Outcome: &out}
	}
	return g
}

// confirmAll asks the whole cluster whether it serves the local file:
// also when this run changed nothing, since a node whose file is right
// may still serve tokens it no longer has (its Elasticsearch did not
// reload it).
func (r *run) confirmAll(ctx context.Context) *Confirmation {
	want := WantOf(r.written, r.local)
	out := r.plan.ES.Confirm(ctx, want, r.target(r.names(len(r.nodes)), len(r.nodes)), r.plan.Timeout)
	return &Confirmation{Outcome: &out}
}

// names maps every inventory node to its Elasticsearch name: the nodes
// written so far (up to upto) as found on them, the others by es_node_name.
func (r *run) names(upto int) esnode.Mapping {
	var reached []esnode.Name
	for i := 0; i < upto; i++ {
		if n := r.written[i].ESName; n.ESName != "" {
			reached = append(reached, n)
		}
	}
	all := r.plan.All
	if all == nil {
		all = r.nodes
	}
	return esnode.Map(all, reached)
}

// target names the cluster's nodes and the likeliest cause for each one
// that may not confirm, given that nodes from upto on were not written.
func (r *run) target(m esnode.Mapping, upto int) elastic.Target {
	tg := elastic.Target{Inventory: map[string]string{}, Causes: map[string]remedy.Message{}, Unnamed: m.Unnamed}
	for es, name := range m.ByES {
		tg.Inventory[es] = name
		if m.Outside[es] {
			tg.Causes[es] = remedy.Sprintf("inventory node %s was not pushed (outside %v)", name, remedy.Limit)
		}
	}
	for i, n := range r.nodes {
		es := m.ESOf[n.Name]
		switch {
		case i >= upto:
			tg.Causes[es] = remedy.Text("inventory node " + n.Name + " was not pushed: the rollout stopped")
		case !r.written[i].Verified:
			tg.Causes[es] = remedy.Text("the push to " + n.Name + " did not succeed (" + r.written[i].Status + ")")
		default:
			// Read back equal to the local file: what it serves is not
			// what it has.
			tg.Causes[es] = remedy.Text("its file is right; Elasticsearch there has not reloaded it: look at that node's log, or restart it")
		}
		if t := r.written[i].Replaced; t.After(tg.Since) {
			tg.Since = t
		}
	}
	return tg
}

// WantOf is what the cluster must show after written: exactly the local
// file's tokens, and of them, what the run changed: the tokens added or
// changed on some node, and the ones removed, judged by the local file.
func WantOf(written []Written, local *tokens.File) elastic.Want {
	present, absent := map[string]bool{}, map[string]bool{}
	for _, w := range written {
		if w.Changes == nil || !w.Verified {
			continue
		}
		for _, k := range append(append([]string(nil), w.Changes.Added...), w.Changes.Changed...) {
			if _, ok := local.Hash(k); ok {
				present[k] = true
			}
		}
		for _, k := range w.Changes.Removed {
			if _, ok := local.Hash(k); !ok {
				absent[k] = true
			}
		}
	}
	return elastic.Want{Present: sorted(present), Absent: sorted(absent), File: append([]string{}, local.Keys()...)}
}

func sorted(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
