package main

import (
	"github.com/urfave/cli/v2"
)

func (t *tool) nodes(c *cli.Context) error {
	if err := noArgs(c); err != nil {
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
	views := make([]nodeView, len(sel))
	for i, n := range sel {
		views[i] = view(n)
	}
	if asJSON {
		groups := inv.Groups
		if groups == nil {
			groups = map[string][]string{}
		}
		return writeJSON(t.stdout, struct {
			Inventory string              `json:"inventory"`
			Format    string              `json:"format"`
			LocalFile string              `json:"local_file,omitempty"`
			MaxAge    string              `json:"max_token_age,omitempty"`
			Nodes     []nodeView          `json:"nodes"`
			Groups    map[string][]string `json:"groups"`
			Warnings  []string            `json:"warnings"`
			ES        *esView             `json:"elasticsearch,omitempty"`
			Consumers []consumerView      `json:"consumers,omitempty"`
		}{inv.File, inv.Format, inv.LocalFile, inv.MaxTokenAgeText, views, groups, append([]string{}, inv.Warnings...), viewES(inv.Elasticsearch), each(inv.Consumers, viewConsumer)})
	}
	printNodes(t.stdout, inv, views)
	return nil
}

func (t *tool) nodesCommand() *cli.Command {
	return command("nodes", " ", "Show the resolved node table and where each value came from",
		"Example:\n   es-service-tokens -i cluster.yml nodes --limit hot",
		t.nodes, []cli.Flag{&cli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only these `NODES`"}, connectTimeoutFlag()}...)
}
