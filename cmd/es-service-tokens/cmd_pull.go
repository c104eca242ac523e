package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/pull"
)

// namedNode is the inventory's node called name, the one a pull reads.
func (t *tool) namedNode(c *cli.Context, name string) (*inventory.Node, error) {
	inv, err := t.loadInventory(c)
	if err != nil {
		return nil, err
	}
	var found []*inventory.Node
	for _, n := range inv.Nodes {
		if n.Name == name {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		return nil, exit.Fail(exit.Usage, "no node named %q in %s: `nodes` lists them", safetext.Input(name), inv.File)
	}
	return found[0], nil
}

// pull copies one node's file to a new local file, so a lost local copy
// can be recovered from the cluster.
func (t *tool) pull(c *cli.Context) error {
	usage := cmdline.Usage(c.Command)
	if c.Args().Len() != 1 {
		return &exit.Error{Code: exit.Usage, Msg: "pull takes one node name", Usage: usage}
	}
	if c.IsSet("limit") {
		// The node is the argument; a --limit beside it would be ignored.
		return &exit.Error{Code: exit.Usage, Msg: "pull reads the one node it names: drop --limit", Usage: usage}
	}
	out := c.String("out")
	if out == "" {
		return &exit.Error{Code: exit.Usage, Msg: "pull needs --out FILE, a file that does not exist yet", Usage: usage}
	}
	if err := t.needInventory(c); err != nil {
		return err
	}
	name := c.Args().First()
	node, err := t.namedNode(c, name)
	if err != nil {
		return err
	}
	r, err := t.connect(c, []*inventory.Node{node})
	if err != nil {
		return err
	}
	defer r.close()
	if err := t.beginAudit(c, "pull"); err != nil {
		return err
	}
	res, err := pull.Run(r.ctx, pull.Options{Node: node, Out: out, Backup: c.String("backup"), Dialer: r.dialer})
	var notLoadable *pull.NotLoadableError
	var local *pull.LocalError
	switch {
	case errors.As(err, &notLoadable):
		return exit.Fail(exit.DataError, "pull %s: %v", name, err)
	case errors.As(err, &local) && local.Op == "create":
		return exit.Fail(exit.CantCreate, "%v", err)
	case errors.As(err, &local):
		return exit.Fail(exit.IOError, "pull %s: %v", name, err)
	case err != nil:
		_, reason := failure.Describe(r.ctx, err)
		return exit.Fail(exit.Failed, "pull %s: %s", name, reason)
	}
	t.audit.Pulled(name, out, res.SHA256)
	fmt.Fprintf(t.stdout, "pulled %s:%s (sha256:%s, %s) to %s\n", name, res.Path, digest.Short(res.SHA256), output.Plural(res.Tokens, "token"), out)
	return nil
}
