package cmdline

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// commandHelp follows the layout of Elasticsearch's CLI usage text: what
// the command does, its arguments, an option table, then an example.
const commandHelp = `{{.Usage}}

Usage: {{.HelpName}} [options] {{.ArgsUsage}}

` + optionHeader + `{{range .VisibleFlags}}{{.}}
{{end}}
` + helpEnd

// esCommandHelp is the help of the commands Elasticsearch's CLI has
// (create, delete, list): first Elasticsearch's own help text for the
// command, word for word and laid out as joptsimple does (trailing spaces
// included), then this tool's usage line and its own options.
const esCommandHelp = `{{.Usage}}

%s
Usage: {{.HelpName}} [options] {{.ArgsUsage}}
{{if gt (len .VisibleFlags) 1}}
` + optionHeader + `{{range .VisibleFlags}}{{if ne (index .Names 0) "help"}}{{.}}
{{end}}{{end}}{{end}}
` + helpEnd

// optionHeader heads a command's option table; helpEnd ends every
// command's help: the global options, then the description.
const (
	optionHeader = "Option{{\"\\t\"}}Description\n------{{\"\\t\"}}-----------\n"
	helpEnd      = `Global options (--file, --path-conf, --es-home, -E, -i, --format, --ssh-config,
--vault-password-file, --vault-id, --audit-log, -s, -v) may be given anywhere;
see es-service-tokens --help.
{{if .Description}}
{{.Description}}
{{end}}`
)

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

// Actions are what each command does (package main's): the command
// line is defined here, without them, so that its help, completion and
// manual page come from one definition.
type Actions struct {
	Create, Delete, List, Verify, Push, Check, Pull, Nodes, Deliver, Rotate, Completion, Version, Man cli.ActionFunc
}

// App is the program's command line with its help in Elasticsearch's
// layout (Definition, with each command's help template).
func App(a Actions, stdout, stderr io.Writer) *cli.App {
	app := Definition(a, stdout, stderr)
	for _, c := range app.Commands {
		c.CustomHelpTemplate = commandHelp
		if args, ok := esNonOptions[c.Name]; ok {
			c.CustomHelpTemplate = fmt.Sprintf(esCommandHelp, esOptionHelp(args))
		}
		// "help" is handled by Normalize for every command; a help
		// subcommand per command would only show up in completion.
		c.HideHelpCommand = true
	}
	return app
}

// Definition defines the program: its global options and its commands,
// each with its options, usage, description (exit codes and an example)
// and action.
func Definition(a Actions, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "es-service-tokens",
		Usage: "Manages elasticsearch service account file-tokens, on this host and on every node of a cluster",
		Description: "Creates, lists and deletes tokens in $ES_PATH_CONF/service_tokens exactly as\n" +
			"bin/elasticsearch-service-tokens does, and with -i INVENTORY pushes the file to\n" +
			"every node over SSH (atomic replace, SHA-256 read-back, owner, group and mode).",
		HideHelpCommand:           true,
		DisableSliceFlagSeparator: true,
		EnableBashCompletion:      true,
		Writer:                    stdout,
		ErrWriter:                 stderr,
		ExitErrHandler:            func(*cli.Context, error) {}, // the caller maps errors to exit codes
		OnUsageError:              usageError,
		Flags:                     globalFlags(),
		Commands: []*cli.Command{
			createCommand(a), deleteCommand(a), listCommand(a), verifyCommand(a),
			pushCommand(a), checkCommand(a), pullCommand(a), nodesCommand(a), deliverCommand(a), rotateCommand(a),
			completionCommand(a), versionCommand(a), manCommand(a),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = usageError
	}
	markFileFlags(app)
	return app
}

// fileValue matches the placeholder of an option whose value is a path.
var fileValue = regexp.MustCompile("`[A-Z_]*(FILE|PATH|DIR)`")

// markFileFlags sets TakesFile on every option whose value is a path (its
// placeholder says FILE, PATH or DIR), so that fish completes file names
// there: its generated completion forbids them for the other options.
func markFileFlags(app *cli.App) {
	mark := func(flags []cli.Flag) {
		for _, f := range flags {
			switch f := f.(type) {
			case *cli.StringFlag:
				f.TakesFile = f.TakesFile || fileValue.MatchString(f.Usage)
			case *cli.StringSliceFlag:
				f.TakesFile = f.TakesFile || fileValue.MatchString(f.Usage)
			}
		}
	}
	mark(app.Flags)
	for _, c := range app.Commands {
		mark(c.Flags)
	}
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

// usageError is a flag urfave/cli could not parse, with the value it
// wants.
func usageError(c *cli.Context, err error, _ bool) error {
	usage := "Usage: es-service-tokens [options] COMMAND [options] [ARGS]"
	flags := c.App.Flags
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		usage = Usage(c.Command)
		flags = append(append([]cli.Flag(nil), flags...), c.Command.Flags...)
	}
	return &UsageError{msg: ValueRemedy(err, flags), usage: usage}
}

func checkCommand(a Actions) *cli.Command {
	return command("check", " ", "Compare every node's file with the local one; write nothing",
		"Exit codes (as diff): 0 all in sync, 1 drift, 2 a node could not be checked;\n"+
			"with --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"+
			"Example:\n   es-service-tokens -i cluster.yml check --prometheus-textfile /var/lib/node_exporter/es_tokens.prom",
		a.Check, nodeFlags(false,
			&cli.BoolFlag{Name: "nagios", Usage: "print one Nagios/Icinga plugin line with perfdata"},
			&cli.StringFlag{Name: "prometheus-textfile", Usage: "also write node_exporter textfile metrics to `PATH` (atomically)"},
			&cli.StringFlag{Name: "against", Usage: "compare the local file with `OTHER_FILE` instead of nodes"},
			maxAgeFlag())...)
}

func createCommand(a Actions) *cli.Command {
	return command("create", "<principal> <token-name>", "Create a file token for specified service account and token name",
		"Example:\n   es-service-tokens create elastic/fleet-server my-token\n"+
			"   es-service-tokens -i cluster.yml create elastic/kibana kibana-1 --token-file /root/kibana.token\n"+
			"   es-service-tokens -i cluster.yml create elastic/kibana kibana-1 --deliver",
		a.Create, append([]cli.Flag{tokenFileFlag(), commentFlag(), deliverFlag()}, nodeFlags(true)...)...)
}

func tokenFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "token-file", Usage: "write the bearer token to a new file `PATH` (mode 0600) instead of stdout"}
}

func deleteCommand(a Actions) *cli.Command {
	return command("delete", "<principal> <token-name>", "Remove a file token for specified service account and token name",
		"Example:\n   es-service-tokens delete elastic/fleet-server my-token",
		a.Delete, nodeFlags(true)...)
}

func deliverCommand(a Actions) *cli.Command {
	return command("deliver", " ", "Hand a token's secret, read on standard input, to the inventory's consumers of that token",
		"Proves the secret on every node with an address first (es_http_url or\n"+
			"elasticsearch.node_url) and delivers nothing unless each accepts it. Then every\n"+
			"consumer's store is written, and only when all were is each restarted and checked.\n"+
			"Exits 0 when every consumer has the secret and works again, 1 when not.\n"+
			"Example:\n   es-service-tokens -i cluster.yml deliver --consumer kibana-1 < kibana.token",
		a.Deliver,
		&cli.StringSliceFlag{Name: "consumer", Usage: "only the consumer `NAME` (repeat for more); default: every consumer of the token"},
		&cli.IntFlag{Name: "concurrency", Value: 16, Usage: "handle at most `N` consumer machines at once"},
		&cli.DurationFlag{Name: "timeout", Value: 60 * time.Second, Usage: "give up connecting, storing or restarting after `DURATION` (seconds, or as 1m30s)"},
		connectTimeoutFlag(),
		confirmTimeoutFlag("wait at most `DURATION` (or seconds) for every node to accept the secret"),
		&cli.StringFlag{Name: "es-url", Usage: "the cluster's REST `URL`; overrides the inventory's elasticsearch.url"},
		&cli.StringFlag{Name: "es-ca", Usage: "the PEM CA `FILE` of the cluster's HTTPS certificate"},
	)
}

// confirmTimeoutFlag is --confirm-timeout for commands that wait for the
// nodes without writing them.
func confirmTimeoutFlag(usage string) cli.Flag {
	return &cli.DurationFlag{Name: "confirm-timeout", Usage: usage, DefaultText: "the inventory's, else 30s"}
}

func listCommand(a Actions) *cli.Command {
	return command("list", "[<principal>]", "List file tokens for the specified service account",
		"With --long, each token's age, creator, consumers, rotation and comment, from\n"+
			"the metadata file beside the tokens file (service_tokens.meta).\n"+
			"Example:\n   es-service-tokens list elastic/fleet-server\n   es-service-tokens list --long",
		a.List, longFlag())
}

func nodesCommand(a Actions) *cli.Command {
	return command("nodes", " ", "Show the resolved node table and where each value came from",
		"Example:\n   es-service-tokens -i cluster.yml nodes --limit hot",
		a.Nodes, []cli.Flag{&cli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only these `NODES`"}, connectTimeoutFlag()}...)
}

func pullCommand(a Actions) *cli.Command {
	return command("pull", "<node> --out FILE", "Copy one node's file to a new local file",
		"Example:\n   es-service-tokens -i cluster.yml pull es-1 --out recovered_service_tokens\n   es-service-tokens -i cluster.yml pull es-1 --backup latest --out restored_service_tokens",
		a.Pull, append(fanoutFlags(false), &cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "the new local `FILE` (never overwritten)"},
			&cli.StringFlag{Name: "backup", Usage: "copy one of the node's backups instead: `latest` or its timestamp (see backups: N)"})...)
}

func pushCommand(a Actions) *cli.Command {
	return command("push", " ", "Copy the local file to every node: atomic, verified, owner, group and mode enforced",
		"Exit codes: 0 every node verified, 1 a node failed or conflicted, 64 usage,\n"+
			"65 the local file is malformed, 78 the inventory is invalid.\n"+
			"Example:\n   es-service-tokens -i cluster.yml push --limit 'hot,!es-3' --dry-run",
		a.Push, nodeFlags(true, &cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "connect and show what would change, by token name; write nothing"})...)
}

func rotateCommand(a Actions) *cli.Command {
	return command("rotate", "[<principal> <token-name>]", "Replace a token with a new one, without an outage",
		"Creates the successor (the name plus a UTC time), pushes it and proves that every\n"+
			"Elasticsearch node accepts its secret, delivers it to the token's consumers\n"+
			"(restart, health), waits --grace, then removes the old token from every node.\n"+
			"Without consumers it stops once the successor is proven and prints it (or writes\n"+
			"--token-file); switch what uses the token, then run rotate --finish. Killed or\n"+
			"failed, the same command continues where it stopped.\n"+
			"Exit codes: 0 done (or waiting for --finish), 1 a step failed, 64 usage, 70 no such token.\n"+
			"Example:\n   es-service-tokens -i cluster.yml rotate elastic/kibana kibana-1 --grace 5m\n"+
			"   es-service-tokens -i cluster.yml rotate --older-than 90d",
		a.Rotate, rotateFlags()...)
}

// rotateFlags are rotate's own options, then those of a command that
// writes nodes and asks Elasticsearch, less the ones that would leave some
// node out: a rotation is proven on every node, or not at all.
func rotateFlags() []cli.Flag {
	own := []cli.Flag{
		&cli.StringFlag{Name: "consumer", Usage: "rotate the token that the inventory's consumer `NAME` uses"},
		&cli.StringFlag{Name: "older-than", Usage: "rotate every token older than `AGE` (90d, 12w) that has a consumer"},
		&cli.BoolFlag{Name: "finish", Usage: "remove the old token, once what used it runs with the new one handed over"},
		&cli.BoolFlag{Name: "abort", Usage: "remove the new token of a rotation that reached nobody yet"},
		&cli.DurationFlag{Name: "grace", Usage: "wait `DURATION` after the consumers switched, before the old token goes"},
		tokenFileFlag(),
	}
	var out []cli.Flag
	for _, f := range nodeFlags(true, own...) {
		switch f.Names()[0] {
		case "limit", "canary", "batch", "no-confirm":
			continue
		}
		out = append(out, f)
	}
	return out
}

func verifyCommand(a Actions) *cli.Command {
	return command("verify", "[<bearer-token> | -]", "Check a bearer token against the file as Elasticsearch authenticates it",
		"Reads the token from standard input when it is - or missing, which keeps it\n"+
			"out of the process list and shell history. Exits 0 when valid, 1 when not.\n"+
			"Example:\n   es-service-tokens verify < kibana.token",
		a.Verify, append(esFlags(false),
			&cli.BoolFlag{Name: "all-nodes", Usage: "send the token to every inventory node's own address (es_http_url or elasticsearch.node_url) and report each node's answer"},
			confirmTimeoutFlag("with --all-nodes, ask nodes that refuse the token again for up to `DURATION` (or seconds): they may not have reloaded yet"))...)
}

func maxAgeFlag() cli.Flag {
	return &cli.StringFlag{Name: "max-age", Usage: "report tokens older than `AGE` (90d, 12w, 36h) as drift; overrides the inventory's max_token_age"}
}

func longFlag() cli.Flag {
	return &cli.BoolFlag{Name: "long", Aliases: []string{"l"}, Usage: "also show each token's age, creator, consumers, rotation and comment"}
}

func deliverFlag() cli.Flag {
	return &cli.BoolFlag{Name: "deliver", Usage: "hand the new secret to the inventory's consumers of the token once every node accepts it (the secret is not printed)"}
}

// esFlags are the Elasticsearch options; rollout adds the confirmation
// and gated-rollout ones for commands that write.
func esFlags(rollout bool) []cli.Flag {
	f := []cli.Flag{
		&cli.StringFlag{Name: "es-url", Usage: "the cluster's REST `URL` (comma-separated list tried in order); overrides the inventory's elasticsearch.url"},
		&cli.StringFlag{Name: "es-ca", Usage: "the PEM CA `FILE` of the cluster's HTTPS certificate"},
		&cli.BoolFlag{Name: "es-insecure-http", Usage: "allow a plain http:// URL (test clusters only)"},
	}
	if rollout {
		f = append(f,
			&cli.DurationFlag{Name: "confirm-timeout", Usage: "wait at most `DURATION` (or seconds) for every Elasticsearch node to load the change", DefaultText: "the inventory's, else 30s"},
			&cli.BoolFlag{Name: "no-confirm", Usage: "do not ask Elasticsearch whether its nodes loaded the change"},
			&cli.IntFlag{Name: "canary", Usage: "write the first `N` nodes and wait for them (gate) before any other"},
			&cli.StringFlag{Name: "batch", Usage: "then write `N` nodes (or N%) at a time, each batch gated"},
		)
	}
	return f
}

func commentFlag() cli.Flag {
	return &cli.StringFlag{Name: "comment", Usage: "record `TEXT` (what the token is for) in the token's metadata; list --long shows it"}
}

// fanoutFlags are the options of every command that reaches nodes.
func fanoutFlags(changes bool) []cli.Flag {
	f := []cli.Flag{
		&cli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only these `NODES`, in Ansible's pattern syntax: names, groups, patterns (es-*, ~regex), a,b or a:b unions, a:!b exclusions, a:&b intersections, @FILE"},
		&cli.IntFlag{Name: "concurrency", Value: 32, Usage: "handle at most `N` nodes at once"},
		&cli.DurationFlag{Name: "timeout", Value: 60 * time.Second, Usage: "give up on a node after `DURATION` (seconds, or as 1m30s), all attempts included"},
		connectTimeoutFlag(),
		&cli.IntFlag{Name: "retries", Value: 2, Usage: "retry `N` times when a node fails before anything was written"},
	}
	if changes {
		f = append(f,
			&cli.BoolFlag{Name: "force", Usage: "overwrite nodes whose file was changed by someone else, is not a service_tokens file, or would lose every token"},
			&cli.BoolFlag{Name: "break-lock", Usage: "take over another run's lock on a node at once, instead of waiting for it to end or expire"})
	}
	return f
}

// nodeFlags are the options of a command that reaches nodes and may ask
// Elasticsearch: fanoutFlags, the command's own, then esFlags, in the order
// help lists them. changes adds those of commands that write.
func nodeFlags(changes bool, own ...cli.Flag) []cli.Flag {
	return append(append(fanoutFlags(changes), own...), esFlags(changes)...)
}

// connectTimeoutFlag is shared by every command that connects, so that its
// help reads the same everywhere.
func connectTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "connect-timeout", Usage: "give up a connection attempt (TCP and SSH handshake) after `DURATION` (seconds, or as 1m30s)",
		DefaultText: "the inventory's, else ssh_config's, else 10s"}
}

func completionCommand(a Actions) *cli.Command {
	return command("completion", "bash|zsh|fish", "Print a shell completion script",
		"Example:\n   source <(es-service-tokens completion bash)", a.Completion)
}

func manCommand(a Actions) *cli.Command {
	return command("man", " ", "Print the manual page (roff), as installed by the packages",
		"Example:\n   es-service-tokens man | man -l -", a.Man)
}

func versionCommand(a Actions) *cli.Command {
	return command("version", " ", "Print the version, commit and build date",
		"Example:\n   es-service-tokens version --format json", a.Version)
}
