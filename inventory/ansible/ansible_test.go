package ansible

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// writeTree creates files (relative path -> content) under a fresh temp dir
// and returns the path of its hosts.yml.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "hosts.yml")
}

// parseTree parses files["hosts.yml"] with the rest of files around it.
func parseTree(t *testing.T, files map[string]string) *Inventory {
	t.Helper()
	path := writeTree(t, files)
	inv, err := Parse(path, []byte(files["hosts.yml"]))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return inv
}

func parseString(t *testing.T, src string) *Inventory {
	t.Helper()
	return parseTree(t, map[string]string{"hosts.yml": src})
}

func findHost(t *testing.T, inv *Inventory, name string) Host {
	t.Helper()
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("host %q not in inventory; have %v", name, hostNames(inv))
	return Host{}
}

func hostNames(inv *Inventory) []string {
	var out []string
	for _, h := range inv.Hosts {
		out = append(out, h.Name)
	}
	return out
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name       string
		src        string
		host       string
		key        string // defaults to "path"
		wantValue  string
		wantSource string
	}{
		{
			name: "child group overrides all",
			src: `
all:
  vars: {path: from-all}
  children:
    hot:
      hosts: {es01: }
      vars: {path: from-hot}
`,
			host: "es01", wantValue: "from-hot", wantSource: "group hot",
		},
		{
			name: "all applies when no group sets the var",
			src: `
all:
  vars: {path: from-all}
  children:
    hot:
      hosts: {es01: }
`,
			host: "es01", wantValue: "from-all", wantSource: "group all",
		},
		{
			name: "deeper group wins over shallower group whatever the names",
			src: `
all:
  children:
    zzz:
      hosts: {es01: }
      vars: {path: from-zzz}
    es:
      children:
        aaa:
          hosts: {es01: }
          vars: {path: from-aaa}
`,
			host: "es01", wantValue: "from-aaa", wantSource: "group aaa",
		},
		{
			name: "group reachable at two depths takes the deeper one",
			// hot is both a direct child of all (depth 1) and a child of es
			// (depth 2). At depth 1 zzz would beat it alphabetically; at its
			// real depth 2 it wins.
			src: `
all:
  children:
    hot:
      hosts: {es01: }
      vars: {path: from-hot}
    zzz:
      hosts: {es01: }
      vars: {path: from-zzz}
    es:
      children:
        hot:
`,
			host: "es01", wantValue: "from-hot", wantSource: "group hot",
		},
		{
			name: "alphabetical order breaks ties at equal depth and priority",
			src: `
all:
  children:
    beta:
      hosts: {es01: }
      vars: {path: from-beta}
    alpha:
      hosts: {es01: }
      vars: {path: from-alpha}
`,
			host: "es01", wantValue: "from-beta", wantSource: "group beta",
		},
		{
			name: "ansible_group_priority beats alphabetical order",
			src: `
all:
  children:
    alpha:
      hosts: {es01: }
      vars: {path: from-alpha, ansible_group_priority: 10}
    beta:
      hosts: {es01: }
      vars: {path: from-beta}
`,
			host: "es01", wantValue: "from-alpha", wantSource: "group alpha",
		},
		{
			name: "priority does not beat depth",
			src: `
all:
  children:
    shallow:
      hosts: {es01: }
      vars: {path: from-shallow, ansible_group_priority: 99}
    es:
      children:
        deep:
          hosts: {es01: }
          vars: {path: from-deep}
`,
			host: "es01", wantValue: "from-deep", wantSource: "group deep",
		},
		{
			name: "host vars beat group vars",
			src: `
all:
  children:
    hot:
      hosts:
        es01: {path: from-host}
      vars: {path: from-hot}
`,
			host: "es01", wantValue: "from-host", wantSource: "host es01",
		},
		{
			name: "later host occurrence wins",
			src: `
all:
  children:
    hot:
      hosts:
        es01: {path: first}
    warm:
      hosts:
        es01: {path: second}
`,
			host: "es01", wantValue: "second", wantSource: "host es01",
		},
		{
			name: "group defined twice: later vars win",
			src: `
all:
  children:
    es:
      children:
        hot:
          hosts: {es01: }
          vars: {path: first}
hot:
  vars: {path: second}
`,
			host: "es01", wantValue: "second", wantSource: "group hot",
		},
		{
			name: "port in the host key sets ansible_port",
			src: `
all:
  hosts:
    es01:2222:
`,
			host: "es01", key: "ansible_port", wantValue: "2222", wantSource: "host es01",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := parseString(t, tt.src)
			h := findHost(t, inv, tt.host)
			key := tt.key
			if key == "" {
				key = "path"
			}
			v, ok := h.Vars[key]
			if !ok {
				t.Fatalf("%s not set; vars %v", key, h.Vars)
			}
			if v.Value != tt.wantValue || v.Source != tt.wantSource {
				t.Errorf("%s = %q from %q, want %q from %q", key, v.Value, v.Source, tt.wantValue, tt.wantSource)
			}
		})
	}
}

func TestVarLocationAndNode(t *testing.T) {
	inv := parseString(t, `all:
  vars:
    es_service_tokens_path: /etc/es/service_tokens
  hosts:
    es01:
      ansible_become: true
      roles: [hot, ingest]
`)
	h := findHost(t, inv, "es01")
	p := h.Vars["es_service_tokens_path"]
	if p.Line != 3 || !strings.HasSuffix(p.File, "hosts.yml") {
		t.Errorf("es_service_tokens_path at %s:%d, want hosts.yml:3", p.File, p.Line)
	}
	b := h.Vars["ansible_become"]
	if b.Value != "true" || b.Node.ShortTag() != "!!bool" {
		t.Errorf("ansible_become = %q tag %s, want true !!bool", b.Value, b.Node.ShortTag())
	}
	r := h.Vars["roles"]
	if r.Value != "" || r.Node.Kind != yaml.SequenceNode || len(r.Node.Content) != 2 {
		t.Errorf("roles = %q kind %v, want a two-item sequence with empty Value", r.Value, r.Node.Kind)
	}
	if h.Line != 5 {
		t.Errorf("es01 declared at line %d, want 5", h.Line)
	}
}

func TestExplicitAnsiblePortBeatsHostKeyPort(t *testing.T) {
	inv := parseString(t, `
all:
  hosts:
    es01:2222:
      ansible_port: 22
    "[::1]:2200":
    fe80::1:
`)
	if got := findHost(t, inv, "es01").Vars["ansible_port"].Value; got != "22" {
		t.Errorf("es01 ansible_port = %q, want 22", got)
	}
	if got := findHost(t, inv, "::1").Vars["ansible_port"].Value; got != "2200" {
		t.Errorf("::1 ansible_port = %q, want 2200", got)
	}
	if _, ok := findHost(t, inv, "fe80::1").Vars["ansible_port"]; ok {
		t.Errorf("bare IPv6 address must not be split into host and port")
	}
}

func TestVarsFiles(t *testing.T) {
	inv := parseTree(t, map[string]string{
		"hosts.yml": `
all:
  vars:
    a: inv-all
  children:
    hot:
      vars:
        b: inv-hot
        c: inv-hot
      hosts:
        es01:
          d: inv-host
          e: inv-host
        es02:
    warm:
      hosts:
        es03:
`,
		// group_vars/all.yml sits above every group var of the inventory
		// file, even those of deeper groups, as in Ansible.
		"group_vars/all.yml":  "a: gv-all\nb: gv-all\n",
		"group_vars/hot.yaml": "c: gv-hot\n",
		"host_vars/es01.yml":  "e: hv-es01\n",
		"host_vars/es02":      "e: hv-es02-noext\n",
		// Directory form: files in lexical order, later wins; hidden and
		// foreign extensions are ignored.
		"group_vars/warm/10-base.yml":  "f: base\ng: base\n",
		"group_vars/warm/20-over.yaml": "g: over\n",
		"group_vars/warm/.hidden.yml":  "g: hidden\n",
		"group_vars/warm/README.md":    "not: yaml: at all\n",
		"group_vars/unused.yml":        "z: 1\n",
	})
	type want struct{ value, source string }
	tests := []struct {
		host, key string
		want      want
	}{
		{"es01", "a", want{"gv-all", "group_vars/all.yml"}},
		{"es01", "b", want{"gv-all", "group_vars/all.yml"}},
		{"es01", "c", want{"gv-hot", "group_vars/hot.yaml"}},
		{"es01", "d", want{"inv-host", "host es01"}},
		{"es01", "e", want{"hv-es01", "host_vars/es01.yml"}},
		{"es02", "e", want{"hv-es02-noext", "host_vars/es02"}},
		{"es03", "f", want{"base", "group_vars/warm/10-base.yml"}},
		{"es03", "g", want{"over", "group_vars/warm/20-over.yaml"}},
	}
	for _, tt := range tests {
		v, ok := findHost(t, inv, tt.host).Vars[tt.key]
		if !ok {
			t.Errorf("%s: %s not set", tt.host, tt.key)
			continue
		}
		if got := (want{v.Value, v.Source}); got != tt.want {
			t.Errorf("%s: %s = %+v, want %+v", tt.host, tt.key, got, tt.want)
		}
	}
	e := findHost(t, inv, "es01").Vars["e"]
	if e.Line != 1 || e.File != filepath.Join(filepath.Dir(e.File), "es01.yml") || !strings.Contains(e.File, "host_vars") {
		t.Errorf("es01 e at %s:%d, want host_vars/es01.yml:1", e.File, e.Line)
	}
	if _, ok := findHost(t, inv, "es01").Vars["z"]; ok {
		t.Errorf("vars of a group the host is not in leaked into it")
	}
}

func TestVarsFilePreferenceOrder(t *testing.T) {
	// Like Ansible, only the first of NAME, NAME.yml, NAME.yaml is read.
	inv := parseTree(t, map[string]string{
		"hosts.yml":           "all:\n  hosts:\n    es01:\n",
		"group_vars/all.yml":  "x: yml\n",
		"group_vars/all.yaml": "x: yaml\ny: yaml\n",
	})
	h := findHost(t, inv, "es01")
	if got := h.Vars["x"].Value; got != "yml" {
		t.Errorf("x = %q, want yml", got)
	}
	if _, ok := h.Vars["y"]; ok {
		t.Errorf("all.yaml was read although all.yml exists")
	}
}

func TestPriorityOnlyFromInventoryFile(t *testing.T) {
	// As in Ansible, ansible_group_priority in group_vars/ is an ordinary
	// variable and does not reorder groups.
	inv := parseTree(t, map[string]string{
		"hosts.yml": `
all:
  children:
    alpha:
      hosts: {es01: }
    beta:
      hosts: {es01: }
`,
		"group_vars/alpha.yml": "path: from-alpha\nansible_group_priority: 10\n",
		"group_vars/beta.yml":  "path: from-beta\n",
	})
	if got := findHost(t, inv, "es01").Vars["path"].Value; got != "from-beta" {
		t.Errorf("path = %q, want from-beta", got)
	}
}

func TestRangeExpansion(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{"es[01:03].example.com", []string{"es01.example.com", "es02.example.com", "es03.example.com"}},
		{"es[8:11]", []string{"es8", "es9", "es10", "es11"}},
		{"db-[a:c]", []string{"db-a", "db-b", "db-c"}},
		{"n[1:9:4]", []string{"n1", "n5", "n9"}},
		{"n[a:e:2]", []string{"na", "nc", "ne"}},
		{"r[1:2]-n[a:b]", []string{"r1-na", "r1-nb", "r2-na", "r2-nb"}},
		{"10.0.0.[1:2]", []string{"10.0.0.1", "10.0.0.2"}},
		{"plain", []string{"plain"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			inv := parseString(t, "all:\n  children:\n    es:\n      hosts:\n        "+tt.pattern+":\n          x: 1\n")
			if got := hostNames(inv); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("hosts = %v, want %v", got, tt.want)
			}
			for _, h := range inv.Hosts {
				if h.Vars["x"].Value != "1" || h.Line != 5 {
					t.Errorf("%s: x=%q line %d, want x=1 line 5", h.Name, h.Vars["x"].Value, h.Line)
				}
			}
			if got := inv.Groups["es"]; len(got) != len(tt.want) {
				t.Errorf("group es = %v, want %d hosts", got, len(tt.want))
			}
		})
	}
}

func TestRangeWithPort(t *testing.T) {
	inv := parseString(t, "all:\n  hosts:\n    es[1:2]:2222:\n")
	if got := hostNames(inv); !reflect.DeepEqual(got, []string{"es1", "es2"}) {
		t.Fatalf("hosts = %v", got)
	}
	for _, h := range inv.Hosts {
		if h.Vars["ansible_port"].Value != "2222" {
			t.Errorf("%s ansible_port = %q, want 2222", h.Name, h.Vars["ansible_port"].Value)
		}
	}
}

func TestHostInTwoGroups(t *testing.T) {
	inv := parseString(t, `
all:
  children:
    hot:
      hosts:
        es01: {a: 1}
        es02:
    ml:
      hosts:
        es01: {b: 2}
`)
	h := findHost(t, inv, "es01")
	if want := []string{"all", "hot", "ml"}; !reflect.DeepEqual(h.Groups, want) {
		t.Errorf("es01 groups = %v, want %v", h.Groups, want)
	}
	if h.Vars["a"].Value != "1" || h.Vars["b"].Value != "2" {
		t.Errorf("host vars from both occurrences not merged: %v", h.Vars)
	}
	if h.Line != 6 {
		t.Errorf("es01 line = %d, want first declaration 6", h.Line)
	}
	if want := []string{"es01", "es02"}; !reflect.DeepEqual(hostNames(inv), want) {
		t.Errorf("hosts = %v, want %v (each once, in order of first appearance)", hostNames(inv), want)
	}
	if want := []string{"es01"}; !reflect.DeepEqual(inv.Groups["ml"], want) {
		t.Errorf("ml = %v, want %v", inv.Groups["ml"], want)
	}
}

func TestChildrenMerge(t *testing.T) {
	inv := parseString(t, `
all:
  children:
    dc1:
      children:
        hot:
          hosts:
            es01:
    dc2:
      children:
        hot:
          hosts:
            es02:
        warm:
          hosts:
            es03:
hot:
  hosts:
    es04:
`)
	want := map[string][]string{
		"all":       {"es01", "es02", "es03", "es04"},
		"ungrouped": {},
		"hot":       {"es01", "es02", "es04"},
		"warm":      {"es03"},
		"dc1":       {"es01", "es02", "es04"},
		"dc2":       {"es01", "es02", "es03", "es04"},
	}
	if !reflect.DeepEqual(inv.Groups, want) {
		t.Errorf("groups =\n%v\nwant\n%v", inv.Groups, want)
	}
	if got, w := findHost(t, inv, "es04").Groups, []string{"all", "dc1", "dc2", "hot"}; !reflect.DeepEqual(got, w) {
		t.Errorf("es04 groups = %v, want %v", got, w)
	}
}

func TestUngrouped(t *testing.T) {
	inv := parseString(t, `
all:
  hosts:
    lonely:
    busy:
  children:
    ungrouped:
      hosts:
        listed:
        moved:
    web:
      hosts:
        busy:
        moved:
top:
  hosts:
    toplevel:
`)
	if want := []string{"listed", "lonely"}; !reflect.DeepEqual(inv.Groups["ungrouped"], want) {
		t.Errorf("ungrouped = %v, want %v", inv.Groups["ungrouped"], want)
	}
	if got, want := findHost(t, inv, "lonely").Groups, []string{"all", "ungrouped"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lonely groups = %v, want %v", got, want)
	}
	if got, want := findHost(t, inv, "moved").Groups, []string{"all", "web"}; !reflect.DeepEqual(got, want) {
		t.Errorf("moved groups = %v, want %v", got, want)
	}
	if got, want := findHost(t, inv, "toplevel").Groups, []string{"all", "top"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a top-level group sits under all: toplevel groups = %v, want %v", got, want)
	}
}

func TestEmptyInventory(t *testing.T) {
	for _, src := range []string{"", "all:\n", "all:\n  children:\n    empty:\n"} {
		inv := parseString(t, src)
		if len(inv.Hosts) != 0 {
			t.Errorf("%q: hosts = %v, want none", src, hostNames(inv))
		}
		if inv.Groups["all"] == nil || inv.Groups["ungrouped"] == nil {
			t.Errorf("%q: groups = %v, want all and ungrouped present", src, inv.Groups)
		}
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	inv := parseString(t, `
all:
  hosts:
    es01: &defaults
      ansible_user: elastic
      ansible_port: 22
    es02:
      <<: *defaults
      ansible_port: 2222
`)
	h := findHost(t, inv, "es02")
	if h.Vars["ansible_user"].Value != "elastic" || h.Vars["ansible_port"].Value != "2222" {
		t.Errorf("es02 vars = user %q port %q, want elastic 2222", h.Vars["ansible_user"].Value, h.Vars["ansible_port"].Value)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want bool
	}{
		{"all group", "all:\n  hosts:\n    es01:\n", true},
		{"empty all", "all:\n", true},
		{"top-level group without all", "hot:\n  hosts:\n    es01:\n", true},
		{"group with only vars", "hot:\n  vars:\n    x: 1\n", true},
		{"native format", "nodes:\n  - host: es01\n", false},
		{"native format with an all key", "all:\n  hosts: {}\nnodes: []\n", false},
		{"unrelated mapping", "name: x\nversion: 2\n", false},
		{"mapping of mappings without sections", "a:\n  b: 1\n", false},
		{"sequence", "- all\n", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.src), &doc); err != nil {
				t.Fatal(err)
			}
			if got := Detect(&doc); got != tt.want {
				t.Errorf("Detect = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	path := writeTree(t, nil)
	inv, err := Parse(path, []byte(`all:
  children:
    hot:
      host:
        es01:
      hosts:
        es02:
`))
	if err != nil {
		t.Fatal(err)
	}
	want := path + `:4: Skipping unexpected key (host) in group (hot), only "vars", "children" and "hosts" are valid`
	if !reflect.DeepEqual(inv.Warnings, []string{want}) {
		t.Errorf("warnings = %q, want [%q]", inv.Warnings, want)
	}
	if want := []string{"es02"}; !reflect.DeepEqual(hostNames(inv), want) {
		t.Errorf("hosts = %v, want %v (the misspelled key is ignored)", hostNames(inv), want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantLine int
		wantMsg  string
	}{
		{"hosts as a list", "all:\n  children:\n    hot:\n      hosts:\n        - es01\n", 4, `"hosts" in group "hot" must be a mapping, found a list`},
		{"hosts as a string", "all:\n  hosts: es01\n", 2, `"hosts" in group "all" must be a mapping, found a string`},
		{"children as a list", "all:\n  children: [hot]\n", 2, `"children" in group "all" must be a mapping`},
		{"host vars as a string", "all:\n  hosts:\n    es01: fast\n", 3, `variables of host "es01" must be a mapping`},
		{"duplicate key", "all:\n  hosts:\n    es01:\n    es02:\n    es01:\n", 5, `duplicate key "es01" (first on line 3): remove one of the two`},
		{"yaml syntax", "all:\n  hosts: [\n", 2, "did not find expected node content"},
		{"range start after end", "all:\n  hosts:\n    es[3:1]:\n", 3, "starts after its end"},
		{"range mixing letters and digits", "all:\n  hosts:\n    es[1:c]:\n", 3, "not a mix"},
		{"range padding mismatch", "all:\n  hosts:\n    es[01:100]:\n", 3, "same number of digits"},
		{"range without end", "all:\n  hosts:\n    es[1:]:\n", 3, "end value"},
		{"range bad step", "all:\n  hosts:\n    es[1:5:0]:\n", 3, "step"},
		{"range unterminated", "all:\n  hosts:\n    es[1:3:\n", 3, "missing ']'"},
		{"group loop", "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n", 5, "recursive dependency loop"},
		{"all as a child", "web:\n  children:\n    all:\n", 3, `group "all" cannot be a child`},
		{"bad priority", "all:\n  children:\n    hot:\n      vars:\n        ansible_group_priority: high\n", 5, "ansible_group_priority"},
		{"not a mapping", "- all\n", 1, "must be a mapping of group names"},
		{"plugin config", "plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n", 1, "inventory plugin configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTree(t, nil)
			_, err := Parse(path, []byte(tt.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.File != path || e.Line != tt.wantLine {
				t.Errorf("error at %s:%d, want %s:%d (%v)", e.File, e.Line, path, tt.wantLine, err)
			}
			if !strings.HasPrefix(err.Error(), e.File+":") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want file:line prefix and %q", err, tt.wantMsg)
			}
		})
	}
}

func TestVarsFileErrors(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		content  string
		wantLine int
		wantMsg  string
	}{
		{"vault file", "group_vars/all.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n", 0, "encrypted with ansible-vault, and no vault password was given"},
		{"vault file in directory form", "host_vars/es01/secrets.yml", "$ANSIBLE_VAULT;1.2;AES256;prod\n6162\n", 0, "encrypted with ansible-vault, and no vault password was given"},
		{"not a mapping", "group_vars/hot.yml", "- a\n- b\n", 1, "must be a YAML mapping"},
		{"duplicate key", "host_vars/es01.yml", "a: 1\nb: 2\na: 3\n", 3, `duplicate key "a" (first on line 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := "all:\n  children:\n    hot:\n      hosts:\n        es01:\n"
			path := writeTree(t, map[string]string{"hosts.yml": inv, tt.file: tt.content})
			_, err := Parse(path, []byte(inv))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			wantFile := filepath.Join(filepath.Dir(path), filepath.FromSlash(tt.file))
			if e.File != wantFile || e.Line != tt.wantLine || !strings.Contains(e.Msg, tt.wantMsg) {
				t.Errorf("err = %v, want %s:%d: ...%s...", err, wantFile, tt.wantLine, tt.wantMsg)
			}
		})
	}
}

func TestEmptyVarsFileIsFine(t *testing.T) {
	inv := parseTree(t, map[string]string{
		"hosts.yml":          "all:\n  hosts:\n    es01:\n",
		"group_vars/all.yml": "---\n# nothing yet\n",
	})
	if len(findHost(t, inv, "es01").Vars) != 0 {
		t.Errorf("vars = %v, want none", findHost(t, inv, "es01").Vars)
	}
}
