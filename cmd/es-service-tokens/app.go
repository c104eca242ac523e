package main

import (
	"fmt"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
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
Global options (--file, --path-conf, --es-home, -E, -i, --format, --ssh-config,
--vault-password-file, --vault-id, --audit-log, -s, -v) may be given anywhere;
see es-service-tokens --help.
{{if .Description}}
{{.Description}}
{{end}}`

// esCommandHelp is the help of the commands Elasticsearch's CLI has
// (create, delete, list): first Elasticsearch's own help text for the
// command, word for word and laid out as joptsimple does (trailing spaces
// included), then this tool's usage line and its own options.
const esCommandHelp = `{{.Usage}}

%s
Usage: {{.HelpName}} [options] {{.ArgsUsage}}
{{if gt (len .VisibleFlags) 1}}
Option{{"\t"}}Description
------{{"\t"}}-----------
{{range .VisibleFlags}}{{if ne (index .Names 0) "help"}}{{.}}
{{end}}{{end}}{{end}}
Global options (--file, --path-conf, --es-home, -E, -i, --format, --ssh-config,
--vault-password-file, --vault-id, --audit-log, -s, -v) may be given anywhere;
see es-service-tokens --help.
{{if .Description}}
{{.Description}}
{{end}}`

// esNonOptions names each Elasticsearch command's arguments as its
// parser.nonOptions(...) does.
var esNonOptions = map[string]string{
	"create": "service-account-principal token-name",
	"delete": "service-account-principal token-name",
	"list":   "service-account-principal",
}

// esOptionHelp is what joptsimple's BuiltinHelpFormatter prints for an
// Elasticsearch command with these arguments: its non-option arguments,
// then the options every EnvironmentAwareCommand has. Each column is as
// wide as its widest cell.
func esOptionHelp(nonOptions string) string {
	var b strings.Builder
	arg := "[String] -- " + nonOptions
	fmt.Fprintf(&b, "%-*s\n%s\n\n", len(arg), "Non-option arguments:", arg)
	rows := [][2]string{{"Option", "Description"}, {"------", "-----------"},
		{"-E <KeyValuePair>", "Configure a setting"}, {"-h, --help", "Show help"},
		{"-s, --silent", "Show minimal output"}, {"-v, --verbose", "Show verbose output"}}
	w0, w1 := 0, 0
	for _, r := range rows {
		w0, w1 = max(w0, len(r[0])), max(w1, len(r[1]))
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s  %-*s\n", w0, r[0], w1, r[1])
	}
	return b.String()
}

func (t *tool) app() *cli.App {
	app := t.commands()
	for _, c := range app.Commands {
		c.CustomHelpTemplate = commandHelp
		if args, ok := esNonOptions[c.Name]; ok {
			c.CustomHelpTemplate = fmt.Sprintf(esCommandHelp, esOptionHelp(args))
		}
		// "help" is handled by cmdline.Normalize for every command; a help
		// subcommand per command would only show up in completion.
		c.HideHelpCommand = true
	}
	return app
}

// commands defines the program: its global options and its commands, each
// built next to its action in cmd_NAME.go (cmd_push.go, cmd_check.go, ...).
func (t *tool) commands() *cli.App {
	app := &cli.App{
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
		Flags:                     globalFlags(),
		Commands: []*cli.Command{
			t.createCommand(), t.deleteCommand(), t.listCommand(), t.verifyCommand(),
			t.pushCommand(), t.checkCommand(), t.pullCommand(), t.nodesCommand(), t.deliverCommand(), t.rotateCommand(),
			t.completionCommand(), t.versionCommand(), t.manCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = usageError
	}
	return app
}

// globalFlags are the options every command takes, wherever they appear
// on the command line (see cmdline.Normalize).
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "file", Usage: "the service_tokens `PATH` (else --path-conf, --es-home, the inventory, ES_PATH_CONF, ES_HOME)"},
		&cli.StringFlag{Name: "path-conf", Usage: "the Elasticsearch config `DIR` (as ES_PATH_CONF)"},
		&cli.StringFlag{Name: "es-home", Usage: "the Elasticsearch home `DIR` (as ES_HOME); the file is DIR/config/service_tokens"},
		&cli.StringSliceFlag{Name: "E", Usage: "configure a setting, as `key=value`"},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "output `FORMAT`: text or json"},
		&cli.StringFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "the cluster inventory `FILE` (YAML, native or Ansible)"},
		&cli.StringFlag{Name: "ssh-config", Usage: "the ssh_config `FILE` to honour (default ~/.ssh/config)"},
		&cli.StringSliceFlag{Name: "vault-password-file", Usage: "read the Ansible Vault password from `FILE`, or from its output if it is executable (repeatable; else ANSIBLE_VAULT_PASSWORD_FILE, ansible.cfg's vault_password_file)"},
		&cli.StringSliceFlag{Name: "vault-id", Usage: "an Ansible vault ID and its password file or script, as `LABEL@FILE` (repeatable)"},
		&cli.BoolFlag{Name: "silent", Aliases: []string{"s"}, Usage: "show minimal output"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show verbose output: each node's step timings, options read but not used"},
		&cli.StringFlag{Name: "audit-log", Usage: "append one JSON line per create, delete, push, pull, deliver or rotate to `FILE` (else the inventory's audit_log)"},
		&cli.BoolFlag{Name: "version", Usage: "print the version, commit and build date (as the version command)"},
	}
}

// command is one command's definition: its name, its arguments as the
// usage line shows them, what it does, a description that ends with an
// example, its action and its own options.
func command(name, argsUsage, usage, description string, action cli.ActionFunc, flags ...cli.Flag) *cli.Command {
	return &cli.Command{Name: name, ArgsUsage: argsUsage, Usage: usage, Description: description, Action: action, Flags: flags}
}

func usageError(c *cli.Context, err error, _ bool) error {
	usage := "Usage: es-service-tokens [options] COMMAND [options] [ARGS]"
	flags := c.App.Flags
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		usage = cmdline.Usage(c.Command)
		flags = append(append([]cli.Flag(nil), flags...), c.Command.Flags...)
	}
	return &exitError{code: exitUsage, msg: cmdline.ValueRemedy(err, flags), usage: usage}
}
