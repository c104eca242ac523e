package inventory

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ssh(1)'s tokens: %u is the local user, %r the remote one, %h the
// HostName, %n the name given.
func TestTokens(t *testing.T) {
	const ssh = "Host db\n  HostName db-%h.example\n  User remote\n  Port 2201\n" +
		"  UserKnownHostsFile /kh/%u_%r_%h_%n_%p_%%_%d /kh/%i_%L_%l\n"
	home := t.TempDir() // load writes into it
	inv, err := load(t, "nodes: [{name: db}]", ssh, Options{User: "alice", Home: home})
	if err != nil {
		t.Fatal(err)
	}
	n := inv.Nodes[0]
	if n.Host != "db-db.example" {
		t.Errorf("HostName %%h = %q, want the alias expanded: db-db.example", n.Host)
	}
	if got := n.KnownHostsFiles[0]; got != "/kh/alice_remote_db-db.example_db_2201_%_"+home {
		t.Errorf("UserKnownHostsFile = %q", got)
	}
	local := currentLocal(Options{})
	short, _, _ := strings.Cut(local.host, ".")
	if got, want := n.KnownHostsFiles[1], "/kh/"+local.uid+"_"+short+"_"+local.host; got != want {
		t.Errorf("UserKnownHostsFile = %q, want %q", got, want)
	}
}

func TestSSHOptions(t *testing.T) {
	cases := []struct {
		name, ssh string
		check     nodeCheck
	}{
		{"GlobalKnownHostsFile read as written", "Host *\n  GlobalKnownHostsFile /etc/kh1 ~/kh2\n",
			func(n *Node) (any, any) { return n.GlobalKnownHostsFiles, []string{"/etc/kh1", "~/kh2"} }},
		{"GlobalKnownHostsFile default", "",
			func(n *Node) (any, any) { return n.GlobalKnownHostsFiles, DefaultGlobalKnownHosts }},
		{"ServerAliveInterval in ssh's time format", "Host *\n  ServerAliveInterval 1m30s\n  ServerAliveCountMax 5\n",
			func(n *Node) (any, any) {
				return []any{n.ServerAliveInterval, n.ServerAliveCountMax}, []any{90 * time.Second, 5}
			}},
		{"keep-alives off by default", "",
			func(n *Node) (any, any) {
				return []any{n.ServerAliveInterval, n.ServerAliveCountMax}, []any{time.Duration(0), 3}
			}},
		{"IdentitiesOnly", "Host *\n  IdentitiesOnly yes\n",
			func(n *Node) (any, any) { return n.IdentitiesOnly, true }},
		{"ConnectTimeout 0 is no ssh timeout; ours stays bounded", "Host *\n  ConnectTimeout 0\n",
			func(n *Node) (any, any) { return n.ConnectTimeout, DefaultConnectTimeout }},
		{"identity file tokens use the final values", "Host a\n  User bob\n  IdentityFile ~/.ssh/from_%r\n  IdentityFile ~/.ssh/from_ssh\n",
			func(n *Node) (any, any) { return filepath.Base(n.IdentityFiles[0]), "from_ssh" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkFirstNode(t, "nodes: [{name: a}]", c.ssh, Options{}, c.check) })
	}
}

// Harmless options are notes (shown with -v); those that change where or
// how securely the tool connects are warnings, once per run.
func TestIgnoredOptions(t *testing.T) {
	const ssh = "Host *\n  BatchMode yes\n  LogLevel ERROR\n  UpdateHostKeys yes\n  ServerAliveInterval 30\n" +
		"  ProxyCommand nc %h %p\n  StrictHostKeyChecking no\n  ControlMaster auto\n"
	inv, err := load(t, "nodes: [{name: a}, {name: b}, {name: c}]", ssh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	warnings := strings.Join(inv.Warnings, "\n")
	for _, want := range []string{"ProxyCommand is not supported", "StrictHostKeyChecking no is not honoured"} {
		if strings.Count(warnings, want) != 1 {
			t.Errorf("want one warning %q, got:\n%s", want, warnings)
		}
	}
	for _, quiet := range []string{"BatchMode", "LogLevel", "UpdateHostKeys", "ServerAlive", "ControlMaster"} {
		if strings.Contains(warnings, quiet) {
			t.Errorf("%s warned about:\n%s", quiet, warnings)
		}
	}
	notes := strings.Join(inv.Notes, "\n")
	for _, want := range []string{"BatchMode", "LogLevel", "UpdateHostKeys", "ControlMaster"} {
		if strings.Count(notes, want+" has no effect") != 1 {
			t.Errorf("want one note on %s, got:\n%s", want, notes)
		}
	}
}
