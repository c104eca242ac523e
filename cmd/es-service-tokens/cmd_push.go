package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/localproc"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/nodelock"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// pushHooks are what a create or delete adds to a push.
type pushHooks struct {
	// prove, when not nil, proves a created token's secret on every node
	// after the push (and its confirmation); the run fails unless every
	// node accepts it.
	prove func(push.Report) *secretProof
	// undo, when not nil, takes the local change back when every node
	// refused it (see undoIfRefused).
	undo func(push.Report) *undone
}

// runPush pushes opts' file to r's nodes (push.Run, with the command's
// options) and renders the report, with what hooks add.
func (t *tool) runPush(c *cli.Context, r *remote, file string, opts push.Options, hooks pushHooks) error {
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	opts.Inventory, opts.Nodes, opts.Dialer, opts.Fleet = r.inv, r.nodes, r.dialer, r.fleet
	opts.Me, opts.BreakLock = t.lockHolder(), c.Bool("break-lock")
	opts.DryRun, opts.Force = c.Bool("dry-run"), c.Bool("force")
	if r.rollout != nil {
		opts.Batches, opts.ES, opts.ConfirmTimeout = r.rollout.Batches, r.rollout.ES, r.rollout.Timeout
	}
	opts.Audit = func(rep push.Report) { t.audit.pushed(file, opts.Data, rep) }
	rep, err := push.Run(r.ctx, opts)
	if err != nil {
		return fail(exitCodeError, "%v", err)
	}
	for _, res := range rep.Results {
		for _, w := range res.Warnings {
			t.warn(c, "%s: %s", safetext.Escape(res.Node), w)
		}
	}
	var und *undone
	if hooks.undo != nil {
		und = hooks.undo(rep)
	}
	finish, complete := "", ""
	switch {
	case und != nil:
		// Taken back, the removed tokens are in the local file again:
		// there is no revocation to finish.
		rep.StillAccepted = nil
	case len(rep.StillAccepted) > 0:
		finish = pushCommand(c, file, unrevokedNodes(rep.StillAccepted), opts.Local.Len() == 0)
	case hooks.undo != nil && !opts.DryRun:
		complete = completeRemedy(c, file, rep.Results, opts.Local.Len() == 0)
	}
	ok := rep.OK()
	var proof *secretProof
	if hooks.prove != nil && !opts.DryRun && und == nil {
		proof = hooks.prove(rep)
		ok = ok && proof.Accepted
	}
	if asJSON {
		doc := pushJSON(file, opts, rep, finish, proof)
		if und != nil {
			doc.Undone, doc.Remedies = und.note, und.remedies
		}
		if complete != "" {
			doc.Remedies = []string{complete}
		}
		if err := writeJSON(t.stdout, doc); err != nil {
			return err
		}
	} else {
		t.printPush(t.stdout, file, opts.Request, rep)
		printStillAccepted(t.stdout, rep.StillAccepted, finish)
		printUndone(t.stdout, und)
		if complete != "" {
			fmt.Fprintln(t.stdout, complete)
		}
		printES(t.stdout, rep.Gates, rep.ES, wroteANode(rep.Results))
		printProof(t.stdout, proof)
	}
	switch {
	case und != nil:
		return errUndone{}
	case !ok:
		return silentExit(exitFailed)
	}
	return nil
}

// wroteANode reports whether a node was written (its file replaced, or
// its attributes fixed): the confirmation's seconds count from then.
func wroteANode(results []push.Result) bool {
	for _, r := range results {
		if r.Status == push.Updated || r.Status == push.Fixed {
			return true
		}
	}
	return false
}

// lockHolder is who this run is, as written into the lock it takes on
// each node: the node's other writers see it in "locked by ...", and a
// later run on this host can prove it ended (HostID, ProcStart).
func (t *tool) lockHolder() nodelock.Holder {
	host, _ := os.Hostname()
	self := localproc.Self()
	return nodelock.Holder{User: t.login(), Host: host, PID: self.PID, Started: time.Now().UTC().Truncate(time.Second),
		HostID: self.HostID, ProcStart: self.Start}
}

// unrevokedNodes are the nodes where a revocation did not happen: the
// push that finishes it goes to them (pushCommand).
func unrevokedNodes(still []push.Unrevoked) []string {
	nodes := make([]string, len(still))
	for i, u := range still {
		nodes[i] = u.Node
	}
	return nodes
}

// pushAfterChange pushes the file create or delete just wrote, parsed
// once here; the file before the change tells a node that still holds it
// from one someone else edited.
func (t *tool) pushAfterChange(c *cli.Context, p *remote, loc esconfig.Location, ch store.Change, prove func(push.Report) *secretProof) error {
	local, err := tokens.Parse(ch.After)
	if err != nil {
		return fail(exitDataError, "%s: %v", loc.File, err)
	}
	before := ch.Before.Data
	if before == nil {
		before = []byte{} // no file before: Before is empty, not nil (a plain push)
	}
	removed := tokens.Compare(ch.Before.File, local).Removed
	undo := func(rep push.Report) *undone { return t.undoIfRefused(c, loc, ch, rep) }
	return t.runPush(c, p, loc.File, push.Options{Request: push.Request{Data: ch.After, Local: local, Before: before}, Removed: removed}, pushHooks{prove: prove, undo: undo})
}

func (t *tool) pushCommand() *cli.Command {
	return command("push", " ", "Copy the local file to every node: atomic, verified, owner, group and mode enforced",
		"Exit codes: 0 every node verified, 1 a node failed or conflicted, 64 usage,\n"+
			"65 the local file is malformed, 78 the inventory is invalid.\n"+
			"Example:\n   es-service-tokens -i cluster.yml push --limit 'hot,!es-3' --dry-run",
		t.push, nodeFlags(true, &cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "connect and show what would change, by token name; write nothing"})...)
}

// push is the push command: the local file as it is, to every node.
func (t *tool) push(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if err := t.needInventory(c); err != nil {
		return err
	}
	loc, snap, err := t.localFile(c, "nothing to push (create a token first, or pull one from a node)")
	if err != nil {
		return err
	}
	r, err := t.writingRemote(c)
	if err != nil {
		return err
	}
	defer r.close()
	if !c.Bool("dry-run") {
		if err := t.beginAudit(c, "push"); err != nil {
			return err
		}
	}
	return t.runPush(c, r, loc.File, push.Options{Request: push.Request{Data: snap.Data, Local: snap.File}}, pushHooks{})
}
