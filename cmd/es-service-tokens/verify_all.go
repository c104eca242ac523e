package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
)

// verifyAllNodes is verify --all-nodes: the local verdict when there is a
// local file, then the token sent to each inventory node's own address,
// asking again those that refuse it until the confirm timeout. Exits 0
// only when every node with an address accepts it (and the local file
// does).
func (t *tool) verifyAllNodes(c *cli.Context, bearer string) (output.Verdicts, error) {
	var v output.Verdicts
	if err := t.needInventory(c); err != nil {
		return v, err
	}
	inv, err := t.loadInventory(c)
	if err != nil {
		return v, err
	}
	p, err := t.planProof(c, inv)
	if err != nil {
		return v, err
	}
	if p == nil {
		return v, exit.Fail(exit.Config, "no node of %s has an address: set elasticsearch.node_url (e.g. https://{host}:9200) or es_http_url per node", inv.File)
	}
	v.Local, err = t.localVerdict(c, bearer)
	if err != nil && !errors.Is(err, esconfig.ErrNoLocation) {
		return v, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p.Bearer = bearer
	proof, _ := prove.Run(ctx, *p) // planProof made sure a node has an address
	v.AllNodes = &proof
	return v, nil
}

// localVerdict is verify's judgement by the local file; nil, with
// esconfig.ErrNoLocation, when no local file is configured.
func (t *tool) localVerdict(c *cli.Context, bearer string) (*output.LocalVerdict, error) {
	loc, snap, err := t.loadLocal(c)
	if err != nil {
		return nil, err
	}
	v := &output.LocalVerdict{File: loc.File}
	v.Token, v.Err = tokens.Authenticate(bearer, snap.File, loc.File)
	return v, nil
}
