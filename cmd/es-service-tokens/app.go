package main

import (
	"github.com/urfave/cli/v2"
)

func (t *tool) app() *cli.App {
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
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show verbose output"},
		},
		Commands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "Create a file token for specified service account and token name",
				ArgsUsage: "<principal> <token-name>",
				Description: "Example:\n   es-service-tokens create elastic/fleet-server my-token\n" +
					"   es-service-tokens -i cluster.yml create elastic/kibana kibana-1 --token-file /root/kibana.token",
				Flags:        append([]cli.Flag{&cli.StringFlag{Name: "token-file", Usage: "write the bearer token to a new file `PATH` (mode 0600) instead of stdout"}}, fanoutFlags(true)...),
				Action:       t.create,
				OnUsageError: usageError,
			},
			{
				Name:         "delete",
				Usage:        "Remove a file token for specified service account and token name",
				ArgsUsage:    "<principal> <token-name>",
				Description:  "Example:\n   es-service-tokens delete elastic/fleet-server my-token",
				Flags:        fanoutFlags(true),
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
				Action:       t.verify,
				OnUsageError: usageError,
			},
		},
	}
}

func usageError(c *cli.Context, err error, _ bool) error {
	return &exitError{code: exitUsage, msg: err.Error(), usage: "Usage: " + c.Command.HelpName + " [options] " + c.Command.ArgsUsage}
}

// fanoutFlags are the options of every command that reaches nodes.
func fanoutFlags(changes bool) []cli.Flag {
	return nil
}
