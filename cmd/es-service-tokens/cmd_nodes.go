package main

import (
	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
)

func (t *tool) nodes(c *cli.Context) error {
	if err := cmdline.NoArgs(c); err != nil {
		return err
	}
	if err := t.needInventory(c); err != nil {
		return err
	}
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	inv, err := t.loadInventory(c)
	if err != nil {
		return err
	}
	sel, err := limitNodes(c, inv)
	if err != nil {
		return err
	}
	return output.Nodes(t.stdout, asJSON, inv, sel)
}
