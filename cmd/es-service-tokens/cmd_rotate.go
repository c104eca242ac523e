package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/sync/rotation"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// rotateMode checks the command line's shape: what to do, and to which
// tokens (the arguments, --consumer or --older-than).
func rotateMode(c *cli.Context) (rotate.Mode, error) {
	usage := cmdline.Usage(c.Command)
	n := 0
	for _, f := range []string{"consumer", "older-than"} {
		if c.IsSet(f) {
			n++
		}
	}
	switch {
	case c.Bool("finish") && c.Bool("abort"):
		return 0, &exit.Error{Code: exit.Usage, Msg: "--finish and --abort exclude each other: give one", Usage: usage}
	case n > 1 || n == 1 && c.Args().Len() > 0:
		return 0, &exit.Error{Code: exit.Usage, Msg: "give the token as <principal> <token-name>, or --consumer, or --older-than: one of them", Usage: usage}
	case n == 1 && (c.Bool("finish") || c.Bool("abort")):
		return 0, &exit.Error{Code: exit.Usage, Msg: "--finish and --abort act on one rotation: give its <principal> <token-name>", Usage: usage}
	case n == 0 && c.Args().Len() == 0:
		return 0, &exit.Error{Code: exit.Usage, Msg: "Missing service-account-principal and token-name arguments (or --consumer NAME, or --older-than AGE)", Usage: usage}
	case c.Duration("grace") < 0:
		return 0, exit.Fail(exit.Usage, "--grace %s: give a duration of 0 or more (5m, 1h)", c.Duration("grace"))
	}
	switch {
	case c.Bool("finish"):
		return rotate.Finish, nil
	case c.Bool("abort"):
		return rotate.Abort, nil
	}
	return rotate.Rotate, nil
}

// checkRotateArgs checks the token or the age the command line names, in
// Elasticsearch's order for a token, before the inventory is read.
func checkRotateArgs(c *cli.Context) error {
	switch {
	case c.IsSet("older-than"):
		if _, err := meta.ParseAge(c.String("older-than")); err != nil {
			return exit.Fail(exit.Usage, "--older-than: %v", err)
		}
	case !c.IsSet("consumer"):
		_, _, err := tokenArgs(c)
		return err
	}
	return nil
}

// pickRotations maps what the command line names (a token, --consumer or
// --older-than) to the run's options, and picks the tokens to rotate.
func (t *tool) pickRotations(c *cli.Context, s *rotateSetup) error {
	o := &s.opts
	switch {
	case c.IsSet("consumer"):
		name := c.String("consumer")
		for _, con := range s.r.inv.Consumers {
			if con.Name == name {
				o.Consumer = con
			}
		}
		if o.Consumer == nil {
			return exit.Fail(exit.Usage, "--consumer %q: no consumer of that name in %s; `nodes` lists them", safetext.Input(name), s.r.inv.File)
		}
	case c.IsSet("older-than"):
		o.OlderThan, _ = meta.ParseAge(c.String("older-than")) // checkRotateArgs checked it
	default:
		acct, name, err := tokenArgs(c)
		if err != nil {
			return err
		}
		o.Token = acct.Principal + "/" + name
	}
	var err error
	s.rots, s.skipped, err = rotation.Pick(*o)
	if _, ok := errors.AsType[*rotation.NoTokenError](err); ok {
		return exit.Fail(exit.CodeError, "%v", err)
	}
	return err
}

// stateDir is where a successor's secret is kept until it is delivered:
// $XDG_STATE_HOME/es-service-tokens, else ~/.local/state/es-service-tokens.
func (t *tool) stateDir() string {
	if d := t.getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "es-service-tokens")
	}
	return filepath.Join(t.home(), ".local", "state", "es-service-tokens")
}

// rotateSetup is a run's rotations and their options, checked before
// anything changes.
type rotateSetup struct {
	opts    rotation.Options
	rots    []rotation.Rotation
	skipped []string
	loc     esconfig.Location
	r       *remote
	asJSON  bool
}

// prepareRotate checks the command line, the inventory, the cluster
// settings, the keys and the token file before anything changes.
func (t *tool) prepareRotate(c *cli.Context) (*rotateSetup, error) {
	s := &rotateSetup{}
	var err error
	if s.opts.Mode, err = rotateMode(c); err != nil {
		return nil, err
	}
	if s.asJSON, err = t.jsonOutput(c); err != nil {
		return nil, err
	}
	if err := checkRotateArgs(c); err != nil {
		return nil, err
	}
	if err := t.needInventory(c); err != nil {
		return nil, err
	}
	if s.loc, err = t.location(c); err != nil {
		return nil, err
	}
	settings, err := t.settings(c, s.loc)
	if err != nil {
		return nil, err
	}
	if s.opts.Request.Algorithm, _, err = settings.HashingAlgorithm(t.getenv); err != nil {
		return nil, err
	}
	if s.r, err = t.remote(c); err != nil {
		return nil, err
	}
	t.rotateOptions(c, s)
	err = t.pickRotations(c, s)
	if err == nil {
		err = t.prepareRotateRemote(c, s)
	}
	if err != nil {
		s.r.close()
		return nil, err
	}
	return s, nil
}

// rotateOptions maps the command line and what remote prepared to the
// run's options.
func (t *tool) rotateOptions(c *cli.Context, s *rotateSetup) {
	r := s.r
	s.opts.File, s.opts.Same, s.opts.TokenFile = s.loc.File, sameLineage, c.String("token-file")
	s.opts.Push = push.Options{Request: push.Request{Force: c.Bool("force")}, Inventory: r.inv, Nodes: r.nodes,
		Dialer: r.dialer, Fleet: r.fleet, Me: t.lockHolder(), BreakLock: c.Bool("break-lock")}
	s.opts.Request.Random, s.opts.Request.Creator, s.opts.Request.Grace = t.random, t.creator(), c.Duration("grace")
	s.opts.Keep = rotate.StateDir{Dir: t.stateDir(), File: s.loc.File}
}

// prepareRotateRemote resolves the cluster (a rotation is proven there),
// loads the consumers' keys and checks --token-file.
func (t *tool) prepareRotateRemote(c *cli.Context, s *rotateSetup) error {
	cfg, ok, err := t.esConfig(c, s.r.inv)
	if err != nil {
		return err
	}
	if !ok {
		return exit.Fail(exit.Config, "a rotation proves the new token on every Elasticsearch node before anyone uses it, and that the old one is gone: give %s an elasticsearch section (url and credentials; node_url for proof by secret), or --es-url", s.r.inv.File)
	}
	if s.opts.ES, err = elastic.New(cfg); err != nil {
		return exit.Fail(exit.Config, "%v", err)
	}
	s.opts.ConfirmTimeout = cfg.ConfirmTimeout
	if s.opts.Proof, err = t.planProof(c, s.r.inv); err != nil {
		return err
	}
	tf := s.opts.TokenFile
	for _, rot := range s.rots {
		if s.opts.Mode != rotate.Rotate {
			continue // finish and abort deliver nothing
		}
		if err := s.r.dialer.Auth.PrepareConsumers(rot.Consumers); err != nil {
			return err
		}
		if tf != "" && len(rot.Consumers) > 0 {
			return exit.Fail(exit.Usage, "--token-file is for a rotation without consumers, and %s goes to %s: drop --token-file", rot.Token, strings.Join(consumerNames(rot.Consumers), ", "))
		}
	}
	if tf != "" {
		if _, err := os.Lstat(tf); err == nil {
			return exit.Fail(exit.CantCreate, "token file [%s] already exists; give a new path (a token file is never overwritten)", tf)
		}
		// The bearer is written at the hand-over, once the new token is
		// on every node: a path that cannot be made must stop the run now.
		if dir := filepath.Dir(tf); !isDir(dir) {
			return exit.Fail(exit.CantCreate, "cannot create token file [%s]: %s is not a directory; give a path in an existing directory (nothing was changed)", tf, dir)
		}
	}
	return nil
}

func (t *tool) rotate(c *cli.Context) error {
	s, err := t.prepareRotate(c)
	if err != nil {
		return err
	}
	defer s.r.close()
	cmds := t.remedies(c, s.loc.File)
	out := &output.Rotations{W: t.stdout, JSON: s.asJSON, File: s.loc.File, Cmds: cmds, Mode: s.opts.Mode, Batch: c.IsSet("older-than")}
	var last error
	opts := s.opts
	opts.HandOver = out.HandOver
	opts.Step = func(rep rotate.Report, d rotation.Detail) { t.rotateStep(c, s, out, rep, d) }
	opts.Done = func(rep rotate.Report, err error) {
		t.audit.Rotated(rep, err)
		explained := rotationError(cmds, err)
		out.End(rep, err, explained)
		switch {
		case err == nil:
		case output.FailedStep(rep, err):
			last = exit.Silent(exit.Failed)
		default:
			last = explained
		}
	}
	opts.Begin = func() error { return t.beginRotate(c, s) }
	rep, err := rotation.Run(s.r.ctx, opts, s.rots)
	switch {
	case errors.Is(err, rotation.ErrBusy):
		return exit.Fail(exit.Failed, "another rotate of %s runs on this host: let it end, then run this again", s.loc.File)
	case errors.As(err, new(*rotation.KeepError)):
		return exit.Fail(exit.IOError, "%v; set XDG_STATE_HOME to a directory of your own", err)
	case err != nil:
		return err
	}
	if err := out.Finish(); err != nil {
		return err
	}
	switch failed := rep.Failed(); {
	case failed == 1 && len(s.rots) == 1:
		return last
	case failed > 0:
		return exit.Silent(exit.Failed)
	}
	return nil
}

// beginRotate opens the audit record, once the run holds the state
// directory's lock, and says what --older-than leaves out.
func (t *tool) beginRotate(c *cli.Context, s *rotateSetup) error {
	if err := t.beginAudit(c, "rotate"); err != nil {
		return err
	}
	for _, tok := range s.skipped {
		t.notes().Notice("note", fmt.Sprintf("%s is older than %s but has no consumer in %s: rotate it by name, then switch what uses it and finish", tok, c.String("older-than"), s.r.inv.File))
	}
	if len(s.rots) == 0 && !s.asJSON {
		fmt.Fprintf(t.stdout, "no token older than %s has a consumer: nothing to rotate\n", c.String("older-than"))
	}
	return nil
}

// afterRotateStep, when set, runs after each step is reported: the tests
// kill the process there to prove that the next run continues.
var afterRotateStep func(rotate.Report)

// rotateStep records and reports a step that just ended.
func (t *tool) rotateStep(c *cli.Context, s *rotateSetup, out *output.Rotations, rep rotate.Report, d rotation.Detail) {
	if d.Push != nil {
		t.pushWarnings(c, *d.Push)
		t.audit.Pushed(s.loc.File, d.Request.Data, *d.Push)
	}
	if d.Delivery != nil {
		t.audit.Delivered(*d.Delivery)
	}
	out.Step(rep, d)
	if afterRotateStep != nil {
		afterRotateStep(rep)
	}
}

// rotationError is why a rotation could not go on, with the command that
// takes it on from the state it is in (output.RotationError), and its
// exit code.
func rotationError(cmds output.Commands, err error) error {
	se, ok := errors.AsType[*rotate.StateError](err)
	switch {
	case !ok:
		return err // nil, or a step's or the local file's
	case se.Problem == rotate.NoSuchToken:
		return exit.Fail(exit.CodeError, "Service token [%s] does not exist", se.Token)
	}
	return exit.Fail(exit.Failed, "%v", output.RotationError(cmds, se))
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
