package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Guards against a slip that would overwrite the wrong file, open the
// file to everyone, or hide an edit: each is one error line naming the
// file, the line and the fix.
func TestGuards(t *testing.T) {
	cases := []errorCase{
		{"nodes: [{name: a, path: /etc/elasticsearch/elasticsearch.yml}]",
			`inventory.yml:1: path: node a: "/etc/elasticsearch/elasticsearch.yml" is not a service_tokens file: Elasticsearch reads only CONFIG_DIR/service_tokens; give a path ending in /service_tokens`},
		{"defaults:\n  path: /etc/passwd\nnodes: [{name: a}]", `inventory.yml:2: path: node a: "/etc/passwd" is not a service_tokens file`},
		{"nodes: [{name: a, path: /etc/elasticsearch/service_tokens.bak}]", "is not a service_tokens file"},
		{"defaults:\n  mode: \"0666\"\nnodes: [{name: a}]", `inventory.yml:2: mode: node a: mode 0666 lets every user on the node write the file, and so add tokens; use "0660" or "0640"`},
		{"nodes: [{name: a, mode: \"0777\"}]", "mode 0777 lets every user on the node write the file"},
		{"nodes: [{name: a, mode: \"0602\"}]", "mode 0602 lets every user on the node write the file"},
		{"nodes:\n  - name: a\n    host: 10.0.0.1\n    host: 10.0.0.2\n", `inventory.yml:4: duplicate key "host" (first on line 3): remove one of the two`},
		{"defaults:\n  user: x\ndefaults:\n  user: y\nnodes: [{name: a}]", `inventory.yml:3: duplicate key "defaults" (first on line 1)`},
		{"nodes: [{name: a, path: \"/etc/x\\n/service_tokens\"}]", `path: node a: "/etc/x\n/service_tokens" holds a control or invisible character`},
		{"nodes: [{name: a, user: \"root\\u202e\"}]", `holds a control or invisible character`},
		{"nodes: [{name: a, jump: [\"b\\x1b[2J\"]}]", `holds a control or invisible character`},
		{"all:\n  hosts:\n    \"es\\n01\":\n", `host name "es\n01" holds a control or invisible character`},
		{"all:\n  hosts:\n    es01:\n      es_service_tokens_path: /etc/elasticsearch/jvm.options\n", `inventory.yml:4: path: node es01: "/etc/elasticsearch/jvm.options" is not a service_tokens file`},
		{"all:\n  hosts:\n    es01:\n      ansible_host: a\n      ansible_host: b\n", `inventory.yml:5: duplicate key "ansible_host" (first on line 4): remove one of the two`},
	}
	wantErrors(t, cases)
}

func TestModeReadableByOthersWarns(t *testing.T) {
	inv, err := load(t, "defaults:\n  mode: \"0644\"\nnodes: [{name: a}, {name: b}]\n", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `inventory.yml:2: mode 0644 lets every user on the node read the token hashes; use "0660" or "0640"`
	if len(inv.Warnings) != 1 || !strings.HasSuffix(inv.Warnings[0], want) {
		t.Errorf("warnings %q, want one ending %q", inv.Warnings, want)
	}
	for _, m := range []string{"0660", "0640", "0600", "0440"} {
		inv, err := load(t, "nodes: [{name: a, mode: \""+m+"\"}]", "", Options{})
		if err != nil || len(inv.Warnings) != 0 {
			t.Errorf("mode %s: %v %q", m, err, inv.Warnings)
		}
	}
}

// A fault in a group_vars/ or host_vars/ file names that file and both
// lines, not the inventory.
func TestAnsibleVarsFilesNameTheirOwnFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ssh_config", "")
	inv := write(t, dir, "hosts.yml", "all:\n  children:\n    hot:\n      hosts:\n        es01:\n")
	gv := write(t, dir, "group_vars/hot.yml", "es_service_tokens_mode: \"0640\"\nansible_user: deploy\nes_service_tokens_mode: \"0660\"\n")
	_, err := Load(inv, Options{SSHConfig: filepath.Join(dir, "ssh_config"), Home: dir, User: "alice"})
	if want := gv + `:3: duplicate key "es_service_tokens_mode" (first on line 1): remove one of the two`; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	write(t, dir, "group_vars/hot.yml", "ansible_user: deploy\nes_service_tokens_mode: \"0777\"\n")
	_, err = Load(inv, Options{SSHConfig: filepath.Join(dir, "ssh_config"), Home: dir, User: "alice"})
	if want := gv + `:2: mode: node es01: mode 0777 lets every user`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v\nwant %s...", err, want)
	}
}

// FuzzLoad feeds arbitrary YAML to the loader. Whatever the input: no
// panic; an error is one printable line; a document with a duplicate key
// (as yaml.v3 itself sees one) is refused; an accepted inventory holds no
// control character in any name or value a message could echo.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"nodes: [{name: a}]",
		"nodes:\n  - name: a\n    host: 10.0.0.1\n    host: 10.0.0.2\n",
		"defaults:\n  mode: \"0640\"\n  path: /etc/elasticsearch/service_tokens\nnodes:\n  - name: es-1\n    port: 2222\ngroups:\n  hot: [es-1]\n",
		"nodes: [{name: a, path: \"/etc/x\\n/service_tokens\"}]",
		"nodes: [{name: a, user: \"r\\toot\"}]",
		"all:\n  hosts:\n    es01:\n      ansible_host: 10.0.0.1\n    es02:\n  children:\n    hot:\n      hosts:\n        es01:\n",
		"all:\n  hosts:\n    \"es\\u0085x\":\n",
		"all:\n  vars:\n    ansible_user: a\n    ansible_user: b\n  hosts:\n    es01:\n",
		"base: &b {ansible_port: 22}\nall:\n  hosts:\n    es01:\n      <<: *b\n      ansible_port: 23\n",
		"\ufeffnodes: [{name: a}]",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	sshConfig := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(sshConfig, nil, 0o644); err != nil {
		f.Fatal(err)
	}
	// One file per fuzzing process, rewritten for each input: a new
	// directory per input would cost more than the load itself.
	path := filepath.Join(dir, "inventory.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		inv, err := Load(path, Options{SSHConfig: sshConfig, Home: dir, User: "alice"})
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T) is not an inventory.Error", err, err)
			}
			if msg := err.Error(); !safetext.Printable(msg) || strings.ContainsAny(msg, "\r\n") || !utf8.ValidString(msg) {
				t.Fatalf("error is not one printable line: %q", msg)
			}
			return
		}
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil && strings.Contains(err.Error(), "already defined") {
			t.Fatalf("accepted a document with a duplicate key: %v", err)
		}
		for _, n := range inv.Nodes {
			fields := []string{n.Name, n.Host, n.User, n.Path, n.Owner, n.Group, n.SFTPServer}
			fields = append(fields, n.IdentityFiles...)
			fields = append(fields, n.KnownHostsFiles...)
			for _, j := range n.Jump {
				fields = append(fields, j.Host, j.User)
			}
			for _, s := range fields {
				if !safetext.Printable(s) {
					t.Fatalf("node %q: accepted the value %q", n.Name, s)
				}
			}
			if filepath.Base(n.Path) != "service_tokens" || n.Mode&0o002 != 0 {
				t.Fatalf("node %q: accepted path %q mode %04o", n.Name, n.Path, n.Mode)
			}
		}
		for g := range inv.Groups {
			if !safetext.Printable(g) {
				t.Fatalf("accepted group %q", g)
			}
		}
	})
}
