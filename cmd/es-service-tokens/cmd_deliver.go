package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
)

func (t *tool) deliver(c *cli.Context) error {
	bearer, q, cs, err := t.deliveryInput(c)
	if err != nil {
		return err
	}
	r, err := t.connect(c, nil)
	if err != nil {
		return err
	}
	defer r.close()
	r.inv = t.inv
	if err := r.dialer.Auth.PrepareConsumers(cs); err != nil {
		return err
	}
	proof, err := t.planProof(c, r.inv)
	if err != nil {
		return err
	}
	opts := deliver.Options{Consumers: cs, Bearer: bearer, Proof: proof, Dialer: r.dialer, Fleet: r.fleet,
		Proven: func() error { return t.beginDeliveryAudit(c, q) }}
	if loc, snap, err := t.loadLocal(c); err == nil {
		opts.Local, opts.File = snap.File, loc.File
	} else if !errors.Is(err, esconfig.ErrNoLocation) {
		return err
	}
	out, err := deliver.Run(r.ctx, opts)
	if nl, ok := errors.AsType[*deliver.NotLocalError](err); ok {
		return exit.Fail(exit.DataError, "the bearer token on standard input is not the secret of %s in %s (%v): nothing was delivered; give the bearer token create printed or wrote to its token file for the token now in %s", nl.Token, nl.File, nl.Err, nl.File)
	}
	if err != nil {
		return err
	}
	asJSON, _ := t.jsonOutput(c) // checked first
	d := output.Delivery{Token: q, Proof: out.Proof}
	if out.Attempted {
		t.audit.Delivered(out.Report)
		d.Report = &out.Report
		if missed := notDelivered(out.Report); len(missed) > 0 {
			d.Note = fmt.Sprintf("NOT DELIVERED to %s: once it is fixed, run, with the same bearer token on standard input: %s",
				strings.Join(missed, ", "), t.remedies(c, opts.File).DeliverTo(missed))
		}
	} else {
		d.Note = "NOT DELIVERED: not every node accepts this secret, and a consumer given it would fail there"
	}
	if err := output.Delivered(t.stdout, asJSON, d); err != nil {
		return err
	}
	if !out.OK() {
		return exit.Silent(exit.Failed)
	}
	if len(cs) == len(consumersOf(r.inv, q)) {
		t.forgetDelivered(c, q, bearer)
	}
	return nil
}

// deliveryInput checks deliver's command line and reads the bearer token
// on standard input: the secret, its token's name, and the consumers to
// give it to.
func (t *tool) deliveryInput(c *cli.Context) (bearer, token string, cs []*inventory.Consumer, err error) {
	if err = cmdline.NoArgs(c); err != nil {
		return
	}
	if _, err = t.jsonOutput(c); err != nil {
		return // before anything is delivered, not after
	}
	if err = t.needInventory(c); err != nil {
		return
	}
	inv, err := t.loadInventory(c)
	if err != nil {
		return
	}
	if bearer, err = t.readBearer(c, nil); err != nil {
		return
	}
	tok, perr := tokens.ParseBearer(bearer)
	if perr != nil {
		return "", "", nil, exit.Fail(exit.DataError, "standard input holds no service token (%v): give the bearer token create printed or wrote to its token file", perr)
	}
	token = tok.QualifiedName()
	cs, err = pickConsumers(inv, token, c.StringSlice("consumer"))
	return
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
		return nil, exit.Fail(exit.Config, "no consumer in %s uses %s: add one under consumers: with token: %s", inv.File, token, token)
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
			return nil, exit.Fail(exit.Usage, "--consumer %q: not a consumer of %s; its consumers: %s", safetext.Input(n), token, strings.Join(consumerNames(all), ", "))
		}
	}
	return out, nil
}

// notDelivered names the consumers a delivery left without the secret in
// use: a failed store, or one stored but not restarted or not healthy.
func notDelivered(rep deliver.Report) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Status() != deliver.Delivered {
			out = append(out, r.Consumer)
		}
	}
	return out
}
