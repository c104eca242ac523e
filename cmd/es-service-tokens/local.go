package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// tokenArgs checks <principal> <token-name> in Elasticsearch's order:
// argument count (64), principal (67), token name (70).
func tokenArgs(c *cli.Context) (tokens.Account, string, error) {
	args := c.Args().Slice()
	usage := cmdline.Usage(c.Command)
	switch {
	case len(args) == 0:
		return tokens.Account{}, "", &exit.Error{Code: exit.Usage, Msg: "Missing service-account-principal and token-name arguments", Usage: usage}
	case len(args) == 1:
		return tokens.Account{}, "", &exit.Error{Code: exit.Usage, Msg: "Missing token-name argument", Usage: usage}
	case len(args) > 2:
		return tokens.Account{}, "", &exit.Error{Code: exit.Usage, Msg: fmt.Sprintf("Expected two arguments, service-account-principal and token-name, found extra: [%s]", safetext.Input(strings.Join(args, ","))), Usage: usage}
	}
	acct, err := principal(args[0])
	if err != nil {
		return tokens.Account{}, "", err
	}
	if !tokens.ValidTokenName(args[1]) {
		return tokens.Account{}, "", exit.Fail(exit.CodeError, "%s", tokens.InvalidTokenNameMessage(args[1]))
	}
	return acct, args[1], nil
}

func principal(p string) (tokens.Account, error) {
	acct, ok := tokens.LookupAccount(p)
	if !ok {
		return tokens.Account{}, exit.Fail(exit.NoUser, "%s", tokens.UnknownPrincipalMessage(p))
	}
	return acct, nil
}

// location finds the local token file and, with -i, loads the inventory
// whose local_file may name it.
func (t *tool) location(c *cli.Context) (esconfig.Location, error) {
	inv, err := t.inventoryLocalFile(c)
	if err != nil {
		return esconfig.Location{}, err
	}
	return esconfig.Locate(esconfig.Sources{
		File: c.String("file"), PathConf: c.String("path-conf"), ESHome: c.String("es-home"),
		Inventory: inv, Env: t.getenv,
	})
}

// loadLocal finds and loads the local file; a missing file is an empty
// one, as for Elasticsearch. The location's errors come back as they are,
// so that the caller can tell "no file configured" (esconfig.ErrNoLocation).
func (t *tool) loadLocal(c *cli.Context) (esconfig.Location, store.Snapshot, error) {
	loc, err := t.location(c)
	if err != nil {
		return loc, store.Snapshot{}, err
	}
	snap, err := store.Load(loc.File)
	return loc, snap, err
}

// settings reads the node settings (-E, then elasticsearch.yml beside the
// local file) as Elasticsearch's CLI does before each of its commands:
// create, list and delete all refuse a bad -E (64) or an unparsable
// elasticsearch.yml (78) before they read the token file.
func (t *tool) settings(c *cli.Context, loc esconfig.Location) (*esconfig.Settings, error) {
	return esconfig.LoadSettings(loc.ConfigDir, c.StringSlice("E"))
}

// prepareChange is the start that create and delete share. It checks, in
// this order and before anything changes: the command line's principal and
// token name, the local file's location, the settings, what the command
// itself needs (ready), and with -i the inventory, --limit and keys, so
// that a typo cannot leave a changed file that was not pushed. The caller
// closes the plan, which is nil without -i.
func (t *tool) prepareChange(c *cli.Context, ready func(esconfig.Location, *esconfig.Settings) error) (acct tokens.Account, name string, loc esconfig.Location, plan *remote, err error) {
	if acct, name, err = tokenArgs(c); err != nil {
		return
	}
	if loc, err = t.location(c); err != nil {
		return
	}
	settings, err := t.settings(c, loc)
	if err != nil {
		return
	}
	if ready != nil {
		if err = ready(loc, settings); err != nil {
			return
		}
	}
	plan, err = t.pushPlan(c)
	return
}

// localFile loads the local file, which must exist; missing says why.
func (t *tool) localFile(c *cli.Context, missing string) (esconfig.Location, store.Snapshot, error) {
	loc, snap, err := t.loadLocal(c)
	if err == nil && !snap.Exists {
		err = exit.Fail(exit.IOError, "%s does not exist: %s", loc.File, missing)
	}
	return loc, snap, err
}
