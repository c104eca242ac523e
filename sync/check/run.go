package check

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Options are one check: the local file, the nodes, how to reach them,
// and the cluster to ask.
type Options struct {
	// Data is the local file; Local is Data parsed (Run parses it when
	// nil).
	Data  []byte
	Local *tokens.File
	// Inventory is the whole inventory; Nodes are the nodes to check
	// (nil: every node of Inventory).
	Inventory *inventory.Inventory
	Nodes     []*inventory.Node
	Dialer    *sshconn.Dialer
	Fleet     fleet.Options
	// ES, when set, is asked which tokens each Elasticsearch node has
	// loaded (Report.Coverage), waiting at most ConfirmTimeout; Principals
	// are the service accounts asked about (nil: every known one).
	ES             *elastic.Client
	ConfirmTimeout time.Duration
	Principals     []string
}

// Report is what a check found.
type Report struct {
	Results []Result // one per node, in node order
	Summary Summary
	// Coverage is the cluster's view, nil without ES; CoverageErr is why
	// the cluster could not be asked.
	Coverage    *elastic.Coverage
	CoverageErr error
	CheckedAt   time.Time
	Seconds     float64
}

// Run compares every node's file with the local one and, with ES, what
// each Elasticsearch node loaded. It writes nothing. Its error is about
// the options; what was found on the nodes is in the report.
func Run(ctx context.Context, opts Options) (Report, error) {
	nodes, err := opts.check()
	if err != nil {
		return Report{}, err
	}
	start := time.Now()
	k := &Checker{Dialer: opts.Dialer, Fleet: opts.Fleet}
	var names esnode.Found
	if opts.ES != nil {
		k.Inspect = names.Inspect
	}
	rep := Report{CheckedAt: start.UTC(), Results: k.Check(ctx, nodes, opts.Data, opts.Local)}
	rep.Summary = Summarize(rep.Results)
	if opts.ES != nil {
		reached := make([]esnode.Name, len(nodes))
		for i, n := range nodes {
			reached[i] = names.Of(n)
		}
		rep.Coverage, rep.CoverageErr = opts.coverage(ctx, reached)
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// coverage asks the cluster, naming the nodes checked as found on them
// and the others by es_node_name.
func (o *Options) coverage(ctx context.Context, reached []esnode.Name) (*elastic.Coverage, error) {
	all := nodesOf(o.Inventory)
	if all == nil {
		all = o.Nodes
	}
	m := esnode.Map(all, reached)
	tg := elastic.Target{Inventory: m.ByES, Outside: m.Outside, Unnamed: m.Unnamed}
	principals := o.Principals
	if principals == nil {
		for _, a := range tokens.Accounts() {
			principals = append(principals, a.Principal)
		}
	}
	timeout := o.ConfirmTimeout
	if timeout <= 0 {
		timeout = elastic.DefaultConfirmTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cov, err := o.ES.Coverage(ctx, o.Local.Keys(), principals, tg)
	if err != nil {
		return nil, err
	}
	return &cov, nil
}

// check fills in what Options leave out and refuses what cannot work.
func (o *Options) check() ([]*inventory.Node, error) {
	if o.Dialer == nil {
		return nil, errors.New("check: no Dialer to reach the nodes")
	}
	if o.Local == nil {
		local, err := tokens.Parse(o.Data)
		if err != nil {
			return nil, fmt.Errorf("the local file: %w", err)
		}
		o.Local = local
	}
	if o.Nodes != nil {
		return o.Nodes, nil
	}
	return nodesOf(o.Inventory), nil
}

func nodesOf(inv *inventory.Inventory) []*inventory.Node {
	if inv == nil {
		return nil
	}
	return inv.Nodes
}
