package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// consumerView is one consumer in nodes' output: where it runs, which
// token it uses and how it receives the secret, never a secret. Commands
// show their program only: their arguments may hold credentials of their
// own.
type consumerView struct {
	Name   string `json:"name"`
	Token  string `json:"token"`
	Method string `json:"method"`
	connectionView
	Sudo          bool              `json:"sudo"`
	Keystore      string            `json:"kibana_keystore,omitempty"`
	Setting       string            `json:"setting,omitempty"`
	File          string            `json:"file,omitempty"`
	EnvFile       string            `json:"env_file,omitempty"`
	Key           string            `json:"key,omitempty"`
	Owner         string            `json:"owner,omitempty"`
	Group         string            `json:"group,omitempty"`
	Mode          string            `json:"mode,omitempty"`
	Command       string            `json:"command_program,omitempty"`
	Restart       string            `json:"restart_program,omitempty"`
	Health        string            `json:"health_program,omitempty"`
	HealthTimeout float64           `json:"health_timeout_seconds,omitempty"`
	Origin        map[string]string `json:"origin"`
}

func viewConsumer(c *inventory.Consumer) consumerView {
	n := c.Host
	v := consumerView{Name: c.Name, Token: c.Token, Method: string(c.Method), connectionView: viewConnection(n), Sudo: n.Sudo,
		Keystore: c.Keystore, Setting: c.Setting, Key: c.EnvKey, Owner: n.Owner, Group: n.Group, Command: program(c.Command),
		Restart: program(c.Restart), Health: program(c.Health), Origin: n.Origin}
	switch c.Method {
	case inventory.MethodFile:
		v.File = n.Path
	case inventory.MethodEnvFile:
		v.EnvFile = n.Path
	}
	if n.Path != "" && n.Mode != 0 {
		v.Mode = fmt.Sprintf("%04o", n.Mode)
	}
	if c.Health != "" {
		v.HealthTimeout = c.HealthTimeout.Seconds()
	}
	return v
}

// program is a command's program, "" for no command.
func program(cmd string) string {
	if cmd == "" {
		return ""
	}
	return inventory.Program(cmd)
}

// printConsumers shows the consumers after the nodes, each setting with
// where it came from.
func printConsumers(w io.Writer, views []consumerView) {
	if len(views) == 0 {
		return
	}
	fmt.Fprintf(w, "\nconsumers (%d)\n", len(views))
	for _, v := range views {
		fmt.Fprintf(w, "\n%s\n", v.Name)
		row := func(key, value string) {
			if value != "" {
				fmt.Fprintf(w, "  %-16s %-40s %s\n", key, value, v.Origin[key])
			}
		}
		row("token", v.Token)
		row("method", v.Method)
		row("kibana_keystore", v.Keystore)
		row("setting", v.Setting)
		row("file", v.File)
		row("env_file", v.EnvFile)
		row("key", v.Key)
		if v.File != "" || v.EnvFile != "" {
			row("owner", orDash(v.Owner))
			row("group", orDash(v.Group))
			row("mode", orDash(v.Mode))
		}
		row("command", withoutArgs(v.Command))
		row("host", v.Host)
		row("port", fmt.Sprint(v.Port))
		row("user", v.User)
		row("identity_file", orDash(strings.Join(v.IdentityFiles, " ")))
		row("known_hosts", strings.Join(v.KnownHosts, " "))
		row("host_key_check", v.HostKeyCheck)
		row("connect_timeout", fmt.Sprintf("%gs", v.ConnectTimeout))
		row("jump", orDash(strings.Join(v.Jump, " > ")))
		row("sudo", fmt.Sprint(v.Sudo))
		row("restart", withoutArgs(v.Restart))
		row("health", withoutArgs(v.Health))
		if v.HealthTimeout > 0 {
			row("health_timeout", fmt.Sprintf("%gs", v.HealthTimeout))
		}
	}
}

// withoutArgs says that a command's arguments are left out.
func withoutArgs(prog string) string {
	if prog == "" {
		return ""
	}
	return prog + " ... (arguments not shown)"
}

// Nodes renders the nodes command: the inventory's nodes (those sel
// chose), its elasticsearch section, its consumers and groups, each
// setting with where it came from; never a secret.
func Nodes(w io.Writer, asJSON bool, inv *inventory.Inventory, sel []*inventory.Node) error {
	views := make([]NodeView, len(sel))
	for i, n := range sel {
		views[i] = view(n)
	}
	if !asJSON {
		printNodes(w, inv, views)
		return nil
	}
	groups := inv.Groups
	if groups == nil {
		groups = map[string][]string{}
	}
	return JSON(w, struct {
		Inventory string              `json:"inventory"`
		Format    string              `json:"format"`
		LocalFile string              `json:"local_file,omitempty"`
		MaxAge    string              `json:"max_token_age,omitempty"`
		Nodes     []NodeView          `json:"nodes"`
		Groups    map[string][]string `json:"groups"`
		Warnings  []string            `json:"warnings"`
		ES        *esView             `json:"elasticsearch,omitempty"`
		Consumers []consumerView      `json:"consumers,omitempty"`
	}{inv.File, inv.Format, inv.LocalFile, inv.MaxTokenAgeText, views, groups, append([]string{}, inv.Warnings...), viewES(inv.Elasticsearch), each(inv.Consumers, viewConsumer)})
}
