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
	// ESNodeName is es_node_name, "" when the name is to be read from the
	// node (node.name in its elasticsearch.yml, else its hostname).
	ESNodeName string `json:"es_node_name"`
}

// esView is the inventory's elasticsearch section in nodes' output: where
// credentials come from, never the credentials.
type esView struct {
	URLs           []string `json:"urls"`
	CA             string   `json:"ca,omitempty"`
	CAFingerprint  string   `json:"ca_fingerprint,omitempty"`
	APIKeyFile     string   `json:"api_key_file,omitempty"`
	Username       string   `json:"username,omitempty"`
	PasswordFile   string   `json:"password_file,omitempty"`
	ConfirmTimeout float64  `json:"confirm_timeout_seconds,omitempty"`
	Origin         string   `json:"origin"`
}

func viewES(e *inventory.Elasticsearch) *esView {
	if e == nil {
		return nil
	}
	return &esView{URLs: e.URLs, CA: e.CA, CAFingerprint: e.CAFingerprint, APIKeyFile: e.APIKeyFile,
		Username: e.Username, PasswordFile: e.PasswordFile, ConfirmTimeout: e.ConfirmTimeout.Seconds(), Origin: e.Origin}
}

func view(n *inventory.Node) nodeView {
	v := nodeView{
		Name: n.Name, Host: n.Host, Port: n.Port, User: n.User, IdentityFiles: n.IdentityFiles,
		KnownHosts: n.KnownHostsFiles, HostKeyCheck: n.HostKeyCheck, ConnectTimeout: n.ConnectTimeout.Seconds(),
		Jump: []string{}, Path: n.Path, Owner: n.Owner, Group: n.Group, Mode: fmt.Sprintf("%04o", n.Mode),
		Sudo: n.Sudo, SFTPServer: n.SFTPServer, Backups: n.Backups, Groups: n.Groups, Origin: n.Origin,
		GlobalKnownHosts: append([]string{}, n.GlobalKnownHostsFiles...), IdentitiesOnly: n.IdentitiesOnly,
		ServerAliveInterval: n.ServerAliveInterval.Seconds(), ServerAliveCountMax: n.ServerAliveCountMax,
		ESNodeName: n.ESNodeName,
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
	if err := noArgs(c); err != nil {
		return err
	}
	if err := t.needInventory(c); err != nil {
		return err
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
			ES        *esView             `json:"elasticsearch,omitempty"`
		}{inv.File, inv.Format, inv.LocalFile, views, groups, append([]string{}, inv.Warnings...), viewES(inv.Elasticsearch)})
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
		if inv.Elasticsearch != nil || v.ESNodeName != "" {
			row("es_node_name", orDash(v.ESNodeName))
		}
		if len(v.Groups) > 0 {
			fmt.Fprintf(w, "  %-16s %s\n", "groups", strings.Join(v.Groups, ", "))
		}
	}
	printESSection(w, viewES(inv.Elasticsearch))
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

// printESSection shows the elasticsearch section: what confirmation and check
// will use.
func printESSection(w io.Writer, e *esView) {
	if e == nil {
		return
	}
	fmt.Fprintf(w, "\nelasticsearch (%s)\n", e.Origin)
	row := func(key, value string) { fmt.Fprintf(w, "  %-16s %s\n", key, value) }
	row("url", strings.Join(e.URLs, " "))
	switch {
	case e.CA != "":
		row("ca", e.CA)
	case e.CAFingerprint != "":
		row("ca_fingerprint", e.CAFingerprint)
	default:
		row("ca", "- (the system's trusted CAs)")
	}
	switch {
	case e.APIKeyFile != "":
		row("api_key_file", e.APIKeyFile)
	case e.Username != "":
		row("username", e.Username+", password_file "+orDash(e.PasswordFile))
	default:
		row("credentials", "- (ES_API_KEY, else ES_USERNAME and ES_PASSWORD, from the environment)")
	}
	if e.ConfirmTimeout > 0 {
		row("confirm_timeout", fmt.Sprintf("%gs", e.ConfirmTimeout))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
