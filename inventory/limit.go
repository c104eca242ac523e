package inventory

import (
	"fmt"
	"path"
	"strings"
)

// LimitError is a --limit that selects nothing or names nothing known.
type LimitError struct{ Msg string }

func (e *LimitError) Error() string { return e.Msg }

// Select returns the nodes a --limit expression chooses, in inventory
// order. The expression is comma-separated terms: a node name, a group
// name, or a shell pattern matched against both; a term starting with '!'
// removes what it matches. Only exclusions start from every node. A term
// that matches nothing is an error: a typo must not silently shrink a push.
// An expression of only spaces and separators, "" included, is an error
// too: `--limit "$NODES"` with an empty variable must not select the whole
// cluster. Callers without a --limit use every node instead of calling
// Select.
func (inv *Inventory) Select(limit string) ([]*Node, error) {
	if strings.Trim(limit, " \t\r\n,:") == "" {
		return nil, &LimitError{fmt.Sprintf("--limit %q names no node (an empty variable?): give node or group names, or leave --limit out to select every node", limit)}
	}
	limit = strings.TrimSpace(limit)
	if limit == "all" || limit == "*" {
		return inv.Nodes, nil
	}
	chosen := map[string]bool{}
	anyInclude := false
	type term struct {
		exclude bool
		names   map[string]bool
	}
	var terms []term
	for _, raw := range strings.Split(limit, ",") {
		t := strings.TrimSpace(raw)
		if t == "" {
			continue
		}
		exclude := strings.HasPrefix(t, "!")
		t = strings.TrimPrefix(t, "!")
		names, err := inv.match(t)
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, &LimitError{fmt.Sprintf("--limit %s: no node or group matches %q", limit, t)}
		}
		anyInclude = anyInclude || !exclude
		terms = append(terms, term{exclude, names})
	}
	if !anyInclude {
		for _, n := range inv.Nodes {
			chosen[n.Name] = true
		}
	}
	// Exclusions win whatever their place in the list, as in Ansible.
	for _, t := range terms {
		for name := range t.names {
			if !t.exclude {
				chosen[name] = true
			}
		}
	}
	for _, t := range terms {
		for name := range t.names {
			if t.exclude {
				delete(chosen, name)
			}
		}
	}
	var out []*Node
	for _, n := range inv.Nodes {
		if chosen[n.Name] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, &LimitError{fmt.Sprintf("--limit %s selects no node", limit)}
	}
	return out, nil
}

func (inv *Inventory) match(pattern string) (map[string]bool, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, &LimitError{fmt.Sprintf("--limit: bad pattern %q: %v", pattern, err)}
	}
	names := map[string]bool{}
	for _, n := range inv.Nodes {
		if ok, _ := path.Match(pattern, n.Name); ok {
			names[n.Name] = true
		}
	}
	for g, members := range inv.Groups {
		if ok, _ := path.Match(pattern, g); ok {
			for _, m := range members {
				names[m] = true
			}
		}
	}
	return names, nil
}
