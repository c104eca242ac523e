// Package rollout writes the local file to nodes batch by batch and, with
// an Elasticsearch cluster configured, proves that the cluster loaded it:
// each batch but the last is a gate (every node read back, and its
// Elasticsearch nodes list the change) that must pass before the next
// batch is touched; at the end the whole cluster is asked.
package rollout

import (
	"context"
	"sort"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Plan is what a rollout needs besides the push itself. It is built
// before anything is written, so that a bad setting changes nothing.
type Plan struct {
	Batches []push.Batch    // push.Batches; one batch of every node when empty
	ES      *elastic.Client // nil: gates are the read-back alone, nothing is confirmed
	Timeout time.Duration   // for each confirmation
	Names   esnode.Mapping  // with ES: the Elasticsearch name of each node
}

// Gate is one batch's gate.
type Gate struct {
	Batch  int
	Nodes  []string
	Passed bool
	Reason string
}

// Confirmation is the cluster's answer: the Outcome, or a Note when there
// was nothing to ask: the "elasticsearch" object of push, create and
// delete.
type Confirmation struct {
	*elastic.Outcome
	Note string
}

// Confirmed reports whether the cluster part lets the run succeed: there
// was nothing to confirm, or everything was.
func (c *Confirmation) Confirmed() bool {
	return c == nil || c.Outcome == nil || c.Outcome.Confirmed
}

// Report is a rollout's outcome.
type Report struct {
	Results []push.Result // one per node, in node order
	Gates   []Gate
	ES      *Confirmation // nil without Elasticsearch (or when a gate failed on the read-back)
}

// Run pushes req to nodes as plan says. Nodes after a failed gate are
// reported push.Skipped and are not touched.
func Run(ctx context.Context, p *push.Pusher, nodes []*inventory.Node, req push.Request, local *tokens.File, plan Plan) Report {
	batches := plan.Batches
	if len(batches) == 0 {
		batches = []push.Batch{{Start: 0, End: len(nodes)}}
	}
	r := &run{nodes: nodes, plan: plan, local: local, results: make([]push.Result, len(nodes))}
	for bi, b := range batches {
		copy(r.results[b.Start:], p.Push(ctx, nodes[b.Start:b.End], req))
		if bi == len(batches)-1 {
			break
		}
		g := r.gate(ctx, bi+1, b)
		r.gates = append(r.gates, g)
		if !g.Passed {
			r.skipFrom(b.End)
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
	results []push.Result
	gates   []Gate
	es      *Confirmation
}

func (r *run) report() Report { return Report{Results: r.results, Gates: r.gates, ES: r.es} }

// gate passes when every node of batch b read back what was written and,
// with Elasticsearch, their Elasticsearch nodes list the change.
func (r *run) gate(ctx context.Context, number int, b push.Batch) Gate {
	g := Gate{Batch: number, Passed: true}
	for i := b.Start; i < b.End; i++ {
		g.Nodes = append(g.Nodes, r.nodes[i].Name)
		if !r.results[i].Status.Verified() {
			g.Passed, g.Reason = false, r.nodes[i].Name+" "+string(r.results[i].Status)
		}
	}
	if !g.Passed || r.plan.ES == nil {
		return g
	}
	want := WantOf(r.results[b.Start:b.End], r.local)
	if want.Empty() {
		return g
	}
	tg := r.target(b.End)
	tg.Only = []string{}
	for i := b.Start; i < b.End; i++ {
		tg.Only = append(tg.Only, r.plan.Names.ESOf[r.nodes[i].Name])
	}
	out := r.plan.ES.Confirm(ctx, want, tg, r.plan.Timeout)
	if !out.Confirmed {
		g.Passed, g.Reason = false, "Elasticsearch did not confirm the batch"
		r.es = &Confirmation{Outcome: &out}
	}
	return g
}

// confirmAll asks the whole cluster about everything the run changed.
func (r *run) confirmAll(ctx context.Context) *Confirmation {
	want := WantOf(r.results, r.local)
	if want.Empty() {
		return &Confirmation{Note: "nothing changed on any node: nothing to confirm"}
	}
	out := r.plan.ES.Confirm(ctx, want, r.target(len(r.nodes)), r.plan.Timeout)
	return &Confirmation{Outcome: &out}
}

// target names the cluster's nodes and the likeliest cause for each one
// that may not confirm, given that nodes from upto on were not pushed.
func (r *run) target(upto int) elastic.Target {
	m := r.plan.Names
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
		case !r.results[i].Status.Verified():
			tg.Causes[es] = remedy.Text("the push to " + n.Name + " did not succeed (" + string(r.results[i].Status) + ")")
		}
		if t := r.results[i].Replaced; t.After(tg.Since) {
			tg.Since = t
		}
	}
	return tg
}

// skipFrom reports the nodes from i on as not touched.
func (r *run) skipFrom(i int) {
	for ; i < len(r.nodes); i++ {
		n := r.nodes[i]
		r.results[i] = push.Result{Node: n.Name, Host: n.Host, Port: n.Port, Status: push.Skipped, Reason: remedy.Text("not touched: the rollout stopped at a failed gate")}
	}
}

// WantOf is what the cluster must show after results: the tokens added or
// changed on some node, and the ones removed, judged by the local file.
func WantOf(results []push.Result, local *tokens.File) elastic.Want {
	present, absent := map[string]bool{}, map[string]bool{}
	for _, r := range results {
		if r.Changes == nil || !r.Status.Verified() {
			continue
		}
		for _, k := range append(append([]string(nil), r.Changes.Added...), r.Changes.Changed...) {
			if _, ok := local.Hash(k); ok {
				present[k] = true
			}
		}
		for _, k := range r.Changes.Removed {
			if _, ok := local.Hash(k); !ok {
				absent[k] = true
			}
		}
	}
	return elastic.Want{Present: sorted(present), Absent: sorted(absent)}
}

func sorted(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
