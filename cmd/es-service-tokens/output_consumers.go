package main

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
