package inventory

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Ansible's ssh command line: ssh_args, then its own -o Port/IdentityFile/
// User, then ansible_ssh_common_args, then ansible_ssh_extra_args; ssh
// keeps the first value of each option. ssh_config comes after all of them.
func TestAnsibleSSHArgs(t *testing.T) {
	dir := t.TempDir()
	key1 := write(t, dir, "k1", "key")
	key2 := write(t, dir, "k2", "key")
	alt := write(t, dir, "alt_config", "Host db\n  HostName 10.9.9.9\n  Port 2299\n  User altuser\n  ProxyJump jumper\nHost jumper\n  HostName 10.8.8.8\n")
	cases := []struct {
		name, vars, cfg, ssh string
		env                  map[string]string
		check                func(n *Node) (got, want any)
	}{
		{"-o Port in common args", "ansible_ssh_common_args: -o Port=2201", "", "",
			nil, func(n *Node) (any, any) { return n.Port, 2201 }},
		{"ansible_port beats common args", "{ansible_port: 2202, ansible_ssh_common_args: '-p 2201'}", "", "",
			nil, func(n *Node) (any, any) { return n.Port, 2202 }},
		{"ssh_args beat ansible_port", "{ansible_port: 2202, ansible_ssh_args: '-o Port=2203'}", "", "",
			nil, func(n *Node) (any, any) { return n.Port, 2203 }},
		{"common args beat extra args", "{ansible_ssh_common_args: '-l common', ansible_ssh_extra_args: '-l extra'}", "", "",
			nil, func(n *Node) (any, any) { return n.User, "common" }},
		{"extra args beat ssh_config", "ansible_ssh_extra_args: -oUser=extra", "", "Host *\n  User fromconfig\n",
			nil, func(n *Node) (any, any) { return n.User, "extra" }},
		{"first -o wins within the arguments", "ansible_ssh_common_args: '-o User=first -l second -o User=third'", "", "",
			nil, func(n *Node) (any, any) { return n.User, "first" }},
		{"-i accumulates, missing skipped as ssh does", "ansible_ssh_common_args: '-i " + key1 + " -i /nonexistent -o IdentityFile=\"" + key2 + "\"'", "", "",
			nil, func(n *Node) (any, any) { return n.IdentityFiles, []string{key1, key2} }},
		{"-o UserKnownHostsFile with tokens", "ansible_ssh_common_args: '-o UserKnownHostsFile=/kh/%n_%p'", "", "",
			nil, func(n *Node) (any, any) { return n.KnownHostsFiles, []string{"/kh/db_22"} }},
		{"-o StrictHostKeyChecking=accept-new", "ansible_ssh_extra_args: '-o StrictHostKeyChecking=accept-new'", "", "",
			nil, func(n *Node) (any, any) { return n.HostKeyCheck, HostKeyAcceptNew }},
		{"-J and -o ProxyJump", "ansible_ssh_common_args: '-J ops@bastion:2022'", "", "",
			nil, func(n *Node) (any, any) { return n.Jump[0].User + "@" + n.Jump[0].Address(), "ops@bastion:2022" }},
		{"-F replaces ssh_config", "ansible_ssh_common_args: '-F " + alt + "'", "", "Host *\n  Port 1111\n",
			nil, func(n *Node) (any, any) {
				return []any{n.Host, n.Port, n.User, n.Jump[0].Host}, []any{"10.9.9.9", 2299, "altuser", "10.8.8.8"}
			}},
		{"-o HostName beats ssh_config's", "ansible_ssh_common_args: '-o HostName=10.1.1.1'", "", "Host db\n  HostName 10.2.2.2\n",
			nil, func(n *Node) (any, any) { return n.Host, "10.1.1.1" }},
		{"-o ServerAliveInterval", "ansible_ssh_common_args: '-o ServerAliveInterval=15 -o ServerAliveCountMax=2'", "", "",
			nil, func(n *Node) (any, any) {
				return []any{n.ServerAliveInterval.Seconds(), n.ServerAliveCountMax}, []any{15.0, 2}
			}},
		{"ansible.cfg remote_user", "{}", "[defaults]\nremote_user = cfguser ; inline comment\n", "Host *\n  User fromconfig\n",
			nil, func(n *Node) (any, any) { return n.User, "cfguser" }},
		{"ansible_user beats ansible.cfg", "ansible_user: varuser", "[defaults]\nremote_user = cfguser\n", "",
			nil, func(n *Node) (any, any) { return n.User, "varuser" }},
		{"ANSIBLE_REMOTE_USER beats ansible.cfg", "{}", "[defaults]\nremote_user = cfguser\n", "",
			map[string]string{"ANSIBLE_REMOTE_USER": "envuser"}, func(n *Node) (any, any) { return n.User, "envuser" }},
		{"ansible.cfg private_key_file relative to the file", "{}", "[defaults]\nprivate_key_file = k1\n", "",
			nil, func(n *Node) (any, any) { return n.IdentityFiles, []string{key1} }},
		{"ansible.cfg ssh_args", "{}", "[ssh_connection]\nssh_args = -C -o ControlMaster=auto -o Port=2204\n", "",
			nil, func(n *Node) (any, any) { return n.Port, 2204 }},
		{"ansible_ssh_common_args beats ansible.cfg's", "ansible_ssh_common_args: -p 2205", "[ssh_connection]\nssh_common_args = -p 2206\n", "",
			nil, func(n *Node) (any, any) { return n.Port, 2205 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := Options{Getenv: func(k string) string { return c.env[k] }}
			if c.cfg != "" {
				opts.AnsibleConfig = write(t, dir, "ansible.cfg", c.cfg)
			} else {
				opts.AnsibleConfig = write(t, dir, "empty.cfg", "")
			}
			vars := c.vars
			if !strings.HasPrefix(vars, "{") {
				vars = "{" + vars + "}"
			}
			inv, err := load(t, "all:\n  hosts:\n    db: "+vars+"\n", c.ssh, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, want := c.check(inv.Nodes[0])
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v (origins %v)", got, want, inv.Nodes[0].Origin)
			}
		})
	}
}

func TestAnsibleArgsWarnings(t *testing.T) {
	if _, err := load(t, "all:\n  hosts:\n    a:\n", "", Options{AnsibleConfig: "/nonexistent-h11a"}); err == nil || !strings.Contains(err.Error(), "/nonexistent-h11a") {
		t.Fatalf("a missing ansible.cfg given explicitly: %v, want an error naming it", err)
	}
	inv, err := load(t, "all:\n  vars:\n    ansible_ssh_common_args: '-C -o ControlMaster=auto -o LocalCommand=\"sshpass -p s3cret\" -A'\n  hosts:\n    a:\n    b:\n", "", Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(inv.Warnings, "\n")
	if strings.Count(w, "LocalCommand") != 1 || strings.Contains(w, "s3cret") || strings.Count(w, "-A is not supported") != 1 || strings.Contains(w, "ControlMaster") {
		t.Errorf("warnings:\n%s", w)
	}
	if n := strings.Join(inv.Notes, "\n"); strings.Count(n, "ControlMaster=auto has no effect") != 1 {
		t.Errorf("notes:\n%s", n)
	}
}

func TestAnsibleLocalFile(t *testing.T) {
	inv, err := load(t, "all:\n  vars:\n    es_service_tokens_local_file: tokens/service_tokens\n  hosts:\n    a:\n", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(inv.LocalFile) || !strings.HasSuffix(inv.LocalFile, "/tokens/service_tokens") {
		t.Errorf("LocalFile = %q, want it relative to the inventory", inv.LocalFile)
	}
	_, err = load(t, "all:\n  hosts:\n    a:\n      es_service_tokens_local_file: x\n    b:\n      es_service_tokens_local_file: y\n", "", Options{})
	if err == nil || !strings.Contains(err.Error(), "every node gets the same file") {
		t.Errorf("two local files: %v", err)
	}
}
