package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// commandHelp follows the layout of Elasticsearch's CLI usage text: what
// the command does, its arguments, an option table, then an example.
const commandHelp = `{{.Usage}}

Usage: {{.HelpName}} [options] {{.ArgsUsage}}

Option{{"\t"}}Description
------{{"\t"}}-----------
{{range .VisibleFlags}}{{.}}
{{end}}
Global options (--file, --path-conf, --es-home, -E, -i, --format, --ssh-config, -s, -v)
may be given anywhere; see es-service-tokens --help.
{{if .Description}}
{{.Description}}
{{end}}`

func (t *tool) app() *cli.App {
	app := t.commands()
	for _, c := range app.Commands {
		c.CustomHelpTemplate = commandHelp
		// "help" is handled by normalizeArgs for every command; a help
		// subcommand per command would only show up in completion.
		c.HideHelpCommand = true
	}
	return app
}

func (t *tool) commands() *cli.App {
	return &cli.App{
		Name:  "es-service-tokens",
		Usage: "Manages elasticsearch service account file-tokens, on this host and on every node of a cluster",
		Description: "Creates, lists and deletes tokens in $ES_PATH_CONF/service_tokens exactly as\n" +
			"bin/elasticsearch-service-tokens does, and with -i INVENTORY pushes the file to\n" +
			"every node over SSH (atomic replace, SHA-256 read-back, owner, group and mode).",
		HideHelpCommand:           true,
		DisableSliceFlagSeparator: true,
		EnableBashCompletion:      true,
		Writer:                    t.stdout,
		ErrWriter:                 t.stderr,
		ExitErrHandler:            func(*cli.Context, error) {}, // run() maps errors to exit codes
		OnUsageError:              usageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "file", Usage: "the service_tokens `PATH` (else --path-conf, --es-home, the inventory, ES_PATH_CONF, ES_HOME)"},
			&cli.StringFlag{Name: "path-conf", Usage: "the Elasticsearch config `DIR` (as ES_PATH_CONF)"},
			&cli.StringFlag{Name: "es-home", Usage: "the Elasticsearch home `DIR` (as ES_HOME); the file is DIR/config/service_tokens"},
			&cli.StringSliceFlag{Name: "E", Usage: "configure a setting, as `key=value`"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output `FORMAT`: text or json"},
			&cli.StringFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "the cluster inventory `FILE` (YAML, native or Ansible)"},
			&cli.StringFlag{Name: "ssh-config", Usage: "the ssh_config `FILE` to honour (default ~/.ssh/config)"},
			&cli.BoolFlag{Name: "silent", Aliases: []string{"s"}, Usage: "show minimal output"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show verbose output: each node's step timings, options read but not used"},
			&cli.StringFlag{Name: "audit-log", Usage: "append one JSON line per create, delete, push or pull to `FILE` (else the inventory's audit_log)"},
			&cli.BoolFlag{Name: "version", Usage: "print the version, commit and build date (as the version command)"},
		},
		Commands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "Create a file token for specified service account and token name",
				ArgsUsage: "<principal> <token-name>",
				Description: "Example:\n   es-service-tokens create elastic/fleet-server my-token\n" +
					"   es-service-tokens -i cluster.yml create elastic/kibana kibana-1 --token-file /root/kibana.token",
				Flags:        append(append([]cli.Flag{&cli.StringFlag{Name: "token-file", Usage: "write the bearer token to a new file `PATH` (mode 0600) instead of stdout"}}, fanoutFlags(true)...), esFlags(true)...),
				Action:       t.create,
				OnUsageError: usageError,
			},
			{
				Name:         "delete",
				Usage:        "Remove a file token for specified service account and token name",
				ArgsUsage:    "<principal> <token-name>",
				Description:  "Example:\n   es-service-tokens delete elastic/fleet-server my-token",
				Flags:        append(fanoutFlags(true), esFlags(true)...),
				Action:       t.delete,
				OnUsageError: usageError,
			},
			{
				Name:         "list",
				Usage:        "List file tokens for the specified service accounts",
				ArgsUsage:    "[<principal>]",
				Description:  "Example:\n   es-service-tokens list elastic/fleet-server",
				Action:       t.list,
				OnUsageError: usageError,
			},
			{
				Name:      "verify",
				Usage:     "Check a bearer token against the file as Elasticsearch authenticates it",
				ArgsUsage: "[<bearer-token> | -]",
				Description: "Reads the token from standard input when it is - or missing, which keeps it\n" +
					"out of the process list and shell history. Exits 0 when valid, 1 when not.\n" +
					"Example:\n   es-service-tokens verify < kibana.token",
				Flags:        esFlags(false),
				Action:       t.verify,
				OnUsageError: usageError,
			},
			{
				Name:      "push",
				Usage:     "Copy the local file to every node: atomic, verified, owner, group and mode enforced",
				ArgsUsage: " ",
				Description: "Exit codes: 0 every node verified, 1 a node failed or conflicted, 64 usage,\n" +
					"65 the local file is malformed, 78 the inventory is invalid.\n" +
					"Example:\n   es-service-tokens -i cluster.yml push --limit 'hot,!es-3' --dry-run",
				Flags:        append(append(fanoutFlags(true), &cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "connect and show what would change, by token name; write nothing"}), esFlags(true)...),
				Action:       t.push,
				OnUsageError: usageError,
			},
			{
				Name:      "check",
				Usage:     "Compare every node's file with the local one; write nothing",
				ArgsUsage: " ",
				Description: "Exit codes (as diff): 0 all in sync, 1 drift, 2 a node could not be checked;\n" +
					"with --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n" +
					"Example:\n   es-service-tokens -i cluster.yml check --prometheus-textfile /var/lib/node_exporter/es_tokens.prom",
				Flags: append(append(fanoutFlags(false),
					&cli.BoolFlag{Name: "nagios", Usage: "print one Nagios/Icinga plugin line with perfdata"},
					&cli.StringFlag{Name: "prometheus-textfile", Usage: "also write node_exporter textfile metrics to `PATH` (atomically)"},
					&cli.StringFlag{Name: "against", Usage: "compare the local file with `OTHER_FILE` instead of nodes"}), esFlags(false)...),
				Action:       t.check,
				OnUsageError: usageError,
			},
			{
				Name:        "pull",
				Usage:       "Copy one node's file to a new local file",
				ArgsUsage:   "<node> --out FILE",
				Description: "Example:\n   es-service-tokens -i cluster.yml pull es-1 --out recovered_service_tokens\n   es-service-tokens -i cluster.yml pull es-1 --backup latest --out restored_service_tokens",
				Flags: append(fanoutFlags(false), &cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "the new local `FILE` (never overwritten)"},
					&cli.StringFlag{Name: "backup", Usage: "copy one of the node's backups instead: `latest` or its timestamp (see backups: N)"}),
				Action:       t.pull,
				OnUsageError: usageError,
			},
			{
				Name:         "nodes",
				Usage:        "Show the resolved node table and where each value came from",
				ArgsUsage:    " ",
				Description:  "Example:\n   es-service-tokens -i cluster.yml nodes --limit hot",
				Flags:        []cli.Flag{&cli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only these `NODES`"}, connectTimeoutFlag()},
				Action:       t.nodes,
				OnUsageError: usageError,
			},
			{
				Name:         "completion",
				Usage:        "Print a shell completion script",
				ArgsUsage:    "bash|zsh|fish",
				Description:  "Example:\n   source <(es-service-tokens completion bash)",
				Action:       t.completion,
				OnUsageError: usageError,
			},
			{
				Name:         "version",
				Usage:        "Print the version, commit and build date",
				ArgsUsage:    " ",
				Description:  "Example:\n   es-service-tokens version --format json",
				Action:       t.version,
				OnUsageError: usageError,
			},
			{
				Name:         "man",
				Usage:        "Print the manual page (roff), as installed by the packages",
				ArgsUsage:    " ",
				Description:  "Example:\n   es-service-tokens man | man -l -",
				Action:       t.manPage,
				OnUsageError: usageError,
			},
		},
	}
}

func usageError(c *cli.Context, err error, _ bool) error {
	usage := "Usage: es-service-tokens [options] COMMAND [options] [ARGS]"
	flags := c.App.Flags
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		usage = usageLine(c.Command)
		flags = append(append([]cli.Flag(nil), flags...), c.Command.Flags...)
	}
	return &exitError{code: exitUsage, msg: valueRemedy(err.Error(), flags), usage: usage}
}

// valueRemedy says what a bad option value should look like, where
// urfave/cli only says "parse error".
func valueRemedy(msg string, flags []cli.Flag) string {
	_, rest, ok := strings.Cut(msg, " for flag -")
	name, _, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || !strings.HasSuffix(msg, ": parse error") {
		return msg
	}
	for _, f := range flags {
		if !hasFlag([]cli.Flag{f}, name) {
			continue
		}
		switch f.(type) {
		case *cli.DurationFlag:
			return strings.TrimSuffix(msg, "parse error") + "give a number of seconds (5) or a duration (1m30s)"
		case *cli.IntFlag:
			return strings.TrimSuffix(msg, "parse error") + "give a whole number"
		}
	}
	return msg
}
