package main

// The commands that describe the tool itself: its completion scripts, its
// manual page and its version.

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/buildinfo"
	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// completer answers the completion scripts, with node and consumer names
// from the inventory the command line names, loaded best effort.
func (t *tool) completer(app *cli.App) cmdline.Completer {
	return cmdline.Completer{App: app, Inventory: func(path, sshConfig string) *inventory.Inventory {
		if rest, ok := strings.CutPrefix(path, "~/"); ok {
			path = filepath.Join(t.home(), rest) // the shell has not expanded it yet
		}
		inv, err := inventory.Load(path, inventory.Options{SSHConfig: sshConfig, Home: t.home(), User: t.login(), Getenv: t.getenv})
		if err != nil {
			return nil
		}
		return inv
	}}
}

// app is the program's command line, each command doing what this
// package's action for it does.
func (t *tool) app() *cli.App { return cmdline.App(t.actions(), t.stdout, t.stderr) }

// commands is the command line without its help layout, as the manual
// page shows it.
func (t *tool) commands() *cli.App { return cmdline.Definition(t.actions(), t.stdout, t.stderr) }

func (t *tool) actions() cmdline.Actions {
	return cmdline.Actions{Create: t.create, Delete: t.delete, List: t.list, Verify: t.verify, Push: t.push, Check: t.check,
		Pull: t.pull, Nodes: t.nodes, Deliver: t.deliver, Rotate: t.rotate, Completion: t.completion, Version: t.version, Man: t.man}
}

func (t *tool) completion(c *cli.Context) error {
	script, err := cmdline.Script(c, c.Args().First())
	if err == nil {
		_, err = fmt.Fprint(t.stdout, script)
	}
	return err
}

func (t *tool) man(c *cli.Context) error {
	if err := cmdline.NoArgs(c); err != nil {
		return err
	}
	page, err := cmdline.ManPage(t.commands())
	if err == nil {
		_, err = fmt.Fprint(t.stdout, page)
	}
	return err
}

// version prints which build this is, for pinning and change approval.
func (t *tool) version(c *cli.Context) error {
	if err := cmdline.NoArgs(c); err != nil {
		return err
	}
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	return output.Version(t.stdout, asJSON, buildinfo.Get())
}
