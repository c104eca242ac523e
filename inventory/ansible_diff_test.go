package inventory

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/inventory/ansible"
)

// ansibleInventories are every Ansible inventory of examples/, plus a
// larger one that exercises more of the format.
var ansibleInventories = []string{
	"../examples/ansible/hosts.yml",
	"testdata/ansible/hosts.yml",
}

// ansibleEnv runs Ansible's own tools with no configuration of the
// machine's or the user's in the way.
func ansibleEnv(t *testing.T) []string {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "HOME="+dir, "ANSIBLE_CONFIG="+cfg, "ANSIBLE_LOCAL_TEMP="+dir, "ANSIBLE_NOCOLOR=1")
}

// TestAgainstAnsibleInventory: the hosts, their groups and every variable
// of each example inventory are what `ansible-inventory --list` computes.
func TestAgainstAnsibleInventory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Ansible (Python, about a second a call): not in -short")
	}
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		t.Skip("ansible-inventory is not installed (Debian: apt-get install ansible-core)")
	}
	for _, file := range ansibleInventories {
		t.Run(file, func(t *testing.T) {
			cmd := exec.Command(bin, "-i", file, "--list")
			cmd.Env = ansibleEnv(t)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ansible-inventory: %v\n%s", err, stderr.String())
			}
			var want map[string]struct {
				Hosts    []string       `json:"hosts"`
				Children []string       `json:"children"`
				HostVars map[string]any `json:"hostvars"`
			}
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ansible.Parse(file, data)
			if err != nil {
				t.Fatal(err)
			}

			// Hosts and their variables.
			hostvars := want["_meta"].HostVars
			var gotNames []string
			for _, h := range got.Hosts {
				gotNames = append(gotNames, h.Name)
				vars := map[string]any{}
				for k, v := range h.Vars {
					var x any
					if err := v.Node.Decode(&x); err != nil {
						t.Fatalf("%s: %s: %v", h.Name, k, err)
					}
					vars[k] = x
				}
				if g, w := normalise(t, vars), normalise(t, hostvars[h.Name]); !reflect.DeepEqual(g, w) {
					t.Errorf("variables of %s:\n got  %v\n want %v", h.Name, g, w)
				}
			}
			wantNames := make([]string, 0, len(hostvars))
			for h := range hostvars {
				wantNames = append(wantNames, h)
			}
			sort.Strings(gotNames)
			sort.Strings(wantNames)
			if !reflect.DeepEqual(gotNames, wantNames) {
				t.Errorf("hosts:\n got  %v\n want %v", gotNames, wantNames)
			}

			// Group membership, through children.
			var members func(g string) []string
			members = func(g string) []string {
				hs := slices.Clone(want[g].Hosts)
				for _, c := range want[g].Children {
					hs = append(hs, members(c)...)
				}
				slices.Sort(hs)
				return slices.Compact(hs)
			}
			for g := range want {
				if g == "_meta" || g == "all" {
					continue
				}
				if w, gm := members(g), got.Groups[g]; !reflect.DeepEqual(gm, w) && !(len(gm) == 0 && len(w) == 0) {
					t.Errorf("group %s:\n got  %v\n want %v", g, gm, w)
				}
			}
		})
	}
}

// normalise makes YAML-decoded and JSON-decoded values comparable.
func normalise(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLimitAgainstAnsible: --limit selects the hosts `ansible --limit`
// does, for Ansible's pattern syntax.
func TestLimitAgainstAnsible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Ansible (Python, about a second a call): not in -short")
	}
	bin, err := exec.LookPath("ansible")
	if err != nil {
		t.Skip("ansible is not installed (Debian: apt-get install ansible-core)")
	}
	retry := filepath.Join(t.TempDir(), "site.retry")
	if err := os.WriteFile(retry, []byte("es01.example.com\ncoord-b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	patterns := []string{
		"hot", "es:!hot", "es:&warm", "hot,warm", "es,!es0[12]*", "~es0[13]", "~coord", "*.example.com:!warm",
		"es0?.example.com", "es0[!1].example.com", "!es", "&hot", "coord-a:es-extra", "@" + retry, "@" + retry + ",!coord-b",
		"all:!ungrouped", "ungrouped", "es[0-9]*", "warm:&hot:!es03.example.com",
	}
	file := "testdata/ansible/hosts.yml"
	empty := filepath.Join(t.TempDir(), "empty.cfg")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := Load(file, Options{SSHConfig: filepath.Join(t.TempDir(), "none"), Home: t.TempDir(), User: "alice",
		AnsibleConfig: empty, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	// One Python process evaluates every pattern with Ansible's own
	// InventoryManager.subset, which is what --limit calls: an `ansible`
	// run per pattern takes seconds each.
	python := "python3"
	if f, err := os.ReadFile(bin); err == nil {
		if line, _, _ := strings.Cut(string(f), "\n"); strings.HasPrefix(line, "#!") {
			python = strings.Fields(strings.TrimPrefix(line, "#!"))[0]
		}
	}
	const script = `
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
im = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
out = {}
for p in json.loads(sys.argv[2]):
    im.subset(p)
    im.clear_pattern_cache()
    out[p] = [h.name for h in im.get_hosts("all")]
print(json.dumps(out))
`
	pj, _ := json.Marshal(patterns)
	cmd := exec.Command(python, "-c", script, file, string(pj))
	cmd.Env = ansibleEnv(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ansible's InventoryManager: %v\n%s", err, stderr.String())
	}
	var results map[string][]string
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, p := range patterns {
		want := results[p]
		sort.Strings(want)
		sel, err := inv.Select(p)
		if len(want) == 0 {
			if err == nil {
				t.Errorf("--limit %s: selected %v, Ansible selects nothing", p, names(sel))
			}
			continue
		}
		if err != nil {
			t.Errorf("--limit %s: %v; Ansible selects %v", p, err, want)
			continue
		}
		got := names(sel)
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("--limit %s:\n got  %v\n want %v (ansible)", p, got, want)
		}
	}
}

// TestVaultAgainstAnsibleInventory: an inventory with a vault-encrypted
// vars file (ansible-vault encrypt), one with a vault ID (format 1.2), and
// inline values (encrypt_string) gives every host the variables that
// `ansible-inventory --list --vault-password-file` gives it. Ansible lists
// an inline value still encrypted; ansible-vault decrypt says what it is.
func TestVaultAgainstAnsibleInventory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Ansible (Python, about a second a call): not in -short")
	}
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		t.Skip("ansible-inventory is not installed (Debian: apt-get install ansible-core)")
	}
	dir, env := t.TempDir(), ansibleEnv(t)
	write := func(rel, content string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(name string, args ...string) string {
		cmd := exec.Command(filepath.Join(filepath.Dir(bin), name), args...)
		cmd.Env, cmd.Dir = env, dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
		}
		return string(out)
	}
	pass, prod := write("pass.txt", "diff-test-pass\n"), write("prod.txt", "prod-pass\n")
	hosts := write("hosts.yml", "all:\n  children:\n    prod:\n      hosts:\n        es01:\n        es02:\n          ansible_port: 2201\n    dev:\n      hosts:\n        es03:\n")
	write("group_vars/all/vault.yml", "ansible_user: vaulted-user\nvault_list: [1, two, {three: 3}]\nvault_int: 42\n")
	run("ansible-vault", "encrypt", "--vault-password-file", pass, "group_vars/all/vault.yml")
	write("group_vars/prod.yml", "es_service_tokens_mode: \"0640\"\nprod_only: true\n")
	run("ansible-vault", "encrypt", "--vault-id", "prod@"+prod, "group_vars/prod.yml")
	inline := run("ansible-vault", "encrypt_string", "--vault-password-file", pass, "10.0.0.11", "--name", "ansible_host") +
		"\n" + run("ansible-vault", "encrypt_string", "--vault-id", "prod@"+prod, "multi\nline: value\n", "--name", "db_password")
	write("host_vars/es01.yml", "plain_var: plain\n"+inline)

	var want map[string]struct {
		HostVars map[string]map[string]any `json:"hostvars"`
	}
	out := run("ansible-inventory", "-i", hosts, "--list", "--vault-password-file", pass, "--vault-id", "prod@"+prod)
	if err := json.Unmarshal([]byte(out), &want); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(hosts)
	got, err := ansible.ParseVault(hosts, data, ansible.NewVault([]ansible.VaultID{{Label: "prod", Source: prod}, {Source: pass}}, nil))
	if err != nil {
		t.Fatal(err)
	}
	inlineSeen := 0
	for _, h := range got.Hosts {
		wantVars := want["_meta"].HostVars[h.Name]
		for k, v := range wantVars {
			if m, ok := v.(map[string]any); ok && m["__ansible_vault"] != nil {
				write("inline.vault", m["__ansible_vault"].(string))
				wantVars[k] = run("ansible-vault", "decrypt", "--vault-password-file", pass, "--vault-id", "prod@"+prod, "--output", "-", "inline.vault")
				inlineSeen++
			}
		}
		vars := map[string]any{}
		for k, v := range h.Vars {
			var x any
			if err := v.Node.Decode(&x); err != nil {
				t.Fatalf("%s: %s: %v", h.Name, k, err)
			}
			vars[k] = x
		}
		if g, w := normalise(t, vars), normalise(t, wantVars); !reflect.DeepEqual(g, w) {
			t.Errorf("variables of %s:\n got  %v\n want %v", h.Name, g, w)
		}
	}
	if len(got.Hosts) != 3 || inlineSeen != 2 {
		t.Errorf("%d hosts, %d inline values compared: the inventory is not what this test builds", len(got.Hosts), inlineSeen)
	}
}
