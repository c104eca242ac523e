package main

import (
	"errors"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
)

// esConfig resolves the Elasticsearch settings; ok is false when none are
// configured.
func (t *tool) esConfig(c *cli.Context, inv *inventory.Inventory) (elastic.Config, bool, error) {
	return t.resolveES(c, inv, false)
}

// resolveES is esConfig; with optionalCredentials, a cluster without
// configured credentials resolves to none (verify sends the token alone).
func (t *tool) resolveES(c *cli.Context, inv *inventory.Inventory, optionalCredentials bool) (elastic.Config, bool, error) {
	timeout := c.Duration("confirm-timeout")
	if c.IsSet("confirm-timeout") && timeout <= 0 {
		return elastic.Config{}, false, exit.Fail(exit.Usage, "--confirm-timeout %s: give a positive duration (30s, 2m) or a number of seconds", timeout)
	}
	if c.String("es-url") == "" && (c.IsSet("es-ca") || c.IsSet("es-insecure-http")) && (inv == nil || inv.Elasticsearch == nil) {
		return elastic.Config{}, false, exit.Fail(exit.Usage, "--es-ca and --es-insecure-http need --es-url or the inventory's elasticsearch section")
	}
	src := elastic.Sources{URL: c.String("es-url"), CA: c.String("es-ca"), InsecureHTTP: c.Bool("es-insecure-http"), Timeout: timeout, Getenv: t.getenv, CredentialsOptional: optionalCredentials}
	if inv != nil {
		src.Inventory = inv.Elasticsearch
	}
	cfg, err := elastic.Resolve(src)
	if errors.Is(err, elastic.ErrNotConfigured) {
		if timeout > 0 || c.IsSet("no-confirm") {
			return cfg, false, exit.Fail(exit.Usage, "--confirm-timeout and --no-confirm need --es-url or the inventory's elasticsearch section")
		}
		return cfg, false, nil
	}
	if err != nil {
		return cfg, false, exit.Fail(exit.Config, "%v", err)
	}
	return cfg, true, nil
}

// planRollout builds the batches and the cluster client before anything is
// written, so that a bad setting changes nothing.
func (t *tool) planRollout(c *cli.Context, r *remote) (*rollout.Plan, error) {
	batches, err := rollout.Batches(len(r.nodes), c.Int("canary"), c.String("batch"))
	if err != nil {
		return nil, exit.Fail(exit.Usage, "%v", err)
	}
	p := &rollout.Plan{Batches: batches}
	if c.Bool("no-confirm") || c.Bool("dry-run") {
		_, _, err := t.esConfig(c, r.inv) // its settings are still checked
		return p, err
	}
	if p.ES, p.Timeout, err = t.esClient(c, r.inv); err != nil {
		return nil, err
	}
	return p, nil
}

// esClient is the cluster's client, nil when no cluster is configured,
// and how long to wait for its answers.
func (t *tool) esClient(c *cli.Context, inv *inventory.Inventory) (*elastic.Client, time.Duration, error) {
	cfg, ok, err := t.esConfig(c, inv)
	if err != nil || !ok {
		return nil, 0, err
	}
	es, err := elastic.New(cfg)
	if err != nil {
		return nil, 0, exit.Fail(exit.Config, "%v", err)
	}
	return es, cfg.ConfirmTimeout, nil
}
