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
		"  HostKeyAlias other\n  StrictHostKeyChecking no\n  ControlMaster auto\n"
	inv, err := load(t, "nodes: [{name: a}, {name: b}, {name: c}]", ssh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	warnings := strings.Join(inv.Warnings, "\n")
	for _, want := range []string{"HostKeyAlias is not supported", "StrictHostKeyChecking no is not honoured"} {
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

// ProxyCommand is resolved as ssh does: its tokens expanded with the final
// host, port and user; the first of ProxyJump and ProxyCommand wins, over
// the sources in order; "none" means a direct connection.
func TestProxyCommand(t *testing.T) {
	cases := []struct {
		name, inv, ssh string
		cmd            string
		jump           int
	}{
		{"tokens", "nodes: [{name: db}]", "Host db\n  HostName 10.0.0.5\n  Port 2201\n  User u\n  ProxyCommand ssh -W %h:%p -l %r b-%n %k 100%%\n",
			"ssh -W 10.0.0.5:2201 -l u b-db db 100%", 0},
		{"ProxyJump read first wins", "nodes: [{name: db}]", "Host db\n  ProxyJump b1\nHost *\n  ProxyCommand nc %h %p\n", "", 1},
		{"ProxyCommand read first wins", "nodes: [{name: db}]", "Host db\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump b1\n", "nc db 22", 0},
		{"ProxyCommand none", "nodes: [{name: db}]", "Host db\n  ProxyCommand none\nHost *\n  ProxyJump b1\n", "", 0},
		{"the inventory's jump beats ssh_config", "nodes: [{name: db, jump: [b2]}]", "Host *\n  ProxyCommand nc %h %p\n", "", 1},
		{"Ansible -o ProxyCommand beats ssh_config's ProxyJump", "all:\n  vars:\n    ansible_ssh_common_args: -o 'ProxyCommand=nc %h %p'\n  hosts:\n    db:\n",
			"Host *\n  ProxyJump b1\n", "nc db 22", 0},
		{"Ansible: the first of -J and ProxyCommand", "all:\n  vars:\n    ansible_ssh_common_args: -J b3 -o 'ProxyCommand=nc %h %p'\n  hosts:\n    db:\n", "", "", 1},
		{"Ansible: ProxyCommand before -J", "all:\n  vars:\n    ansible_ssh_common_args: -o 'ProxyCommand=nc %h %p' -J b3\n  hosts:\n    db:\n", "", "nc db 22", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkFirstNode(t, c.inv, c.ssh, Options{}, func(n *Node) (any, any) {
				return []any{n.ProxyCommand, len(n.Jump)}, []any{c.cmd, c.jump}
			})
		})
	}
}

// A bastion reached through its own ProxyCommand (a session manager to
// the bastion, then ProxyJump to the nodes), as ssh -J reaches it.
func TestFirstBastionProxyCommand(t *testing.T) {
	const ssh = "Host db\n  ProxyJump b1,b2\nHost b1\n  ProxyCommand connect %h %p\nHost b2\n  ProxyCommand never\n"
	checkFirstNode(t, "nodes: [{name: db}]", ssh, Options{}, func(n *Node) (any, any) {
		return []string{n.ProxyCommand, n.Jump[0].ProxyCommand, n.Jump[1].ProxyCommand}, []string{"", "connect b1 22", ""}
	})
}

// A ProxyCommand may hold a secret: a fault in it names the setting and
// its line, never the value.
func TestProxyCommandNotEchoed(t *testing.T) {
	for _, ssh := range []string{
		"Host *\n  ProxyCommand sshpass -p s3cret ssh -W %h:%p %x\n",
		"Host *\n  ProxyCommand sshpass -p s3cret\u200b ssh -W %h:%p b\n",
	} {
		_, err := load(t, "nodes: [{name: db}]", ssh, Options{})
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "ssh_config:2") {
			t.Errorf("%q: %v, want an error naming ssh_config:2 without the value", ssh, err)
		}
	}
}

func TestProxyProgram(t *testing.T) {
	for cmd, want := range map[string]string{
		"nc %h %p": "nc", "/usr/bin/ssh -W x b": "/usr/bin/ssh", "SSHPASS=s3cret sshpass -e ssh": "command",
		"": "command", "'nc' h p": "command",
	} {
		if got := (Endpoint{ProxyCommand: cmd}).ProxyProgram(); got != want {
			t.Errorf("ProxyProgram(%q) = %q, want %q", cmd, got, want)
		}
	}
}

// Certificate files as ssh reads them: CertificateFile accumulates, tokens
// and ~ expanded, missing files skipped; the inventory's certificate_file is
// relative to the inventory; Ansible has its variable and -o CertificateFile.
func TestCertificateFiles(t *testing.T) {
	home := t.TempDir()
	write(t, home, ".ssh/c-alice", "not parsed by the inventory")
	write(t, home, ".ssh/c2", "not parsed by the inventory")
	cases := []struct {
		name, inv, ssh string
		want           []string
	}{
		{"ssh_config", "nodes: [{name: a}]", "Host a\n  CertificateFile ~/.ssh/c-%r\n  CertificateFile ~/.ssh/missing\nHost *\n  CertificateFile ~/.ssh/c2\n",
			[]string{home + "/.ssh/c-alice", home + "/.ssh/c2"}},
		{"native", "defaults: {certificate_file: certs/c.pub}\nnodes: [{name: a}]", "Host *\n  CertificateFile ~/.ssh/c2\n", []string{"/certs/c.pub"}},
		{"Ansible variable", "all:\n  hosts:\n    a:\n      es_service_tokens_certificate_file: c.pub\n", "", []string{"/c.pub"}},
		{"Ansible -o", "all:\n  vars:\n    ansible_ssh_common_args: -o CertificateFile=~/.ssh/c-alice -o CertificateFile=~/.ssh/c2\n  hosts:\n    a:\n", "",
			[]string{home + "/.ssh/c-alice", home + "/.ssh/c2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkFirstNode(t, c.inv, c.ssh, Options{Home: home}, func(n *Node) (any, any) {
				got := n.CertificateFiles
				if len(got) == 1 && len(c.want) == 1 && strings.HasPrefix(c.want[0], "/") && !strings.HasPrefix(c.want[0], home) {
					// relative to the inventory, in a temporary directory
					return strings.HasSuffix(got[0], c.want[0]) && filepath.IsAbs(got[0]), true
				}
				return got, c.want
			})
		})
	}
	// A bastion inherits the node's certificates with its key.
	checkFirstNode(t, "defaults: {certificate_file: c.pub, identity_file: k}\nnodes: [{name: a, jump: b}]", "", Options{Home: home}, func(n *Node) (any, any) {
		return n.Jump[0].CertificateFiles, n.CertificateFiles
	})
}
