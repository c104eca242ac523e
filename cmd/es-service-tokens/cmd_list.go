package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

func (t *tool) list(c *cli.Context) error {
	prefix, err := listPrefix(c)
	if err != nil {
		return err
	}
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	loc, err := t.location(c)
	if err != nil {
		return err
	}
	if _, err := t.settings(c, loc); err != nil {
		return err
	}
	snap, err := store.Load(loc.File)
	if err != nil {
		return err
	}
	var keys []string
	for _, k := range snap.File.Keys() {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	if c.Bool("long") {
		return t.listLong(c, asJSON, loc.File, snap.File, keys)
	}
	return output.List(t.stdout, asJSON, c.Bool("silent"), output.Listing{File: loc.File, Tokens: snap.File, Keys: keys})
}

// listPrefix is what list's optional principal argument keeps: the keys
// that start with it.
func listPrefix(c *cli.Context) (string, error) {
	args := c.Args().Slice()
	switch len(args) {
	case 0:
		return "", nil
	case 1:
		acct, err := principal(args[0])
		if err != nil {
			return "", err
		}
		return acct.Principal + "/", nil
	}
	return "", &exit.Error{Code: exit.Usage, Msg: fmt.Sprintf("Expected at most one argument, service-account-principal, found extra: [%s]", safetext.Input(strings.Join(args, ","))),
		Usage: cmdline.Usage(c.Command)}
}
