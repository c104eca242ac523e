package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// nodeView is one node in nodes' JSON output.
type nodeView struct {
	Name           string            `json:"name"`
	Host           string            `json:"host"`
	Port           int               `json:"port"`
	User           string            `json:"user"`
	IdentityFiles  []string          `json:"identity_files"`
	KnownHosts     []string          `json:"known_hosts"`
	HostKeyCheck   string            `json:"host_key_check"`
	ConnectTimeout float64           `json:"connect_timeout_seconds"`
	Jump           []string          `json:"jump"`
	Path           string            `json:"path"`
	Owner          string            `json:"owner"`
	Group          string            `json:"group"`
	Mode           string            `json:"mode"`
	Sudo           bool              `json:"sudo"`
	SFTPServer     string            `json:"sftp_server"`
	Backups        int               `json:"backups"`
	Groups         []string          `json:"groups"`
	Origin         map[string]string `json:"origin"`
	// Added after origin so that the fields before keep their order.
	GlobalKnownHosts    []string `json:"global_known_hosts"`
	IdentitiesOnly      bool     `json:"identities_only"`
	ServerAliveInterval float64  `json:"server_alive_interval_seconds"`
	ServerAliveCountMax int      `json:"server_alive_count_max"`
}

func view(n *inventory.Node) nodeView {
	v := nodeView{
		Name: n.Name, Host: n.Host, Port: n.Port, User: n.User, IdentityFiles: n.IdentityFiles,
		KnownHosts: n.KnownHostsFiles, HostKeyCheck: n.HostKeyCheck, ConnectTimeout: n.ConnectTimeout.Seconds(),
		Jump: []string{}, Path: n.Path, Owner: n.Owner, Group: n.Group, Mode: fmt.Sprintf("%04o", n.Mode),
		Sudo: n.Sudo, SFTPServer: n.SFTPServer, Backups: n.Backups, Groups: n.Groups, Origin: n.Origin,
		GlobalKnownHosts: append([]string{}, n.GlobalKnownHostsFiles...), IdentitiesOnly: n.IdentitiesOnly,
		ServerAliveInterval: n.ServerAliveInterval.Seconds(), ServerAliveCountMax: n.ServerAliveCountMax,
	}
	for _, h := range n.Jump {
		v.Jump = append(v.Jump, h.User+"@"+h.Address())
	}
	if v.IdentityFiles == nil {
		v.IdentityFiles = []string{}
	}
	if v.Groups == nil {
		v.Groups = []string{}
	}
	return v
}

func (t *tool) nodes(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("nodes takes no arguments, found [%s]", strings.Join(c.Args().Slice(), ",")), usage: usageLine(c.Command)}
	}
	if err := t.ansibleInventory(c); err != nil {
		return err
	}
	if c.String("inventory") == "" {
		return fail(exitUsage, "nodes needs an inventory: -i FILE")
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
			Nodes     []nodeView          `json:"nodes"`
			Groups    map[string][]string `json:"groups"`
			Warnings  []string            `json:"warnings"`
		}{inv.File, inv.Format, inv.LocalFile, views, groups, append([]string{}, inv.Warnings...)})
	}
	printNodes(t.stdout, inv, views)
	return nil
}

func printNodes(w io.Writer, inv *inventory.Inventory, views []nodeView) {
	fmt.Fprintf(w, "%s (%s inventory), %s", inv.File, inv.Format, plural(len(views), "node"))
	if inv.LocalFile != "" {
		fmt.Fprintf(w, ", local file %s", inv.LocalFile)
	}
	fmt.Fprintln(w)
	for _, v := range views {
		fmt.Fprintf(w, "\n%s\n", v.Name)
		row := func(key, value string) {
			fmt.Fprintf(w, "  %-16s %-40s %s\n", key, value, v.Origin[key])
		}
		row("host", v.Host)
		row("port", fmt.Sprint(v.Port))
		row("user", v.User)
		row("identity_file", orDash(strings.Join(v.IdentityFiles, " ")))
		row("known_hosts", strings.Join(v.KnownHosts, " "))
		row("global_known_hosts", orDash(strings.Join(v.GlobalKnownHosts, " ")))
		row("host_key_check", v.HostKeyCheck)
		row("connect_timeout", fmt.Sprintf("%gs", v.ConnectTimeout))
		if v.ServerAliveInterval > 0 {
			fmt.Fprintf(w, "  %-16s %-40s %s\n", "server_alive", fmt.Sprintf("every %gs, %d unanswered close", v.ServerAliveInterval, v.ServerAliveCountMax), v.Origin["server_alive_interval"])
		}
		row("jump", orDash(strings.Join(v.Jump, " > ")))
		row("path", v.Path)
		row("owner", orDash(v.Owner))
		row("group", orDash(v.Group))
		row("mode", v.Mode)
		row("sudo", fmt.Sprint(v.Sudo))
		row("sftp_server", orDash(v.SFTPServer))
		row("backups", strconv.Itoa(v.Backups))
		if len(v.Groups) > 0 {
			fmt.Fprintf(w, "  %-16s %s\n", "groups", strings.Join(v.Groups, ", "))
		}
	}
	if len(inv.Groups) > 0 {
		names := make([]string, 0, len(inv.Groups))
		for g := range inv.Groups {
			names = append(names, g)
		}
		sort.Strings(names)
		fmt.Fprintln(w, "\ngroups")
		for _, g := range names {
			fmt.Fprintf(w, "  %-16s %s\n", g, strings.Join(inv.Groups[g], ", "))
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
