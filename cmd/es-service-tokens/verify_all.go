package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
)

// verifyAllNodes is verify --all-nodes: the local verdict when there is a
// local file, then the token sent to each inventory node's own address,
// asking again those that refuse it until the confirm timeout. Exits 0
// only when every node with an address accepts it (and the local file
// does).
func (t *tool) verifyAllNodes(c *cli.Context, asJSON bool, bearer string) error {
	if err := t.needInventory(c); err != nil {
		return err
	}
	inv, err := t.loadInventory(c)
	if err != nil {
		return err
	}
	p, err := t.planProof(c, inv)
	if err != nil {
		return err
	}
	if p == nil {
		return fail(exitConfig, "no node of %s has an address: set elasticsearch.node_url (e.g. https://{host}:9200) or es_http_url per node", inv.File)
	}
	res, haveLocal, err := t.localVerdict(c, bearer)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p.Bearer = bearer
	proof, _ := prove.Run(ctx, *p) // planProof made sure a node has an address
	sp := &proof
	ok := proof.Accepted && (!haveLocal || res.Valid)
	if asJSON {
		res.AllNodes, res.Valid = proofOf(sp), ok
		if res.QualifiedName == "" {
			res.QualifiedName = proof.Token
		}
		if err := writeJSON(t.stdout, res); err != nil {
			return err
		}
	} else {
		if haveLocal {
			printLocalVerdict(t, res)
		}
		printProof(t.stdout, sp)
	}
	if !ok {
		return silentExit(exitFailed)
	}
	return nil
}

// localVerdict is verify's judgement by the local file; haveLocal is
// false when no local file is configured.
func (t *tool) localVerdict(c *cli.Context, bearer string) (verifyResult, bool, error) {
	loc, snap, err := t.loadLocal(c)
	if errors.Is(err, esconfig.ErrNoLocation) {
		return verifyResult{}, false, nil
	}
	if err != nil {
		return verifyResult{}, false, err
	}
	res := verifyResult{File: loc.File}
	var reason error
	res.QualifiedName, reason = tokens.Authenticate(bearer, snap.File, loc.File)
	if res.Valid = reason == nil; !res.Valid {
		res.Reason = reason.Error()
	}
	return res, true, nil
}

func printLocalVerdict(t *tool, res verifyResult) {
	switch {
	case res.Valid:
		fmt.Fprintf(t.stdout, "VALID %s in %s\n", res.QualifiedName, res.File)
	case res.QualifiedName == "": // not a service account token: no name to give
		fmt.Fprintf(t.stdout, "INVALID in %s: %s\n", res.File, res.Reason)
	default:
		fmt.Fprintf(t.stdout, "INVALID %s in %s: %s\n", res.QualifiedName, res.File, res.Reason)
	}
}
