package elastic

import (
	"context"
	"errors"
	"sort"
	"time"
)

// CoverageNode is one Elasticsearch node as check sees it.
type CoverageNode struct {
	Node          string
	InventoryNode string
	InInventory   bool
	InCluster     bool
	Missing       []string // local tokens the node has not loaded
	Extra         []string // loaded tokens the local file lacks
}

// Drift reports whether the node differs from the local file.
func (n CoverageNode) Drift() bool {
	return !n.InInventory || !n.InCluster || len(n.Missing) > 0 || len(n.Extra) > 0
}

// Coverage is the cluster's view of the file tokens: check's
// "elasticsearch" object.
type Coverage struct {
	URL           string
	Scope         string
	AnsweringNode string
	Nodes         []CoverageNode
	FailedNodes   int
	Drift         bool
	Requests      int
	Seconds       float64
	// Unjudged are cluster nodes left out: the answering node of a
	// 7.13/7.14 cluster when it is outside the run's limit, or nodes that
	// may be inventory nodes outside it whose Elasticsearch names are unknown.
	Unjudged []string
	// Unnamed are those inventory nodes.
	Unnamed []string
}

// Coverage compares what every node of the cluster has loaded with local,
// the local file's qualified token names. principals are the service
// accounts to ask about (those unknown to the cluster's version are
// skipped). t.Inventory maps Elasticsearch node names to inventory node
// names; nodes in t.Outside are not judged, nor, when t.Unnamed is not
// empty, cluster nodes that may be those (a check of some nodes judges
// the nodes it reaches).
func (c *Client) Coverage(ctx context.Context, local, principals []string, t Target) (Coverage, error) {
	inventory := t.Inventory
	start, before := time.Now(), c.Requests()
	cov := Coverage{URL: c.URL(), Nodes: []CoverageNode{}}
	members, err := c.Nodes(ctx)
	if err != nil {
		return cov, err
	}
	loaded, err := c.loaded(ctx, principals, &cov)
	if err != nil {
		return cov, err
	}
	judged := members
	if cov.Scope == ScopeAnsweringNode {
		judged = []string{cov.AnsweringNode}
	} else {
		for es := range inventory {
			if !contains(members, es) {
				judged = append(judged, es)
			}
		}
	}
	inCluster := set(members)
	localSet := set(local)
	for _, es := range sortedUnique(judged) {
		if t.Outside[es] {
			if cov.Scope == ScopeAnsweringNode {
				// The only node this version reports is outside the limit:
				// nothing is judged, and the report must say so.
				cov.Unjudged = append(cov.Unjudged, es)
			}
			continue
		}
		inv, ok := inventory[es]
		if !ok && len(t.Unnamed) > 0 && inCluster[es] {
			cov.Unjudged = append(cov.Unjudged, es)
			continue
		}
		n := CoverageNode{Node: es, InventoryNode: inv, InInventory: ok, InCluster: inCluster[es], Missing: []string{}, Extra: []string{}}
		if n.InCluster {
			for _, tok := range local {
				if !loaded[es][tok] {
					n.Missing = append(n.Missing, tok)
				}
			}
			for tok := range loaded[es] {
				if !localSet[tok] {
					n.Extra = append(n.Extra, tok)
				}
			}
			sort.Strings(n.Extra)
		}
		cov.Drift = cov.Drift || n.Drift()
		cov.Nodes = append(cov.Nodes, n)
	}
	if len(cov.Unjudged) > 0 {
		cov.Unnamed = t.Unnamed
	}
	cov.Drift = cov.Drift || cov.FailedNodes > 0
	cov.Requests, cov.Seconds = c.Requests()-before, time.Since(start).Seconds()
	return cov, nil
}

// loaded asks which file tokens each node has loaded (node -> qualified
// token names), recording the scope and failed nodes in cov.
func (c *Client) loaded(ctx context.Context, principals []string, cov *Coverage) (map[string]map[string]bool, error) {
	loaded := map[string]map[string]bool{}
	cov.Scope = ScopeCluster
	for _, p := range principals {
		cr, err := c.Credentials(ctx, p)
		var ee *Error
		if errors.As(err, &ee) && (ee.Status == 400 || ee.Status == 404) {
			continue // an account this version does not have
		}
		if err != nil {
			return nil, err
		}
		cov.FailedNodes += cr.Failed
		cov.Scope, cov.AnsweringNode = cr.Scope, cr.AnsweringNode
		for name, nodes := range cr.FileTokens {
			for _, n := range nodes {
				if loaded[n] == nil {
					loaded[n] = map[string]bool{}
				}
				loaded[n][p+"/"+name] = true
			}
		}
	}
	return loaded, nil
}
