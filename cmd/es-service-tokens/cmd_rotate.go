package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

func (t *tool) rotateCommand() *cli.Command {
	return command("rotate", "[<principal> <token-name>]", "Replace a token with a new one, without an outage",
		"Creates the successor (the name plus a UTC time), pushes it and proves that every\n"+
			"Elasticsearch node accepts its secret, delivers it to the token's consumers\n"+
			"(restart, health), waits --grace, then removes the old token from every node.\n"+
			"Without consumers it stops once the successor is proven and prints it (or writes\n"+
			"--token-file); switch what uses the token, then run rotate --finish. Killed or\n"+
			"failed, the same command continues where it stopped.\n"+
			"Exit codes: 0 done (or waiting for --finish), 1 a step failed, 64 usage, 70 no such token.\n"+
			"Example:\n   es-service-tokens -i cluster.yml rotate elastic/kibana kibana-1 --grace 5m\n"+
			"   es-service-tokens -i cluster.yml rotate --older-than 90d",
		t.rotate, rotateFlags()...)
}

// rotateFlags are rotate's own options, then those of a command that
// writes nodes and asks Elasticsearch, less the ones that would leave some
// node out: a rotation is proven on every node, or not at all.
func rotateFlags() []cli.Flag {
	own := []cli.Flag{
		&cli.StringFlag{Name: "consumer", Usage: "rotate the token that the inventory's consumer `NAME` uses"},
		&cli.StringFlag{Name: "older-than", Usage: "rotate every token older than `AGE` (90d, 12w) that has a consumer"},
		&cli.BoolFlag{Name: "finish", Usage: "remove the old token, once what used it runs with the new one handed over"},
		&cli.BoolFlag{Name: "abort", Usage: "remove the new token of a rotation that reached nobody yet"},
		&cli.DurationFlag{Name: "grace", Usage: "wait `DURATION` after the consumers switched, before the old token goes"},
		tokenFileFlag(),
	}
	var out []cli.Flag
	for _, f := range nodeFlags(true, own...) {
		switch f.Names()[0] {
		case "limit", "canary", "batch", "no-confirm":
			continue
		}
		out = append(out, f)
	}
	return out
}

// rotation is one token to rotate and who uses it.
type rotation struct {
	token     string
	consumers []*inventory.Consumer
}

// rotateMode checks the command line's shape: what to do, and to which
// tokens (the arguments, --consumer or --older-than).
func rotateMode(c *cli.Context) (rotate.Mode, error) {
	usage := usageLine(c.Command)
	n := 0
	for _, f := range []string{"consumer", "older-than"} {
		if c.IsSet(f) {
			n++
		}
	}
	switch {
	case c.Bool("finish") && c.Bool("abort"):
		return 0, &exitError{code: exitUsage, msg: "--finish and --abort exclude each other: give one", usage: usage}
	case n > 1 || n == 1 && c.Args().Len() > 0:
		return 0, &exitError{code: exitUsage, msg: "give the token as <principal> <token-name>, or --consumer, or --older-than: one of them", usage: usage}
	case n == 1 && (c.Bool("finish") || c.Bool("abort")):
		return 0, &exitError{code: exitUsage, msg: "--finish and --abort act on one rotation: give its <principal> <token-name>", usage: usage}
	case n == 0 && c.Args().Len() == 0:
		return 0, &exitError{code: exitUsage, msg: "Missing service-account-principal and token-name arguments (or --consumer NAME, or --older-than AGE)", usage: usage}
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
			return fail(exitUsage, "--older-than: %v", err)
		}
	case !c.IsSet("consumer"):
		_, _, err := tokenArgs(c)
		return err
	}
	return nil
}

// rotations are the tokens the command line names, each with the
// inventory's consumers of it (by lineage: a consumer keeps naming the
// token it was first given).
func (t *tool) rotations(c *cli.Context, file string, inv *inventory.Inventory) ([]rotation, []string, error) {
	switch {
	case c.IsSet("consumer"):
		r, err := byConsumer(c.String("consumer"), file, inv)
		return []rotation{r}, nil, err
	case c.IsSet("older-than"):
		return olderThan(c, file, inv)
	}
	acct, name, err := tokenArgs(c)
	if err != nil {
		return nil, nil, err
	}
	q := acct.Principal + "/" + name
	return []rotation{{token: q, consumers: consumersOf(inv, q)}}, nil, nil
}

// byConsumer is the token consumer name uses now: the one of its lineage
// in the local file, or the old token of the rotation of it under way.
func byConsumer(name, file string, inv *inventory.Inventory) (rotation, error) {
	var con *inventory.Consumer
	for _, c := range inv.Consumers {
		if c.Name == name {
			con = c
		}
	}
	if con == nil {
		return rotation{}, fail(exitUsage, "--consumer %q: no consumer of that name in %s; `nodes` lists them", safetext.Input(name), inv.File)
	}
	snap, m, err := loadWithMeta(file)
	if err != nil {
		return rotation{}, err
	}
	for _, k := range snap.Keys() {
		if meta.Lineage(k) != meta.Lineage(con.Token) {
			continue
		}
		if rec, _ := m.Get(k); rec.RotatedFrom != "" && rec.Phase != meta.Done {
			k = rec.RotatedFrom // a rotation under way: it is continued by its old token's name
		}
		return rotation{token: k, consumers: consumersOf(inv, k)}, nil
	}
	return rotation{}, fail(exitCodeError, "consumer %s uses %s, and %s holds no token of that name (nor a rotation of it): create it, or fix the consumer's token", name, con.Token, file)
}

// olderThan are the tokens older than --older-than that have consumers;
// skipped names the old ones without, which only a rotation by name (and
// a switch by hand) renews.
func olderThan(c *cli.Context, file string, inv *inventory.Inventory) ([]rotation, []string, error) {
	age, err := meta.ParseAge(c.String("older-than"))
	if err != nil {
		return nil, nil, fail(exitUsage, "--older-than: %v", err)
	}
	f, m, err := loadWithMeta(file)
	if err != nil {
		return nil, nil, err
	}
	var out []rotation
	var skipped []string
	for _, o := range meta.Judge(f, m, time.Now(), age).Over {
		if rec, _ := m.Get(o.Token); rec.RotatedFrom != "" && rec.Phase != meta.Done {
			continue // the successor of a rotation under way: its predecessor is the one to continue
		}
		if cs := consumersOf(inv, o.Token); len(cs) > 0 {
			out = append(out, rotation{token: o.Token, consumers: cs})
		} else {
			skipped = append(skipped, o.Token)
		}
	}
	return out, skipped, nil
}

// loadWithMeta reads the local file and its metadata, which a rotation
// needs whole.
func loadWithMeta(file string) (*tokens.File, *meta.Set, error) {
	snap, err := store.Load(file)
	if err != nil {
		return nil, nil, err
	}
	m, err := store.LoadMeta(file)
	if err != nil {
		return nil, nil, err
	}
	return snap.File, m.Set, nil
}

// stateDir is where a successor's secret is kept until it is delivered:
// $XDG_STATE_HOME/es-service-tokens, else ~/.local/state/es-service-tokens.
func (t *tool) stateDir() string {
	if d := t.getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "es-service-tokens")
	}
	return filepath.Join(t.home(), ".local", "state", "es-service-tokens")
}

// rotateSetup is what every rotation of a run shares, checked before
// anything changes.
type rotateSetup struct {
	mode   rotate.Mode
	loc    esconfig.Location
	alg    tokens.Algorithm
	r      *remote
	es     *elastic.Client
	cfg    elastic.Config
	proof  *prove.Options
	keep   rotate.StateDir
	asJSON bool
	// esNames maps inventory nodes to Elasticsearch names, read once.
	esNames *esnode.Mapping
}

// prepareRotate checks the command line, the inventory, the cluster
// settings, the keys and the token file before anything changes.
func (t *tool) prepareRotate(c *cli.Context) (*rotateSetup, []rotation, []string, error) {
	s := &rotateSetup{}
	var err error
	if s.mode, err = rotateMode(c); err != nil {
		return nil, nil, nil, err
	}
	if s.asJSON, err = t.jsonOutput(c); err != nil {
		return nil, nil, nil, err
	}
	if err := checkRotateArgs(c); err != nil {
		return nil, nil, nil, err
	}
	if err := t.needInventory(c); err != nil {
		return nil, nil, nil, err
	}
	if s.loc, err = t.location(c); err != nil {
		return nil, nil, nil, err
	}
	settings, err := t.settings(c, s.loc)
	if err != nil {
		return nil, nil, nil, err
	}
	if s.alg, _, err = settings.HashingAlgorithm(t.getenv); err != nil {
		return nil, nil, nil, err
	}
	if s.r, err = t.remote(c); err != nil {
		return nil, nil, nil, err
	}
	rots, skipped, err := t.rotations(c, s.loc.File, s.r.inv)
	if err == nil {
		err = t.prepareRotateRemote(c, s, rots)
	}
	if err != nil {
		s.r.close()
		return nil, nil, nil, err
	}
	return s, rots, skipped, nil
}

// prepareRotateRemote resolves the cluster (a rotation is proven there),
// loads the consumers' keys and checks --token-file.
func (t *tool) prepareRotateRemote(c *cli.Context, s *rotateSetup, rots []rotation) error {
	cfg, ok, err := t.esConfig(c, s.r.inv)
	if err != nil {
		return err
	}
	if !ok {
		return fail(exitConfig, "a rotation proves the new token on every Elasticsearch node before anyone uses it, and that the old one is gone: give %s an elasticsearch section (url and credentials; node_url for proof by secret), or --es-url", s.r.inv.File)
	}
	if s.es, err = elastic.New(cfg); err != nil {
		return fail(exitConfig, "%v", err)
	}
	s.cfg = cfg
	if s.proof, err = t.planProof(c, s.r.inv); err != nil {
		return err
	}
	for _, rot := range rots {
		if s.mode != rotate.Rotate {
			continue // finish and abort deliver nothing
		}
		if err := prepareConsumerKeys(s.r.dialer.Auth, rot.consumers); err != nil {
			return err
		}
		if tf := c.String("token-file"); tf != "" && len(rot.consumers) > 0 {
			return fail(exitUsage, "--token-file is for a rotation without consumers, and %s goes to %s: drop --token-file", rot.token, strings.Join(consumerNames(rot.consumers), ", "))
		}
	}
	if tf := c.String("token-file"); tf != "" {
		if _, err := os.Lstat(tf); err == nil {
			return fail(exitCantCreate, "token file [%s] already exists; give a new path (a token file is never overwritten)", tf)
		}
	}
	s.keep = rotate.StateDir{Dir: t.stateDir(), File: s.loc.File}
	return nil
}

func (t *tool) rotate(c *cli.Context) error {
	s, rots, skipped, err := t.prepareRotate(c)
	if err != nil {
		return err
	}
	defer s.r.close()
	unlock, busy, err := s.keep.Lock()
	if err != nil {
		return fail(exitIOError, "cannot keep the new token's secret for a later run: %v; set XDG_STATE_HOME to a directory of your own", err)
	}
	if busy {
		return fail(exitFailed, "another rotate of %s runs on this host: let it end, then run this again", s.loc.File)
	}
	defer unlock()
	if err := t.beginAudit(c, "rotate"); err != nil {
		return err
	}
	out := &rotateOutput{t: t, c: c, s: s, batch: c.IsSet("older-than")}
	for _, tok := range skipped {
		t.notice("note", fmt.Sprintf("%s is older than %s but has no consumer in %s: rotate it by name, then switch what uses it and finish", tok, c.String("older-than"), s.r.inv.File))
	}
	if len(rots) == 0 && !s.asJSON {
		fmt.Fprintf(t.stdout, "no token older than %s has a consumer: nothing to rotate\n", c.String("older-than"))
	}
	failed := 0
	var last error
	for _, rot := range rots {
		if err := t.rotateOne(c, s, rot, out); err != nil {
			failed++
			last = err
		}
	}
	if err := out.finish(); err != nil {
		return err
	}
	if failed == 1 && len(rots) == 1 {
		return last
	}
	if failed > 0 {
		return silentExit(exitFailed)
	}
	return nil
}

// rotateOne runs one rotation and reports it.
func (t *tool) rotateOne(c *cli.Context, s *rotateSetup, rot rotation, out *rotateOutput) error {
	steps := &rotationSteps{t: t, c: c, s: s, token: rot.token, consumers: rot.consumers, out: out}
	req := rotate.Request{File: s.loc.File, Token: rot.token, Mode: s.mode, Consumers: consumerNames(rot.consumers),
		Algorithm: s.alg, Random: t.random, Creator: t.creator(), Grace: c.Duration("grace"), Progress: steps.progress}
	rep, err := rotate.Run(s.r.ctx, req, steps, s.keep)
	t.audit.rotated(rep, err)
	return out.rotation(rep, err, steps)
}

// rotateCommandLine is the command that rotates token in mode, with the
// run's inventory and file: what the tool prints as a next step.
func rotateCommandLine(c *cli.Context, file string, mode rotate.Mode, token string) string {
	flag := map[rotate.Mode]string{rotate.Finish: "--finish ", rotate.Abort: "--abort "}[mode]
	return fmt.Sprintf("es-service-tokens -i %s --file %s rotate %s%s", shellWord(c.String("inventory")), shellWord(file), flag, tokenWords(token))
}

// deleteCommandLine is the command that deletes token everywhere.
func deleteCommandLine(c *cli.Context, file, token string) string {
	return fmt.Sprintf("es-service-tokens -i %s --file %s delete %s", shellWord(c.String("inventory")), shellWord(file), tokenWords(token))
}

// tokenWords are a token's principal and name as command arguments; a
// name that starts with - goes after --.
func tokenWords(token string) string {
	principal, name, _ := tokens.SplitQualifiedName(token)
	if strings.HasPrefix(name, "-") {
		return shellWord(principal) + " -- " + shellWord(name)
	}
	return shellWord(principal) + " " + shellWord(name)
}
