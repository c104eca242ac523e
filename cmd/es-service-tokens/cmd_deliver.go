package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

func (t *tool) deliver(c *cli.Context) error {
	if err := cmdline.NoArgs(c); err != nil {
		return err
	}
	if _, err := t.jsonOutput(c); err != nil {
		return err // before anything is delivered, not after
	}
	if err := t.needInventory(c); err != nil {
		return err
	}
	inv, err := t.loadInventory(c)
	if err != nil {
		return err
	}
	bearer, err := t.readBearer(c, nil)
	if err != nil {
		return err
	}
	tok, err := tokens.ParseBearer(bearer)
	if err != nil {
		return fail(exitDataError, "standard input holds no service token (%v): give the bearer token create printed or wrote to its token file", err)
	}
	q := tok.QualifiedName()
	cs, err := pickConsumers(inv, q, c.StringSlice("consumer"))
	if err != nil {
		return err
	}
	r, err := t.connect(c, nil)
	if err != nil {
		return err
	}
	defer r.close()
	r.inv = inv
	if err := r.dialer.Auth.PrepareConsumers(cs); err != nil {
		return err
	}
	proof, err := t.planProof(c, r.inv)
	if err != nil {
		return err
	}
	out, err := deliver.Run(r.ctx, deliver.Options{Consumers: cs, Bearer: bearer, Proof: proof, Dialer: r.dialer, Fleet: r.fleet,
		Proven: func() error { return t.beginDeliveryAudit(c, q) }})
	if err != nil {
		return err
	}
	asJSON, _ := t.jsonOutput(c) // checked first
	d := output.Delivery{Token: q, Proof: out.Proof}
	if !out.Attempted {
		d.Note = "NOT DELIVERED: not every node accepts this secret, and a consumer given it would fail there"
		if err := output.Delivered(t.stdout, asJSON, d); err != nil {
			return err
		}
		return silentExit(exitFailed)
	}
	t.audit.Delivered(out.Report)
	d.Report = &out.Report
	if err := output.Delivered(t.stdout, asJSON, d); err != nil {
		return err
	}
	if !out.OK() {
		return silentExit(exitFailed)
	}
	return nil
}

// beginDeliveryAudit opens the audit record of a delivery of token, once
// its secret is proven and before any consumer is written.
func (t *tool) beginDeliveryAudit(c *cli.Context, token string) error {
	if err := t.beginAudit(c, "deliver"); err != nil {
		return err
	}
	t.audit.Rec.Token = token
	return nil
}

// pickConsumers are the consumers of token, or those of them named.
func pickConsumers(inv *inventory.Inventory, token string, names []string) ([]*inventory.Consumer, error) {
	all := consumersOf(inv, token)
	if len(all) == 0 {
		return nil, fail(exitConfig, "no consumer in %s uses %s: add one under consumers: with token: %s", inv.File, token, token)
	}
	if len(names) == 0 {
		return all, nil
	}
	var out []*inventory.Consumer
	for _, n := range names {
		found := false
		for _, c := range all {
			if c.Name == n {
				out, found = append(out, c), true
			}
		}
		if !found {
			return nil, fail(exitUsage, "--consumer %q: not a consumer of %s; its consumers: %s", safetext.Input(n), token, strings.Join(consumerNames(all), ", "))
		}
	}
	return out, nil
}
