package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
)

// TestAgainstSSHG: for a table of ssh_configs, `nodes --format json`
// resolves each host as `ssh -G` (the installed OpenSSH client) does:
// hostname, user, port, identity files, known_hosts files, ProxyJump and
// ProxyCommand, keep-alives and connect timeout.
func TestAgainstSSHG(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("ssh (OpenSSH client) is not installed")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("not parsed by nodes"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	k1, k2 := key("id_one"), key("id_two")
	include := filepath.Join(dir, "included.conf")
	if err := os.WriteFile(include, []byte("Host es-*\n  Port 2207\n  User included\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, host, config string
	}{
		{"plain", "es-1", "Host es-1\n  HostName 10.0.0.11\n  User deploy\n  Port 2201\n"},
		{"first value wins across blocks", "es-1", "Host es-1\n  User first\nHost *\n  User second\n  Port 2202\n"},
		{"wildcards and negation", "es-2", "Host es-* !es-1\n  User wild\nHost es-?\n  Port 2203\n"},
		{"negated host never matches", "es-1", "Host es-* !es-1\n  User wild\n"},
		{"host patterns are case-sensitive", "es-1", "Host ES-1\n  HostName 10.0.0.12\nHost es-?\n  HostName 10.0.0.14\n"},
		{"HostName %h", "es-1", "Host es-1\n  HostName %h.example.com\n"},
		{"known_hosts tokens", "es-1", "Host es-1\n  HostName 10.0.0.13\n  User bob\n  Port 2204\n" +
			"  UserKnownHostsFile /kh/%h_%n_%r_%p %d/%u_%i /kh/%L_%l_%C_%% ~/kh ${HOME}/env\n"},
		{"known_hosts lists, user and global", "es-1", "Host es-1\n  UserKnownHostsFile /a /b\n  GlobalKnownHostsFile /etc/g1 /etc/g2\n"},
		{"identity files accumulate, missing skipped", "es-1", "Host es-1\n  IdentityFile " + k1 + "\n  IdentityFile " + filepath.Join(dir, "missing") + "\nHost *\n  IdentityFile " + k2 + "\n"},
		{"Include", "es-3", "Include " + include + "\nHost *\n  Port 2299\n"},
		{"ProxyJump chain", "es-1", "Host es-1\n  ProxyJump ops@b1:2022,b2\n"},
		{"ProxyJump none", "es-1", "Host es-1\n  ProxyJump none\nHost *\n  ProxyJump b9\n"},
		{"ProxyCommand", "es-1", "Host es-1\n  ProxyCommand ssh -W %h:%p bastion\n"},
		{"ProxyJump before ProxyCommand", "es-1", "Host es-1\n  ProxyJump b1\nHost *\n  ProxyCommand nc %h %p\n"},
		{"ProxyCommand before ProxyJump", "es-1", "Host es-1\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump b1\n"},
		{"ProxyCommand none", "es-1", "Host es-1\n  ProxyCommand none\nHost *\n  ProxyJump b1\n  ProxyCommand nc %h %p\n"},
		{"keep-alives and timeout", "es-1", "Host *\n  ServerAliveInterval 1m30s\n  ServerAliveCountMax 5\n  ConnectTimeout 7\n"},
		{"harmless options", "es-1", "Host *\n  BatchMode yes\n  LogLevel ERROR\n  UpdateHostKeys yes\n  ControlMaster auto\n  Port 2205\n"},
		{"defaults", "es-1", ""},
	}
	env := map[string]string{"HOME": me.HomeDir, "USER": me.Username}
	getenv := func(k string) string { return env[k] }
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := filepath.Join(dir, "config"+string(rune('a'+i)))
			if err := os.WriteFile(cfg, []byte(c.config), 0o600); err != nil {
				t.Fatal(err)
			}
			inv := filepath.Join(dir, "inv.yml")
			if err := os.WriteFile(inv, []byte("nodes:\n  - name: "+c.host+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(sshBin, "-G", "-F", cfg, c.host)
			cmd.Env = []string{"HOME=" + me.HomeDir, "PATH=" + os.Getenv("PATH")}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ssh -G: %v", err)
			}
			ssh := map[string][]string{}
			for _, line := range strings.Split(string(out), "\n") {
				k, v, _ := strings.Cut(line, " ")
				ssh[k] = append(ssh[k], v)
			}

			var stdout, stderr bytes.Buffer
			if code := run([]string{"es-service-tokens", "-i", inv, "--ssh-config", cfg, "--format", "json", "nodes"}, strings.NewReader(""), &stdout, &stderr, getenv); code != 0 {
				t.Fatalf("nodes exited %d: %s", code, stderr.String())
			}
			var res struct {
				Nodes []output.NodeView `json:"nodes"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			n := res.Nodes[0]
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: nodes says %v, ssh -G %v", what, got, want)
				}
			}
			check("hostname", n.Host, ssh["hostname"][0])
			check("user", n.User, ssh["user"][0])
			check("port", fmt1(n.Port), ssh["port"][0])
			check("globalknownhostsfile", strings.Join(n.GlobalKnownHosts, " "), ssh["globalknownhostsfile"][0])
			knownHosts := ssh["userknownhostsfile"][0]
			if !strings.Contains(c.config, "UserKnownHostsFile") {
				// ssh also reads ~/.ssh/known_hosts2, deprecated since
				// OpenSSH 5.9; this tool reads and records ~/.ssh/known_hosts.
				knownHosts = strings.TrimSuffix(knownHosts, " "+filepath.Join(me.HomeDir, ".ssh", "known_hosts2"))
			}
			check("userknownhostsfile", strings.Join(n.KnownHosts, " "), knownHosts)
			if strings.Contains(c.config, "IdentityFile") {
				// ssh -G lists the files as configured (OpenSSH 9.2 expands
				// them only when loading, skipping missing ones); nodes
				// lists what will be offered.
				var want []string
				for _, f := range ssh["identityfile"] {
					if _, err := os.Stat(f); err == nil {
						want = append(want, f)
					}
				}
				check("identityfile", n.IdentityFiles, want)
			}
			var hops []string
			if pj := ssh["proxyjump"]; len(pj) > 0 {
				hops = strings.Split(pj[0], ",")
			}
			if len(hops) != len(n.Jump) {
				t.Errorf("proxyjump: nodes says %v, ssh -G %v", n.Jump, hops)
			}
			for i := 0; i < len(hops) && i < len(n.Jump); i++ {
				// ssh -G shows the hop as written, [user@]host[:port];
				// nodes shows it resolved, user@host:port.
				user, hostport, found := strings.Cut(hops[i], "@")
				if !found {
					user, hostport = "", hops[i]
				}
				host, port, found := strings.Cut(hostport, ":")
				if !found {
					port = "22"
				}
				gotUser, gotHostPort, _ := strings.Cut(n.Jump[i], "@")
				if gotHostPort != host+":"+port || user != "" && gotUser != user {
					t.Errorf("proxyjump hop %d: nodes says %s, ssh -G %s", i, n.Jump[i], hops[i])
				}
			}
			// ssh -G shows the command as written; nodes shows only its
			// program (the rest may hold a secret).
			var program string
			if pc := ssh["proxycommand"]; len(pc) > 0 {
				program, _, _ = strings.Cut(pc[0], " ")
			}
			check("proxycommand", n.ProxyProgram, program)
			if strings.Contains(c.config, "ServerAlive") {
				// Only when set: Debian's ssh also turns keep-alives on
				// (every 300s) under BatchMode yes, a distribution patch.
				check("serveraliveinterval", fmt1(int(n.ServerAliveInterval)), ssh["serveraliveinterval"][0])
				check("serveralivecountmax", fmt1(n.ServerAliveCountMax), ssh["serveralivecountmax"][0])
			}
			if ct := ssh["connecttimeout"][0]; ct != "none" {
				check("connecttimeout", fmt1(int(n.ConnectTimeout)), ct)
			}
		})
	}
}

func fmt1(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
