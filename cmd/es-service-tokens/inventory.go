package main

// The inventory of a run: found (-i, else Ansible's), loaded once, and
// --limit applied.

import (
	"os"
	"os/user"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/inventory/ansible"
)

// home is the user's home directory, for ~ and the default keys.
func (t *tool) home() string {
	if h := t.getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// ansibleInventory fills in -i, when it is not given, with the inventory
// ansible.cfg (or ANSIBLE_INVENTORY) names, as Ansible would use it. Only
// commands that cannot work without an inventory call it: create and
// delete without -i stay local.
func (t *tool) ansibleInventory(c *cli.Context) error {
	if c.String("inventory") != "" {
		return nil
	}
	cfg, err := ansible.LoadConfig(ansible.FindConfig(t.getenv, t.home()), t.getenv)
	if err != nil {
		return exit.Fail(exit.Config, "%v", err)
	}
	path, _, err := cfg.Inventory()
	if err != nil {
		return exit.Fail(exit.Config, "%v", err)
	}
	if path != "" {
		return c.Set("inventory", path)
	}
	return nil
}

// needInventory is the start of a command that cannot work without an
// inventory: -i, else the one Ansible would use, else a usage error.
func (t *tool) needInventory(c *cli.Context) error {
	if err := t.ansibleInventory(c); err != nil {
		return err
	}
	if c.String("inventory") == "" {
		return exit.Fail(exit.Usage, "%s needs an inventory: -i FILE", c.Command.Name)
	}
	return nil
}

// inventoryLocalFile loads the inventory named by -i, if any, and returns
// its local_file.
func (t *tool) inventoryLocalFile(c *cli.Context) (string, error) {
	if c.String("inventory") == "" {
		return "", nil
	}
	inv, err := t.loadInventory(c)
	if err != nil {
		return "", err
	}
	return inv.LocalFile, nil
}

// login is the local user: the default SSH login as for ssh(1), the holder
// of the locks this run takes and the user of its audit record.
func (t *tool) login() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return t.getenv("USER")
}

func (t *tool) loadInventory(c *cli.Context) (*inventory.Inventory, error) {
	if t.inv != nil {
		return t.inv, nil
	}
	inv, err := inventory.Load(c.String("inventory"), inventory.Options{
		SSHConfig: c.String("ssh-config"), Home: t.home(), User: t.login(),
		ConnectTimeout: c.Duration("connect-timeout"), ConnectTimeoutOrigin: output.FlagWord(remedy.ConnectTimeout), Getenv: t.getenv,
		VaultIDs: vaultIDs(c),
	})
	if err != nil {
		return nil, err
	}
	for _, w := range inv.Warnings {
		t.warn(c, "%s", w)
	}
	// -v lists what was read and deliberately not used (BatchMode...).
	if c.Bool("verbose") && !c.Bool("silent") {
		for _, n := range inv.Notes {
			t.notes().Notice("info", n)
		}
	}
	t.inv = inv
	return inv, nil
}

// vaultIDs are the Ansible Vault password sources of the command line, in
// Ansible's order: every --vault-id, then every --vault-password-file
// (whose vault ID is "default").
func vaultIDs(c *cli.Context) []ansible.VaultID {
	var ids []ansible.VaultID
	for _, s := range c.StringSlice("vault-id") {
		ids = append(ids, ansible.ParseVaultID(s))
	}
	for _, f := range c.StringSlice("vault-password-file") {
		ids = append(ids, ansible.VaultID{Source: f})
	}
	return ids
}

// limitNodes applies --limit: every node without one; with one, even an
// empty one, what it selects.
func limitNodes(c *cli.Context, inv *inventory.Inventory) ([]*inventory.Node, error) {
	if !c.IsSet("limit") {
		return inv.Nodes, nil
	}
	nodes, err := inv.Select(c.String("limit"))
	if err != nil {
		return nil, exit.Fail(exit.Usage, "%v", err)
	}
	return nodes, nil
}
