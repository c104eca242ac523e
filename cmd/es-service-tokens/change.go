package main

// create -i and delete -i: the change pushed and seen through by
// change.Run, each step rendered as it ends and recorded.

import (
	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/sync/change"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// errUndone ends a create or delete whose change every node refused; the
// report said so already.
type errUndone struct{}

func (errUndone) Error() string { return "refused on every node: the local change was taken back" }

func (errUndone) Unwrap() error { return exit.Silent(exit.Failed) }

// publishChange pushes the change create or delete made and sees it
// through (change.Run), rendering each step as it ends.
func (t *tool) publishChange(c *cli.Context, r *remote, opts change.Options) error {
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	t.pushOptions(c, r, opts.File, &opts.Push)
	var renderErr error
	opts.Progress = func(step change.Step, rep *change.Report) {
		if err := t.renderChange(c, asJSON, opts, step, rep); err != nil && renderErr == nil {
			renderErr = err
		}
	}
	rep, err := change.Run(r.ctx, opts)
	if rep.KeptErr != nil {
		t.warn(c, "%v: remove it by hand", rep.KeptErr)
	}
	switch {
	case err != nil && exit.CodeOf(err) == exit.Failed:
		return exit.Fail(exit.CodeError, "%v", err) // the options: nothing was written
	case err != nil:
		return err
	case renderErr != nil:
		return renderErr
	case rep.Undone != nil:
		return errUndone{}
	case !rep.OK():
		return exit.Silent(exit.Failed)
	}
	return nil
}

// renderChange renders a step of a change as it ends, and records it.
func (t *tool) renderChange(c *cli.Context, asJSON bool, opts change.Options, step change.Step, rep *change.Report) error {
	cmds := t.remedies(c, opts.File)
	switch step {
	case change.StepPush:
		t.pushWarnings(c, rep.Push)
		if u := rep.Undone; u != nil && u.Err == nil {
			t.audit.RolledBack(opts.Change.Before.Data)
		}
		t.audit.Proved(rep.Proof)
		req := pushed(opts.Change.After, opts.Push.DryRun)
		end := output.ChangeEnd(cmds, rep, req.Local.Len() == 0, opts.Change.Before.File.Len() == 0)
		return output.Push(t.stdout, asJSON, opts.File, req, rep.Push, end)
	case change.StepDeliver:
		if rep.Delivery != nil {
			t.audit.Delivered(*rep.Delivery)
		}
		return output.Delivered(t.stdout, asJSON, output.CreatedDelivery(cmds, opts.Created.QualifiedName(), opts.TokenFile, rep))
	case change.StepRemove:
		rm := rep.Removal
		t.pushWarnings(c, rm.Push)
		t.audit.Removed(rm.Token, rm.Change.After)
		req := pushed(rm.Change.After, false)
		return output.Push(t.stdout, asJSON, opts.File, req, rm.Push, output.PlainEnd(cmds, rm.Push, req.Local.Len() == 0))
	}
	return nil
}

// pushed is what a report says was pushed: data, a file create or delete
// wrote (and so parses).
func pushed(data []byte, dryRun bool) push.Request {
	local, _ := tokens.Parse(data)
	if local == nil {
		local = tokens.NewFile()
	}
	return push.Request{Data: data, Local: local, DryRun: dryRun}
}

// remedies are the commands printed as the way on, with the run's
// inventory and file.
func (t *tool) remedies(c *cli.Context, file string) output.Commands {
	return output.Commands{Inventory: c.String("inventory"), File: file}
}
