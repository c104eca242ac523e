package inventory

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"gopkg.in/yaml.v3"
)

// nodeKeys are the settings a node and the defaults may hold.
var nodeKeys = map[string]bool{
	"host": true, "port": true, "user": true, "identity_file": true, "certificate_file": true, "known_hosts": true,
	"host_key_check": true, "connect_timeout": true, "jump": true, "path": true, "owner": true,
	"group": true, "mode": true, "sudo": true, "sftp_server": true, "backups": true, "es_node_name": true, "es_http_url": true,
}

// nameRE keeps node and group names usable in limit expressions.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// loadNative reads es-service-tokens' own format (see docs/inventory.md).
func (r *resolver) loadNative(path string, root *yaml.Node) (*Inventory, error) {
	inv := &Inventory{File: path, Format: "native", Groups: map[string][]string{}}
	top, err := r.topLevel(path, root, inv)
	if err != nil {
		return nil, err
	}
	if top.nodes == nil {
		return nil, &Error{File: path, Line: root.Line, Key: "nodes", Msg: "missing: list the nodes to push to"}
	}
	seen, err := r.nativeNodes(path, top.nodes, top.defaults, inv)
	if err != nil {
		return nil, err
	}
	if top.groups != nil {
		if err := nativeGroups(path, top.groups, seen, inv); err != nil {
			return nil, err
		}
	}
	if top.consumers != nil {
		if err := r.nativeConsumers(path, top.consumers, top.defaults, seen, inv); err != nil {
			return nil, err
		}
	}
	return inv, finish(inv)
}

// nativeTop is what the top level holds besides the settings it sets on
// the inventory at once: the parts read after all of it, since the
// defaults apply to nodes written before them.
type nativeTop struct {
	defaults                 layer
	nodes, groups, consumers *yaml.Node
}

// topLevel reads the top-level keys, refusing unknown ones.
func (r *resolver) topLevel(path string, root *yaml.Node, inv *Inventory) (nativeTop, error) {
	var top nativeTop
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var err error
		switch k.Value {
		case "local_file":
			inv.LocalFile, err = topLevelPath(path, v, "local_file", "must be a file path")
		case "audit_log":
			inv.AuditLog, err = topLevelPath(path, v, "audit_log", "must be a file path (the JSON-lines audit trail)")
		case "max_token_age":
			err = setMaxTokenAge(inv, path, v.Line, "max_token_age", v.Value)
		case "defaults":
			top.defaults, err = r.settings(v, "defaults", path)
		case "nodes":
			top.nodes = v
		case "groups":
			top.groups = v
		case "consumers":
			top.consumers = v
		case "elasticsearch":
			inv.Elasticsearch, err = r.loadElasticsearch(path, v)
		default:
			err = errAt(path, k, k.Value, "unknown key; the top level holds local_file, audit_log, max_token_age, defaults, nodes, groups, elasticsearch and consumers")
		}
		if err != nil {
			return nativeTop{}, err
		}
	}
	return top, nil
}

// topLevelPath reads a top-level file setting; a relative path is relative
// to the inventory file, so that an inventory and its files can move
// together. problem is the error's words for a value that is no path.
func topLevelPath(inventory string, v *yaml.Node, key, problem string) (string, error) {
	if v.Kind != yaml.ScalarNode || v.Value == "" {
		return "", errAt(inventory, v, key, "%s", problem)
	}
	if filepath.IsAbs(v.Value) {
		return v.Value, nil
	}
	return filepath.Join(filepath.Dir(absPath(inventory)), v.Value), nil
}

// nativeNodes reads the nodes: list, each node's own settings over the
// defaults. It returns the line each node's name is on, by name.
func (r *resolver) nativeNodes(path string, list *yaml.Node, defaults layer, inv *Inventory) (map[string]int, error) {
	if list.Kind != yaml.SequenceNode {
		return nil, errAt(path, list, "nodes", "must be a list of nodes")
	}
	seen := map[string]int{}
	for i, item := range list.Content {
		key := fmt.Sprintf("nodes[%d]", i)
		name, err := nodeName(path, item, key, "node", seen)
		if err != nil {
			return nil, err
		}
		own, err := r.settings(item, "node "+name, path)
		if err != nil {
			return nil, err
		}
		n, err := r.node(name, []layer{own, defaults}, r.ssh)
		if err != nil {
			return nil, err
		}
		inv.Nodes = append(inv.Nodes, n)
	}
	return seen, nil
}

// nodeName reads the name of a node (or consumer: what): present, usable
// in limit expressions, and not taken by one before it (seen, which it
// records it in).
func nodeName(path string, item *yaml.Node, key, what string, seen map[string]int) (string, error) {
	if item.Kind != yaml.MappingNode {
		return "", errAt(path, item, key, "must be a mapping with at least name:")
	}
	name := ""
	nameLine := item.Line
	for j := 0; j+1 < len(item.Content); j += 2 {
		if item.Content[j].Value == "name" {
			name, nameLine = item.Content[j+1].Value, item.Content[j+1].Line
		}
	}
	if name == "" {
		return "", errAt(path, item, key+".name", "missing")
	}
	if !nameRE.MatchString(name) {
		return "", &Error{File: path, Line: nameLine, Key: key + ".name", Msg: fmt.Sprintf("%q: use letters, digits, '.', '_' and '-'", safetext.Input(name))}
	}
	if prev, dup := seen[name]; dup {
		return "", &Error{File: path, Line: nameLine, Key: key + ".name", Msg: fmt.Sprintf("duplicate %s %s (first on line %d)", what, name, prev)}
	}
	seen[name] = nameLine
	return name, nil
}

// nativeGroups reads the groups: mapping of group names to node names
// (seen: the nodes, by name).
func nativeGroups(path string, groups *yaml.Node, seen map[string]int, inv *Inventory) error {
	if groups.Kind != yaml.MappingNode {
		return errAt(path, groups, "groups", "must map group names to lists of node names")
	}
	for i := 0; i+1 < len(groups.Content); i += 2 {
		g, members := groups.Content[i], groups.Content[i+1]
		key := "groups." + g.Value
		if !nameRE.MatchString(g.Value) {
			return errAt(path, g, key, "use letters, digits, '.', '_' and '-' in group names")
		}
		if _, clash := seen[g.Value]; clash {
			return errAt(path, g, key, "a node has the same name; a limit could not tell them apart")
		}
		if members.Kind != yaml.SequenceNode {
			return errAt(path, members, key, "must be a list of node names")
		}
		for _, m := range members.Content {
			if _, ok := seen[m.Value]; !ok {
				return errAt(path, m, key, "unknown node %q", safetext.Input(m.Value))
			}
			inv.Groups[g.Value] = append(inv.Groups[g.Value], m.Value)
		}
	}
	return nil
}

// errAt is an inventory error at a YAML node of the file path.
func errAt(path string, n *yaml.Node, key, format string, a ...any) error {
	return &Error{File: path, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, a...)}
}

// settings reads the node settings of a mapping, refusing unknown keys.
func (r *resolver) settings(m *yaml.Node, where, path string) (layer, error) {
	if m.Kind != yaml.MappingNode {
		return nil, &Error{File: path, Line: m.Line, Key: where, Msg: "must be a mapping"}
	}
	l := layer{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "name" && strings.HasPrefix(where, "node ") {
			continue
		}
		if k.Value == "es_node_name" && where == "defaults" {
			return nil, &Error{File: path, Line: k.Line, Key: k.Value, Msg: "is per node: every node has its own name"}
		}
		if k.Value == "es_http_url" && where == "defaults" {
			return nil, &Error{File: path, Line: k.Line, Key: k.Value, Msg: "is per node: for every node, set elasticsearch.node_url to a template such as https://{host}:9200"}
		}
		if !nodeKeys[k.Value] {
			return nil, &Error{File: path, Line: k.Line, Key: k.Value, Msg: fmt.Sprintf("unknown key in %s; valid keys: %s", where, strings.Join(settingKeys, ", "))}
		}
		s := setting{origin: fmt.Sprintf("%s:%d (%s)", path, v.Line, where), file: path, line: v.Line}
		switch {
		case k.Value == "jump" && v.Kind == yaml.SequenceNode:
			for _, h := range v.Content {
				s.list = append(s.list, h.Value)
			}
		case v.Kind != yaml.ScalarNode:
			return nil, &Error{File: path, Line: v.Line, Key: k.Value, Msg: "must be a single value"}
		case k.Value == "jump":
			s.list = strings.Split(v.Value, ",")
		}
		s.value = v.Value
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return nil, &Error{File: path, Line: v.Line, Key: k.Value, Msg: "has no value"}
		}
		l[k.Value] = s
	}
	return l, nil
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
