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

func (t *tool) completionCommand() *cli.Command {
	return command("completion", "bash|zsh|fish", "Print a shell completion script",
		"Example:\n   source <(es-service-tokens completion bash)",
		func(c *cli.Context) error {
			script, err := cmdline.Script(c, c.Args().First())
			if err == nil {
				_, err = fmt.Fprint(t.stdout, script)
			}
			return err
		})
}

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

func (t *tool) manCommand() *cli.Command {
	return command("man", " ", "Print the manual page (roff), as installed by the packages",
		"Example:\n   es-service-tokens man | man -l -",
		func(c *cli.Context) error {
			if err := cmdline.NoArgs(c); err != nil {
				return err
			}
			page, err := cmdline.ManPage(t.commands())
			if err == nil {
				_, err = fmt.Fprint(t.stdout, page)
			}
			return err
		})
}

func (t *tool) versionCommand() *cli.Command {
	return command("version", " ", "Print the version, commit and build date",
		"Example:\n   es-service-tokens version --format json",
		func(c *cli.Context) error {
			if err := cmdline.NoArgs(c); err != nil {
				return err
			}
			asJSON, err := t.jsonOutput(c)
			if err != nil {
				return err
			}
			return output.Version(t.stdout, asJSON, buildinfo.Get())
		})
}
