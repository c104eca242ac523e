package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, inv, sshConfig string, opts Options) (*Inventory, error) {
	t.Helper()
	dir := t.TempDir()
	if opts.Home == "" {
		opts.Home = dir
	}
	// An identity file the ssh_config cases name; ~/.ssh/missing is not there.
	write(t, opts.Home, ".ssh/from_ssh", "not parsed by the inventory")
	if opts.User == "" {
		opts.User = "alice"
	}
	opts.SSHConfig = write(t, dir, "ssh_config", sshConfig)
	return Load(write(t, dir, "inventory.yml", inv), opts)
}

// errorCase is an inventory that must fail to load, and words its error
// must hold.
type errorCase struct{ inv, want string }

// wantErrors loads each inventory and expects one inventory.Error with
// the case's words.
func wantErrors(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, c := range cases {
		_, err := load(t, c.inv, "", Options{})
		var ie *Error
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant an inventory.Error containing %q", c.inv, err, c.want)
		}
	}
}

// nodeCheck returns what one setting of a node is and what it should be.
type nodeCheck func(n *Node) (got, want any)

// checkFirstNode loads an inventory with an ssh_config and checks its
// first node.
func checkFirstNode(t *testing.T, inv, sshConfig string, opts Options, check nodeCheck) {
	t.Helper()
	loaded, err := load(t, inv, sshConfig, opts)
	if err != nil {
		t.Fatal(err)
	}
	got, want := check(loaded.Nodes[0])
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// Each precedence rule is a case: flags, the node, the defaults, then
// ssh_config, then the built-in default.
func TestPrecedence(t *testing.T) {
	const ssh = "Host *\n  Port 2300\n  User sshuser\n  ConnectTimeout 7\n  IdentityFile ~/.ssh/from_ssh\n  StrictHostKeyChecking accept-new\n"
	cases := []struct {
		name, inv, ssh string
		opts           Options
		check          nodeCheck
	}{
		{"node beats defaults", "defaults: {port: 2200}\nnodes: [{name: a, port: 2222}]", ssh, Options{},
			func(n *Node) (any, any) { return n.Port, 2222 }},
		{"defaults beat ssh_config", "defaults: {port: 2200}\nnodes: [{name: a}]", ssh, Options{},
			func(n *Node) (any, any) { return n.Port, 2200 }},
		{"ssh_config beats built-in", "nodes: [{name: a}]", ssh, Options{},
			func(n *Node) (any, any) { return n.Port, 2300 }},
		{"built-in port", "nodes: [{name: a}]", "", Options{},
			func(n *Node) (any, any) { return n.Port, 22 }},
		{"flag beats everything", "defaults: {connect_timeout: 3s}\nnodes: [{name: a, connect_timeout: 4}]", ssh, Options{ConnectTimeout: time.Second},
			func(n *Node) (any, any) { return n.ConnectTimeout, time.Second }},
		{"node timeout in seconds", "defaults: {connect_timeout: 3s}\nnodes: [{name: a, connect_timeout: 4}]", ssh, Options{},
			func(n *Node) (any, any) { return n.ConnectTimeout, 4 * time.Second }},
		{"ssh_config timeout", "nodes: [{name: a}]", ssh, Options{},
			func(n *Node) (any, any) { return n.ConnectTimeout, 7 * time.Second }},
		{"user from ssh_config", "nodes: [{name: a}]", ssh, Options{},
			func(n *Node) (any, any) { return n.User, "sshuser" }},
		{"current user by default", "nodes: [{name: a}]", "", Options{},
			func(n *Node) (any, any) { return n.User, "alice" }},
		{"StrictHostKeyChecking accept-new", "nodes: [{name: a}]", ssh, Options{},
			func(n *Node) (any, any) { return n.HostKeyCheck, HostKeyAcceptNew }},
		{"inventory host_key_check beats ssh_config", "defaults: {host_key_check: strict}\nnodes: [{name: a}]", ssh, Options{},
			func(n *Node) (any, any) { return n.HostKeyCheck, HostKeyStrict }},
		{"HostName maps the alias", "nodes: [{name: a, host: db-alias}]", "Host db-alias\n  HostName 10.1.2.3\n", Options{},
			func(n *Node) (any, any) { return []string{n.Alias, n.Host}, []string{"db-alias", "10.1.2.3"} }},
		{"identity file from ssh_config, ~ expanded", "nodes: [{name: a}]", ssh, Options{},
			func(n *Node) (any, any) { return filepath.Base(n.IdentityFiles[0]), "from_ssh" }},
		{"missing ssh_config identity skipped, as ssh does", "nodes: [{name: a}]", "Host *\n  IdentityFile ~/.ssh/missing\n  IdentityFile ~/.ssh/from_ssh\n", Options{},
			func(n *Node) (any, any) { return len(n.IdentityFiles), 1 }},
		{"inventory paths are relative to the inventory", "defaults: {identity_file: keys/id, known_hosts: kh}\nnodes: [{name: a}]", ssh, Options{},
			func(n *Node) (any, any) {
				return []bool{filepath.IsAbs(n.IdentityFiles[0]), strings.HasSuffix(n.KnownHostsFiles[0], "/kh")}, []bool{true, true}
			}},
		{"default mode and path", "nodes: [{name: a}]", "", Options{},
			func(n *Node) (any, any) { return []any{n.Mode, n.Path}, []any{DefaultMode, DefaultPath} }},
		{"ProxyJump chain from ssh_config", "nodes: [{name: a}]", "Host a\n  ProxyJump j1,ops@j2:2022\n", Options{},
			func(n *Node) (any, any) {
				return []string{n.Jump[0].Address(), n.Jump[1].User, n.Jump[1].Address()}, []string{"j1:22", "ops", "j2:2022"}
			}},
		{"inventory jump beats ProxyJump", "defaults: {jump: 'u@b:2'}\nnodes: [{name: a}]", "Host a\n  ProxyJump j1\n", Options{},
			func(n *Node) (any, any) { return n.Jump[0].Address(), "b:2" }},
		{"bastion resolved through ssh_config", "defaults: {jump: bastion}\nnodes: [{name: a}]", "Host bastion\n  HostName 10.0.0.1\n  Port 2201\n  User jumper\n", Options{},
			func(n *Node) (any, any) { return n.Jump[0].User + "@" + n.Jump[0].Address(), "jumper@10.0.0.1:2201" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkFirstNode(t, c.inv, c.ssh, c.opts, c.check) })
	}
}

func TestOriginsAreRecorded(t *testing.T) {
	inv, err := load(t, "defaults:\n  user: deploy\nnodes:\n  - name: a\n    port: 2222\n", "Host a\n  HostName 10.0.0.9\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := inv.Nodes[0].Origin
	for key, want := range map[string]string{"user": "inventory.yml:2 (defaults)", "port": "inventory.yml:5 (node a)", "host": "HostName from", "mode": "built-in default"} {
		if !strings.Contains(o[key], want) {
			t.Errorf("origin of %s = %q, want it to contain %q", key, o[key], want)
		}
	}
}

// Bad input is one error naming the file, the line and the key.
func TestNativeErrors(t *testing.T) {
	cases := []errorCase{
		{"nodes: [{name: a, prot: 22}]", "inventory.yml:1: prot: unknown key in node a"},
		{"nodes:\n  - name: a\n  - name: a\n", "inventory.yml:3: nodes[1].name: duplicate node a (first on line 2)"},
		{"defaults:\n  mode: '0999'\nnodes: [{name: a}]", "inventory.yml:2: mode: node a: \"0999\" is not a file mode"},
		{"defaults:\n  mode: '4777'\nnodes: [{name: a}]", "inventory.yml:2: mode: node a: \"4777\" sets setuid: setuid, setgid and sticky bits are not allowed; give the permission bits alone, e.g. \"0660\""},
		{"defaults:\n  mode: '3640'\nnodes: [{name: a}]", "inventory.yml:2: mode: node a: \"3640\" sets setgid and sticky: setuid, setgid and sticky bits are not allowed; give the permission bits alone, e.g. \"0640\""},
		{"defaults:\n  mode: '07660'\nnodes: [{name: a}]", "inventory.yml:2: mode: node a: \"07660\" sets setuid, setgid and sticky: setuid, setgid and sticky bits are not allowed; give the permission bits alone, e.g. \"0660\""},
		{"defaults:\n  mode: '0200'\nnodes: [{name: a}]", "neither the owner nor the group read the file"},
		{"nodes:\n  - name: a\n    port: 70000\n", "inventory.yml:3: port: node a: \"70000\" is not a port (1-65535)"},
		{"nodes: [{name: a}]\ngroups:\n  hot: [a, b]\n", "inventory.yml:3: groups.hot: unknown node \"b\""},
		{"nodes: [{name: a}]\ngroups:\n  a: [a]\n", "a node has the same name"},
		{"defaults: {host_key_check: no}\nnodes: [{name: a}]", "is not strict or accept-new (there is no way to skip the check)"},
		{"nodes: [{name: 'a b'}]", "nodes[0].name: \"a b\": use letters, digits"},
		{"nodes: []", "inventory.yml: no nodes"},
		{"defaults: {user: x}", "nodes: missing"},
		{"nodes: [{name: a, path: relative/tokens}]", "is not an absolute file path"},
		{"nodes: [{name: a, owner: 'root;rm -rf'}]", "is not a user or group name or number"},
		{"nodes: [{name: a}]\nextra: 1", "inventory.yml:2: extra: unknown key; the top level holds"},
		{"nodes: [{name: a, sudo: perhaps}]", "\"perhaps\" is not true or false"},
	}
	wantErrors(t, cases)
}

func TestSSHConfigNoIsNotHonoured(t *testing.T) {
	inv, err := load(t, "nodes: [{name: a}]", "Host *\n  StrictHostKeyChecking no\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Nodes[0].HostKeyCheck != HostKeyStrict || len(inv.Warnings) != 1 || !strings.Contains(inv.Warnings[0], "host keys are always checked") {
		t.Errorf("check %s, warnings %q", inv.Nodes[0].HostKeyCheck, inv.Warnings)
	}
}

const nativeEquivalent = `
defaults:
  user: deploy
  path: /etc/elasticsearch/service_tokens
  owner: root
  group: elasticsearch
  mode: "0640"
nodes:
  - name: es01
    sudo: true
  - name: es02
    sudo: true
  - name: es03
    sudo: true
  - name: coord
    host: 10.0.0.9
    port: 2222
    user: admin
    mode: "0660"
    jump: ops@bastion:22
groups:
  elasticsearch: [coord, es01, es02, es03]
  data: [es01, es02, es03]
  hot: [es01, es02]
  coordinating: [coord]
`

const ansibleEquivalent = `
all:
  vars:
    ansible_user: deploy
    es_service_tokens_owner: root
    es_service_tokens_group: elasticsearch
    es_service_tokens_mode: "0600"
  children:
    elasticsearch:
      vars:
        es_service_tokens_mode: "0640"
        es_service_tokens_path: /etc/elasticsearch/service_tokens
      children:
        data:
          vars:
            ansible_become: true
          hosts:
            es[01:03]:
          children:
            hot:
              hosts:
                es01:
                es02:
        coordinating:
          hosts:
            coord:
              ansible_host: 10.0.0.9
              ansible_port: 2222
              ansible_user: admin
              ansible_ssh_common_args: '-o ProxyJump=ops@bastion:22'
              es_service_tokens_mode: "0660"
`

// An Ansible inventory resolves to the same node table as the native
// inventory written for the same cluster.
func TestAnsibleMatchesNative(t *testing.T) {
	ssh := "Host es01\n  HostName 10.0.0.1\nHost es02\n  HostName 10.0.0.2\nHost es03\n  HostName 10.0.0.3\n"
	home := t.TempDir()
	native, err := load(t, nativeEquivalent, ssh, Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := load(t, ansibleEquivalent, ssh, Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Format != "ansible" || native.Format != "native" {
		t.Fatalf("formats %s, %s", ans.Format, native.Format)
	}
	strip := func(inv *Inventory) []Node {
		var out []Node
		for _, n := range inv.Nodes {
			c := *n
			c.Origin = nil
			out = append(out, c)
		}
		return out
	}
	a, n := strip(ans), strip(native)
	byName := func(ns []Node) map[string]Node {
		m := map[string]Node{}
		for _, x := range ns {
			m[x.Name] = x
		}
		return m
	}
	am, nm := byName(a), byName(n)
	if len(am) != 4 || len(nm) != 4 {
		t.Fatalf("nodes: ansible %d, native %d", len(am), len(nm))
	}
	for name, want := range nm {
		got := am[name]
		got.Groups = filterGroups(got.Groups)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nansible %+v\nnative  %+v", name, got, want)
		}
	}
	for _, n := range ans.Nodes {
		want := map[string]string{"coord": "(host coord)", "es01": "(group elasticsearch)"}[n.Name]
		if o := n.Origin["mode"]; want != "" && !strings.Contains(o, want) {
			t.Errorf("origin of %s's mode = %q, want %q", n.Name, o, want)
		}
	}
	sel, err := ans.Select("hot,coordinating,!es02")
	if err != nil || len(sel) != 2 || sel[0].Name != "es01" || sel[1].Name != "coord" {
		t.Errorf("Select = %v, %v", names(sel), err)
	}
}

func filterGroups(gs []string) []string {
	var out []string
	for _, g := range gs {
		if g != "ungrouped" {
			out = append(out, g)
		}
	}
	return out
}

func names(ns []*Node) []string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Name)
	}
	return s
}

func TestAnsibleRejectsWhatItCannotHonour(t *testing.T) {
	cases := []struct{ inv, want string }{
		{"all:\n  hosts:\n    a:\n      ansible_host: '{{ lookup(\"x\") }}'\n", "Jinja templates are not evaluated"},
		{"all:\n  hosts:\n    a:\n      ansible_become_user: elasticsearch\n", "only root is supported"},
		{"all:\n  hosts:\n    a:\n      ansible_become_method: su\n", "only sudo is supported"},
	}
	for _, c := range cases {
		if _, err := load(t, c.inv, "", Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.inv, err, c.want)
		}
	}
	inv, err := load(t, "all:\n  hosts:\n    a:\n      ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o ProxyJump=b'\n      ansible_password: x\n", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Nodes[0].Jump[0].Host != "b" {
		t.Errorf("ProxyJump from ansible_ssh_common_args not used: %+v", inv.Nodes[0].Jump)
	}
	w := strings.Join(inv.Warnings, "\n")
	if !strings.Contains(w, "StrictHostKeyChecking no is not honoured") || !strings.Contains(w, "ansible_password is ignored") {
		t.Errorf("warnings: %s", w)
	}
}

func TestLimit(t *testing.T) {
	inv, err := load(t, nativeEquivalent, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"":                nil, // an empty $NODES must not mean every node
		" , ":             nil,
		"all":             {"es01", "es02", "es03", "coord"},
		"hot":             {"es01", "es02"},
		"es0*,!es02":      {"es01", "es03"},
		"!es02,es0*":      {"es01", "es03"},
		"!data":           {"coord"},
		"coord,hot":       {"es01", "es02", "coord"},
		"co*":             {"coord"}, // a pattern matches groups too: coordinating
		"data,!hot,!es03": nil,
		// Ansible's syntax: ':' unions, ':!' exclusions, ':&' intersections,
		// ~regex, fnmatch classes.
		"data:!hot":       {"es03"},
		"data:&hot":       {"es01", "es02"},
		"&hot":            {"es01", "es02"},
		"es0*:&hot:!es01": {"es02"},
		"~es0[13]":        {"es01", "es03"},
		"~co":             {"coord"},
		"es0[!2]*":        {"es01", "es03"},
		"hot:coord":       {"es01", "es02", "coord"},
		"es01[0]":         nil, // a subscript: refused, not guessed at
	}
	for limit, want := range cases {
		sel, err := inv.Select(limit)
		if want == nil {
			if err == nil {
				t.Errorf("%q selected %v, want an error", limit, names(sel))
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(names(sel), want) {
			t.Errorf("%q: %v, %v; want %v", limit, names(sel), err, want)
		}
	}
	if _, err := inv.Select("es99"); err == nil || !strings.Contains(err.Error(), `no node or group matches "es99"`) {
		t.Errorf("typo: %v", err)
	}
	retry := write(t, t.TempDir(), "site.retry", "es01\n\n  es03  \n")
	if sel, err := inv.Select("@" + retry); err != nil || !reflect.DeepEqual(names(sel), []string{"es01", "es03"}) {
		t.Errorf("@retry file: %v, %v", names(sel), err)
	}
	if sel, err := inv.Select("@" + retry + ",!es03"); err != nil || !reflect.DeepEqual(names(sel), []string{"es01"}) {
		t.Errorf("@retry file with exclusion: %v, %v", names(sel), err)
	}
	if _, err := inv.Select("@/nonexistent"); err == nil || !strings.Contains(err.Error(), "cannot read the limit file") {
		t.Errorf("missing @file: %v", err)
	}
}

// audit_log is a path like local_file: relative to the inventory file.
func TestNativeAuditLog(t *testing.T) {
	inv, err := load(t, "audit_log: logs/audit.jsonl\nnodes: [{name: a}]", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(inv.File), "logs/audit.jsonl"); inv.AuditLog != want {
		t.Errorf("AuditLog = %q, want %q", inv.AuditLog, want)
	}
	if _, err := load(t, "audit_log: ''\nnodes: [{name: a}]", "", Options{}); err == nil || !strings.Contains(err.Error(), "audit_log: must be a file path") {
		t.Errorf("empty audit_log: err = %v", err)
	}
}
