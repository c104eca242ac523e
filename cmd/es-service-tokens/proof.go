package main

import (
	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
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
