package main

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/localproc"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/nodelock"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
)

// runPush pushes opts' file to r's nodes (push.Run, with the command's
// options) and renders the report: the push command.
func (t *tool) runPush(c *cli.Context, r *remote, file string, opts push.Options) error {
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	t.pushOptions(c, r, file, &opts)
	rep, err := push.Run(r.ctx, opts)
	if err != nil {
		return exit.Fail(exit.CodeError, "%v", err)
	}
	t.pushWarnings(c, rep)
	if err := output.Push(t.stdout, asJSON, file, opts.Request, rep, output.PlainEnd(t.remedies(c, file), rep, opts.Local.Len() == 0)); err != nil {
		return err
	}
	if !rep.OK() {
		return exit.Silent(exit.Failed)
	}
	return nil
}

// pushOptions maps the command line and what remote prepared to opts.
// The audit hook records the push of opts.Data (a create or delete has
// recorded its local change already, which the record keeps).
func (t *tool) pushOptions(c *cli.Context, r *remote, file string, opts *push.Options) {
	opts.Inventory, opts.Nodes, opts.Dialer, opts.Fleet = r.inv, r.nodes, r.dialer, r.fleet
	opts.Me, opts.BreakLock = t.lockHolder(), c.Bool("break-lock")
	opts.DryRun, opts.Force = c.Bool("dry-run"), c.Bool("force")
	if r.rollout != nil {
		opts.Batches, opts.ES, opts.ConfirmTimeout = r.rollout.Batches, r.rollout.ES, r.rollout.Timeout
	}
	data := opts.Data
	opts.Audit = func(rep push.Report) { t.audit.Pushed(file, data, rep) }
}

// pushWarnings prints what each node warned of (a lock taken over).
func (t *tool) pushWarnings(c *cli.Context, rep push.Report) {
	for _, res := range rep.Results {
		for _, w := range res.Warnings {
			t.warn(c, "%s: %s", safetext.Escape(res.Node), w)
		}
	}
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

// push is the push command: the local file as it is, to every node.
func (t *tool) push(c *cli.Context) error {
	if err := cmdline.NoArgs(c); err != nil {
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
	return t.runPush(c, r, loc.File, push.Options{Request: push.Request{Data: snap.Data, Local: snap.File}})
}
