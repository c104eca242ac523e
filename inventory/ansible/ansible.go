// Package ansible reads Ansible YAML inventories so that admins can point
// es-service-tokens at the hosts.yml they already maintain instead of
// re-describing their cluster in a second format.
//
// It reproduces what ansible-core (2.14+) would compute for each host with the
// ansible.builtin.yaml inventory plugin and the host_group_vars vars plugin:
// group structure, host range expansion, group_vars/ and host_vars/ files and
// variable precedence. It deliberately stops there: variables are returned
// as YAML nodes and their meaning (ansible_host, ansible_port, ...) is left to
// the caller. Templating ("{{ ... }}") is not evaluated; vault-encrypted
// files and inline "!vault" values are decrypted with the passwords of a
// Vault (see vaultpass.go): an encrypted file without a password that fits
// is an error, an inline value that cannot be decrypted stays a "!vault"
// node with the reason in Var.VaultErr, for the caller to refuse only if it
// reads that variable (as Ansible fails only on use). Inventory plugins
// other than the YAML one are not supported.
package ansible

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory/ansible/vault"
	"github.com/es-service-tokens/es-service-tokens/inventory/internal/yamlkeys"
)

// Var is the effective value of one variable for one host.
type Var struct {
	Value  string     // scalar text as written (after YAML unquoting); "" for non-scalars
	Node   *yaml.Node // the YAML node (lets the caller see tags, sequences, maps)
	Source string     // where the winning value came from: "host es01", "group hot", "group all", "group_vars/hot.yml", "host_vars/es01.yml"
	File   string
	Line   int
	// Vaulted: the value was vault-encrypted (inline, or its whole file),
	// so it must never be shown. VaultErr is why an inline "!vault" value
	// is still encrypted (Node keeps its tag): no password, or none fits.
	Vaulted  bool
	VaultErr error
}

// Host is one inventory host with everything Ansible would know about it.
type Host struct {
	Name   string         // after range expansion
	Vars   map[string]Var // effective variables, Ansible precedence applied
	Groups []string       // every group the host is in, transitively, always including "all"; sorted
	File   string
	Line   int // first declaration
}

// Inventory is the result of Parse.
type Inventory struct {
	Hosts    []Host              // in order of first appearance in the file
	Groups   map[string][]string // group name -> member host names (transitive through children), sorted; includes "all" and "ungrouped"
	Warnings []string            // "file:line: ..." for things Ansible would warn about
}

// Error is a fault in the inventory or one of its vars files.
type Error struct {
	File string
	Line int
	Msg  string
	// Hint is the way out when it lies in the caller's options (a vault
	// password): the caller phrases it (internal/remedy).
	Hint remedy.Message
}

func (e *Error) Error() string { return e.Phrase(nil) }

// Phrase is the message with the hint's options in the caller's words.
func (e *Error) Phrase(name remedy.Namer) string {
	msg := e.Msg
	if !e.Hint.IsZero() {
		msg += ": " + e.Hint.Phrase(name)
	}
	if e.Line <= 0 {
		return fmt.Sprintf("%s: %s", e.File, msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
}

// Detect reports whether a parsed YAML document looks like an Ansible
// inventory rather than es-service-tokens' native format (which has a
// top-level "nodes" key).
func Detect(doc *yaml.Node) bool {
	if doc == nil {
		return false
	}
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return false
		}
		root = root.Content[0]
	}
	root = resolve(root)
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	if mapValue(root, "nodes") != nil {
		return false
	}
	if mapValue(root, "all") != nil {
		return true
	}
	for i := 1; i < len(root.Content); i += 2 {
		v := resolve(root.Content[i])
		if v == nil || v.Kind != yaml.MappingNode {
			continue
		}
		for _, section := range []string{"hosts", "children", "vars"} {
			if mapValue(v, section) != nil {
				return true
			}
		}
	}
	return false
}

// mapValue returns the value node of key in mapping m, or nil. It ignores
// merge keys, which is enough for Detect's heuristics.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := resolve(m.Content[i])
		if k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

type group struct {
	name     string
	line     int
	vars     map[string]Var // from the inventory file
	fileVars map[string]Var // from group_vars/
	children map[string]bool
	parents  map[string]bool
	hosts    map[string]bool // direct members
	depth    int
	priority int
}

type host struct {
	name     string
	line     int
	vars     map[string]Var // from the inventory file
	fileVars map[string]Var // from host_vars/
	groups   map[string]bool
}

type parser struct {
	file      string
	vault     *Vault
	groups    map[string]*group
	hosts     map[string]*host
	hostOrder []*host
	warnings  []string
}

// Parse parses an Ansible YAML inventory. file is its path: group_vars/ and
// host_vars/ directories next to it are loaded too. Nothing encrypted can
// be read: ParseVault gives the passwords.
func Parse(file string, data []byte) (*Inventory, error) {
	return ParseVault(file, data, nil)
}

// ParseVault is Parse with the vault passwords of v (nil: none).
func ParseVault(file string, data []byte, v *Vault) (*Inventory, error) {
	p := &parser{
		file:   file,
		vault:  v,
		groups: map[string]*group{},
		hosts:  map[string]*host{},
	}
	// Ansible creates these two before reading any source, so they exist
	// (and ungrouped sits at depth 1) even in an empty inventory.
	all := p.group("all", 0)
	ungrouped := p.group("ungrouped", 0)
	all.children["ungrouped"] = true
	ungrouped.parents["all"] = true

	root, _, err := decodeYAML(file, data, v)
	if err != nil {
		return nil, err
	}
	if err := p.parseRoot(root); err != nil {
		return nil, err
	}
	if err := p.loadVarsDirs(filepath.Dir(file)); err != nil {
		return nil, err
	}
	return p.build()
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) warnf(line int, format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf("%s:%d: %s", p.file, line, fmt.Sprintf(format, args...)))
}

func (p *parser) group(name string, line int) *group {
	g := p.groups[name]
	if g == nil {
		g = &group{
			name:     name,
			line:     line,
			vars:     map[string]Var{},
			fileVars: map[string]Var{},
			children: map[string]bool{},
			parents:  map[string]bool{},
			hosts:    map[string]bool{},
			priority: 1,
		}
		p.groups[name] = g
	} else if g.line == 0 {
		g.line = line
	}
	return g
}

func (p *parser) host(name string, line int) *host {
	h := p.hosts[name]
	if h == nil {
		h = &host{
			name:     name,
			line:     line,
			vars:     map[string]Var{},
			fileVars: map[string]Var{},
			groups:   map[string]bool{},
		}
		p.hosts[name] = h
		p.hostOrder = append(p.hostOrder, h)
	}
	return h
}

func (p *parser) parseRoot(root *yaml.Node) error {
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return p.errorf(root.Line, "an Ansible YAML inventory must be a mapping of group names, found %s", kindName(root))
	}
	pairs, err := p.pairs(root)
	if err != nil {
		return err
	}
	// Ansible refuses these too: such a file configures a dynamic inventory
	// plugin (aws_ec2, constructed, ...) that we cannot run.
	for _, kv := range pairs {
		if kv.key.Value == "plugin" {
			return p.errorf(kv.key.Line, "this is an Ansible inventory plugin configuration (plugin: %s), not a YAML inventory; only static YAML inventories are supported", kv.val.Value)
		}
	}
	for _, kv := range pairs {
		if _, err := p.parseGroup(kv.key, kv.val); err != nil {
			return err
		}
	}
	return nil
}

// parseGroup mirrors the yaml inventory plugin's _parse_group. It returns nil
// (and no error) for definitions Ansible skips with a warning.
func (p *parser) parseGroup(key, val *yaml.Node) (*group, error) {
	name, err := p.keyName(key, "group name")
	if err != nil {
		return nil, err
	}
	val = resolve(val)
	if !isNull(val) && val.Kind != yaml.MappingNode {
		p.warnf(key.Line, "Skipping '%s' as this is not a valid group definition", name)
		return nil, nil
	}
	g := p.group(name, key.Line)
	if isNull(val) {
		return g, nil
	}
	pairs, err := p.pairs(val)
	if err != nil {
		return nil, err
	}
	for _, kv := range pairs {
		section := kv.key.Value
		switch section {
		case "vars", "children", "hosts":
		default:
			p.warnf(kv.key.Line, `Skipping unexpected key (%s) in group (%s), only "vars", "children" and "hosts" are valid`, section, name)
			continue
		}
		body := resolve(kv.val)
		if isNull(body) {
			continue
		}
		if body.Kind != yaml.MappingNode {
			return nil, p.errorf(kv.key.Line, `"%s" in group "%s" must be a mapping, found %s`, section, name, kindName(body))
		}
		entries, err := p.pairs(body)
		if err != nil {
			return nil, err
		}
		if err := p.groupSection(g, section, entries); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// groupSection reads the entries of a group's vars, children or hosts.
func (p *parser) groupSection(g *group, section string, entries []pair) error {
	for _, e := range entries {
		switch section {
		case "vars":
			vn, err := p.keyName(e.key, "variable name")
			if err != nil {
				return err
			}
			g.vars[vn] = p.vault.makeVar(e, "group "+g.name, p.file)
		case "children":
			child, err := p.parseGroup(e.key, e.val)
			if err != nil {
				return err
			}
			if child == nil {
				continue
			}
			if err := p.addChild(g, child, e.key.Line); err != nil {
				return err
			}
		case "hosts":
			if err := p.parseHost(g, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) addChild(parent, child *group, line int) error {
	if child.name == "all" {
		return p.errorf(line, `group "all" cannot be a child of group "%s": every group is already under "all"`, parent.name)
	}
	// Checking at insertion time catches every cycle, since the cycle's
	// closing edge is always inserted last.
	if child == parent || p.isDescendant(parent.name, child.name) {
		return p.errorf(line, `adding group "%s" as child of "%s" creates a recursive dependency loop`, child.name, parent.name)
	}
	parent.children[child.name] = true
	child.parents[parent.name] = true
	return nil
}

// isDescendant reports whether name is reachable from the group from via
// children edges.
func (p *parser) isDescendant(name, from string) bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for c := range p.groups[cur].children {
			if c == name {
				return true
			}
			if !seen[c] {
				seen[c] = true
				stack = append(stack, c)
			}
		}
	}
	return false
}

func (p *parser) parseHost(g *group, e pair) error {
	pattern, err := p.keyName(e.key, "host name")
	if err != nil {
		return err
	}
	val := resolve(e.val)
	var vars []pair
	switch {
	case isEmptyVars(val):
		// Ansible treats any falsy value as "no variables".
	case val.Kind == yaml.MappingNode:
		if vars, err = p.pairs(val); err != nil {
			return err
		}
	default:
		return p.errorf(e.key.Line, `variables of host "%s" must be a mapping, found %s`, pattern, kindName(val))
	}
	hostPart, port := splitPort(pattern)
	names, err := expandHostPattern(hostPart)
	if err != nil {
		return p.errorf(e.key.Line, "%v", err)
	}
	for _, n := range names {
		h := p.host(n, e.key.Line)
		h.groups[g.name] = true
		src := "host " + n
		// Ansible sets ansible_port from "name:port" before applying the
		// host's variables, so an explicit ansible_port still wins.
		if port != "" {
			h.vars["ansible_port"] = Var{
				Value:  port,
				Node:   &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: port, Line: e.key.Line, Column: e.key.Column},
				Source: src,
				File:   p.file,
				Line:   e.key.Line,
			}
		}
		for _, v := range vars {
			vn, err := p.keyName(v.key, "variable name")
			if err != nil {
				return err
			}
			h.vars[vn] = p.vault.makeVar(v, src, p.file)
		}
	}
	return nil
}

func (p *parser) keyName(k *yaml.Node, what string) (string, error) {
	return keyName(p.file, k, what)
}

func keyName(file string, k *yaml.Node, what string) (string, error) {
	k = resolve(k)
	if k.Kind != yaml.ScalarNode {
		return "", &Error{File: file, Line: k.Line, Msg: fmt.Sprintf("%s must be a scalar, found %s", what, kindName(k))}
	}
	if k.ShortTag() == "!!null" || k.Value == "" {
		return "", &Error{File: file, Line: k.Line, Msg: fmt.Sprintf("empty %s", what)}
	}
	// A name is echoed in reports and logs: a control character in it
	// could forge a line.
	if !safetext.Printable(k.Value) {
		return "", &Error{File: file, Line: k.Line, Msg: fmt.Sprintf("%s %q holds a control or invisible character; use plain text", what, safetext.Input(k.Value))}
	}
	return k.Value, nil
}

// makeVar is one variable's definition; an inline "!vault" value is
// decrypted when a password fits, as Ansible would on use.
func (vt *Vault) makeVar(kv pair, source, file string) Var {
	n := resolve(kv.val)
	v := Var{Node: n, Source: source, File: file, Line: kv.key.Line}
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!vault" {
		plain, err := vt.Decrypt(file, kv.key.Line, []byte(n.Value))
		if err != nil {
			v.VaultErr = err
			return v
		}
		// Ansible's decrypted value is a string, whatever it looks like.
		v.Node = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(plain), Line: n.Line, Column: n.Column}
		v.Vaulted = true
	}
	if v.Node != nil && v.Node.Kind == yaml.ScalarNode {
		v.Value = v.Node.Value
	}
	return v
}

// build applies Ansible's reconcile_inventory step and variable precedence.
func (p *parser) build() (*Inventory, error) {
	if err := p.settleGroups(); err != nil {
		return nil, err
	}
	for _, h := range p.hostOrder {
		if g, ok := p.groups[h.name]; ok && g.line > 0 {
			p.warnf(h.line, "Found both group and host with same name: %s", h.name)
		}
	}
	inv := &Inventory{Groups: map[string][]string{}, Warnings: p.warnings}
	for name := range p.groups {
		inv.Groups[name] = []string{}
	}
	for _, h := range p.hostOrder {
		p.fixUngrouped(h)
		names := sortedKeys(p.ancestors(h))
		for _, name := range names {
			inv.Groups[name] = append(inv.Groups[name], h.name)
		}
		inv.Hosts = append(inv.Hosts, Host{
			Name:   h.name,
			Vars:   p.effectiveVars(h, names),
			Groups: names,
			File:   p.file,
			Line:   h.line,
		})
	}
	for name := range inv.Groups {
		sort.Strings(inv.Groups[name])
	}
	return inv, nil
}

// settleGroups gives every group its place once the file is read: its
// parent, its depth and its priority.
func (p *parser) settleGroups() error {
	// Groups declared at top level (or anywhere without a parent) hang
	// under "all", which is what gives them depth 1.
	for _, g := range p.groups {
		if g.name != "all" && len(g.parents) == 0 {
			g.parents["all"] = true
			p.groups["all"].children[g.name] = true
		}
	}
	depths := map[string]int{}
	for name := range p.groups {
		p.groups[name].depth = p.depth(name, depths)
	}
	// Only the inventory file sets a priority: Ansible reads it in
	// Group.set_variable, which group_vars/ files never go through, and
	// which keeps it out of the group's variables.
	for _, g := range p.groups {
		if v, ok := g.vars["ansible_group_priority"]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v.Value))
			if err != nil {
				return &Error{File: v.File, Line: v.Line, Msg: fmt.Sprintf("ansible_group_priority of group %q must be an integer, found %q", safetext.Input(g.name), safetext.Input(v.Value))}
			}
			g.priority = n
			delete(g.vars, "ansible_group_priority")
		}
	}
	return nil
}

// fixUngrouped makes a host a member of ungrouped exactly when it is in
// no group but all, as Ansible does, whatever the file says about
// ungrouped itself.
func (p *parser) fixUngrouped(h *host) {
	for name := range p.ancestors(h) {
		if name != "all" && name != "ungrouped" {
			delete(h.groups, "ungrouped")
			return
		}
	}
	h.groups["ungrouped"] = true
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// depth is the longest path from "all", as Ansible keeps raising a group's
// depth whenever it is attached below a deeper parent.
func (p *parser) depth(name string, memo map[string]int) int {
	if d, ok := memo[name]; ok {
		return d
	}
	d := 0
	for parent := range p.groups[name].parents {
		d = max(d, p.depth(parent, memo)+1)
	}
	memo[name] = d
	return d
}

// ancestors returns the host's direct groups and all their ancestors.
func (p *parser) ancestors(h *host) map[string]bool {
	seen := map[string]bool{}
	var stack []string
	for g := range h.groups {
		stack = append(stack, g)
	}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[cur] {
			continue
		}
		seen[cur] = true
		for parent := range p.groups[cur].parents {
			stack = append(stack, parent)
		}
	}
	seen["all"] = true
	return seen
}

// effectiveVars layers variables the way ansible-core's default
// VARIABLE_PRECEDENCE does: inventory-file group vars, then group_vars/
// files, then inventory-file host vars, then host_vars/ files; within each
// group layer, groups are ordered by (depth, ansible_group_priority, name).
func (p *parser) effectiveVars(h *host, groupNames []string) map[string]Var {
	gs := make([]*group, 0, len(groupNames))
	for _, name := range groupNames {
		gs = append(gs, p.groups[name])
	}
	slices.SortFunc(gs, func(a, b *group) int {
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		if a.priority != b.priority {
			return a.priority - b.priority
		}
		return strings.Compare(a.name, b.name)
	})
	out := map[string]Var{}
	for _, g := range gs {
		mergeVars(out, g.vars)
	}
	for _, g := range gs {
		mergeVars(out, g.fileVars)
	}
	mergeVars(out, h.vars)
	mergeVars(out, h.fileVars)
	return out
}

func mergeVars(dst, src map[string]Var) {
	for k, v := range src {
		dst[k] = v
	}
}

type pair struct{ key, val *yaml.Node }

// pairs lists a mapping's entries with YAML merge keys ("<<: *defaults")
// applied, because hand-written inventories use anchors to share vars.
// Merged entries come first so that later-wins consumers let explicit keys
// override them, as YAML requires.
func (p *parser) pairs(m *yaml.Node) ([]pair, error) {
	return mappingPairs(p.file, m)
}

func mappingPairs(file string, m *yaml.Node) ([]pair, error) {
	var merged, own []pair
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			src := resolve(v)
			var sources []*yaml.Node
			switch src.Kind {
			case yaml.MappingNode:
				sources = []*yaml.Node{src}
			case yaml.SequenceNode:
				sources = src.Content
			}
			// In "<<: [*a, *b]" the first mapping wins, so it goes last.
			for j := len(sources) - 1; j >= 0; j-- {
				s := resolve(sources[j])
				if s.Kind != yaml.MappingNode {
					return nil, &Error{File: file, Line: k.Line, Msg: "merge key \"<<\" must refer to a mapping or a list of mappings"}
				}
				sp, err := mappingPairs(file, s)
				if err != nil {
					return nil, err
				}
				merged = append(merged, sp...)
			}
			if len(sources) == 0 {
				return nil, &Error{File: file, Line: k.Line, Msg: "merge key \"<<\" must refer to a mapping or a list of mappings"}
			}
			continue
		}
		own = append(own, pair{k, v})
	}
	return append(merged, own...), nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func isEmptyVars(n *yaml.Node) bool {
	if isNull(n) {
		return true
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return n.ShortTag() == "!!str" && n.Value == ""
	case yaml.SequenceNode, yaml.MappingNode:
		return len(n.Content) == 0
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			return fmt.Sprintf("a string (%q)", safetext.Input(n.Value))
		}
		return fmt.Sprintf("a scalar (%s)", safetext.Input(n.Value))
	}
	return "nothing"
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeYAML parses one YAML document into its root node (nil for an empty
// file) and rejects what Ansible's loader would reject. A vault-encrypted
// file is decrypted first (encrypted reports it); a fault in its text is
// named by line only, never quoted.
func decodeYAML(file string, data []byte, v *Vault) (root *yaml.Node, encrypted bool, err error) {
	if vault.IsEncrypted(data) {
		if data, err = v.Decrypt(file, 0, data); err != nil {
			return nil, true, err
		}
		root, err = decodePlainYAML(file, data)
		var ae *Error
		if errors.As(err, &ae) {
			err = &Error{File: file, Line: ae.Line, Msg: "the decrypted text is not valid here (not shown: it is vault-encrypted)"}
		}
		return root, true, err
	}
	root, err = decodePlainYAML(file, data)
	return root, false, err
}

func decodePlainYAML(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		if len(extra.Content) > 0 && !isNull(extra.Content[0]) {
			return nil, &Error{File: file, Line: extra.Line, Msg: "multiple YAML documents in one file are not supported"}
		}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	if err := checkDuplicateKeys(file, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: m[2]}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// checkDuplicateKeys refuses a key written twice in one mapping. Ansible
// would keep the last value with a warning; for a tool that decides where
// secrets go, an ambiguous inventory is better refused.
func checkDuplicateKeys(file string, n *yaml.Node) error {
	if d := yamlkeys.Duplicate(n); d != nil {
		return &Error{File: file, Line: d.Again, Msg: d.Message()}
	}
	return nil
}
