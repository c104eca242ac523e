package inventory

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// nodeKeys are the settings a node and the defaults may hold.
var nodeKeys = map[string]bool{
	"host": true, "port": true, "user": true, "identity_file": true, "known_hosts": true,
	"host_key_check": true, "connect_timeout": true, "jump": true, "path": true, "owner": true,
	"group": true, "mode": true, "sudo": true, "sftp_server": true, "backups": true, "es_node_name": true,
}

// nameRE keeps node and group names usable in --limit expressions.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// loadNative reads es-service-tokens' own format (see the README).
func (r *resolver) loadNative(path string, root *yaml.Node) (*Inventory, error) {
	inv := &Inventory{File: path, Format: "native", Groups: map[string][]string{}}
	errAt := func(n *yaml.Node, key, format string, a ...any) error {
		return &Error{File: path, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, a...)}
	}
	var defaults layer
	var nodesNode, groupsNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "local_file":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return nil, errAt(v, "local_file", "must be a file path")
			}
			lf := v.Value
			if !filepath.IsAbs(lf) {
				lf = filepath.Join(filepath.Dir(absPath(path)), lf)
			}
			inv.LocalFile = lf
		case "audit_log":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return nil, errAt(v, "audit_log", "must be a file path (the JSON-lines audit trail)")
			}
			al := v.Value
			if !filepath.IsAbs(al) {
				al = filepath.Join(filepath.Dir(absPath(path)), al)
			}
			inv.AuditLog = al
		case "defaults":
			l, err := r.settings(v, "defaults", path)
			if err != nil {
				return nil, err
			}
			defaults = l
		case "nodes":
			nodesNode = v
		case "groups":
			groupsNode = v
		case "elasticsearch":
			es, err := r.loadElasticsearch(path, v)
			if err != nil {
				return nil, err
			}
			inv.Elasticsearch = es
		default:
			return nil, errAt(k, k.Value, "unknown key; the top level holds local_file, audit_log, defaults, nodes, groups and elasticsearch")
		}
	}
	if nodesNode == nil {
		return nil, &Error{File: path, Line: root.Line, Key: "nodes", Msg: "missing: list the nodes to push to"}
	}
	if nodesNode.Kind != yaml.SequenceNode {
		return nil, errAt(nodesNode, "nodes", "must be a list of nodes")
	}
	seen := map[string]int{}
	for i, item := range nodesNode.Content {
		key := fmt.Sprintf("nodes[%d]", i)
		if item.Kind != yaml.MappingNode {
			return nil, errAt(item, key, "must be a mapping with at least name:")
		}
		name := ""
		nameLine := item.Line
		for j := 0; j+1 < len(item.Content); j += 2 {
			if item.Content[j].Value == "name" {
				name, nameLine = item.Content[j+1].Value, item.Content[j+1].Line
			}
		}
		if name == "" {
			return nil, errAt(item, key+".name", "missing")
		}
		if !nameRE.MatchString(name) {
			return nil, &Error{File: path, Line: nameLine, Key: key + ".name", Msg: fmt.Sprintf("%q: use letters, digits, '.', '_' and '-'", name)}
		}
		if prev, dup := seen[name]; dup {
			return nil, &Error{File: path, Line: nameLine, Key: key + ".name", Msg: fmt.Sprintf("duplicate node %s (first on line %d)", name, prev)}
		}
		seen[name] = nameLine
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
	if groupsNode != nil {
		if groupsNode.Kind != yaml.MappingNode {
			return nil, errAt(groupsNode, "groups", "must map group names to lists of node names")
		}
		for i := 0; i+1 < len(groupsNode.Content); i += 2 {
			g, members := groupsNode.Content[i], groupsNode.Content[i+1]
			key := "groups." + g.Value
			if !nameRE.MatchString(g.Value) {
				return nil, errAt(g, key, "use letters, digits, '.', '_' and '-' in group names")
			}
			if _, clash := seen[g.Value]; clash {
				return nil, errAt(g, key, "a node has the same name; --limit could not tell them apart")
			}
			if members.Kind != yaml.SequenceNode {
				return nil, errAt(members, key, "must be a list of node names")
			}
			for _, m := range members.Content {
				if _, ok := seen[m.Value]; !ok {
					return nil, errAt(m, key, "unknown node %q", m.Value)
				}
				inv.Groups[g.Value] = append(inv.Groups[g.Value], m.Value)
			}
		}
	}
	return inv, finish(inv)
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
