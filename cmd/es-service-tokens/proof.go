package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
)

// planProof prepares the proof by secret before anything changes: the
// cluster's trust and the inventory's nodes; nil when no node has an
// address, or with --no-confirm or --dry-run.
func (t *tool) planProof(c *cli.Context, inv *inventory.Inventory) (*prove.Options, error) {
	if c.Bool("no-confirm") || c.Bool("dry-run") || !prove.Addressed(inv.Nodes) {
		return nil, nil
	}
	// The token is its own credential: the cluster's address and trust are
	// enough, admin credentials are not needed.
	cfg, ok, err := t.resolveES(c, inv, true)
	if err != nil {
		return nil, err
	}
	if !ok {
		cfg = elastic.Config{ConfirmTimeout: elastic.DefaultConfirmTimeout}
	}
	return &prove.Options{Config: cfg, Nodes: inv.Nodes}, nil
}

// proveAfterPush proves bearer on every node after a push: since is the
// last rename, and the push's confirmation tells which nodes list the
// token by name.
func proveAfterPush(ctx context.Context, p prove.Options, bearer string, rep push.Report) *prove.Report {
	for _, res := range rep.Results {
		if res.Replaced.After(p.Since) {
			p.Since = res.Replaced
		}
	}
	if rep.ES != nil {
		p.Listed = rep.ES.Outcome
	}
	p.Bearer = bearer
	proof, _ := prove.Run(ctx, p) // planProof made sure a node has an address
	return &proof
}
