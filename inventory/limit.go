package inventory

import (
	"os"
	"regexp"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Select returns the nodes a limit expression chooses, in inventory
// order. The expression is Ansible's host pattern language, for native
// inventories too:
//
//   - terms separated by ',' (or ':' when there is no ','): a node name, a
//     group name, a shell pattern (* ? [abc] [!abc]) or ~regex (matched at
//     the start of names), all matched against group names and, unless a
//     plain word named a group, against node names;
//   - '!term' removes what term matches, '&term' keeps only what it also
//     matches; the plain terms are applied first, then the '&', then the
//     '!' ones, whatever their place (only '!' or '&' terms start from
//     every node);
//   - '@FILE' reads terms from FILE, one per line (a retry file).
//
// Unlike Ansible, which warns and carries on, a term that matches nothing
// is an error: a typo must not silently shrink a push. An expression of
// only spaces and separators, "" included, is an error too: a limit of
// "$NODES" with an empty variable must not select the whole cluster.
// Callers without a limit use every node instead of calling Select. Its
// errors are *remedy.Error of kind remedy.Limit.
func (inv *Inventory) Select(limit string) ([]*Node, error) {
	if strings.Trim(limit, " \t\r\n,:") == "" {
		return nil, remedy.Errorf(remedy.Limit, "%v %q names no node (an empty variable?): give node or group names, or leave %v out to select every node", remedy.Limit, safetext.Input(limit), remedy.Limit)
	}
	limit = strings.TrimSpace(limit)
	if limit == "all" || limit == "*" {
		return inv.Nodes, nil
	}
	terms, err := limitTerms(limit)
	if err != nil {
		return nil, err
	}
	chosen, err := inv.apply(limit, orderTerms(terms))
	if err != nil {
		return nil, err
	}
	var out []*Node
	for _, n := range inv.Nodes {
		if chosen[n.Name] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, remedy.Errorf(remedy.Limit, "%v %s selects no node", remedy.Limit, limit)
	}
	return out, nil
}

// limitTerms splits a limit expression into its terms, reading each
// @FILE's terms, one per line, in its place.
func limitTerms(limit string) ([]string, error) {
	var terms []string
	for _, t := range splitPattern(limit) {
		if !strings.HasPrefix(t, "@") {
			terms = append(terms, t)
			continue
		}
		data, err := os.ReadFile(t[1:])
		if err != nil {
			return nil, remedy.Errorf(remedy.Limit, "%v %s: cannot read the limit file: %v", remedy.Limit, t, fserr.WithoutPath(err))
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				terms = append(terms, line)
			}
		}
	}
	return terms, nil
}

// orderTerms is Ansible's order_patterns: the plain terms first (every
// node when there is none), then the '&' ones, then the '!' ones.
func orderTerms(terms []string) []string {
	var plain, and, not []string
	for _, t := range terms {
		switch t[0] {
		case '!':
			not = append(not, t)
		case '&':
			and = append(and, t)
		default:
			plain = append(plain, t)
		}
	}
	if len(plain) == 0 {
		plain = []string{"all"}
	}
	return append(append(plain, and...), not...)
}

// apply runs the ordered terms of limit and returns the names chosen. A
// term that matches nothing is an error.
func (inv *Inventory) apply(limit string, terms []string) (map[string]bool, error) {
	chosen := map[string]bool{}
	for _, t := range terms {
		bare := strings.TrimLeft(t[:1], "!&") + t[1:]
		names, err := inv.match(bare)
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, remedy.Errorf(remedy.Limit, "%v %s: no node or group matches %q", remedy.Limit, safetext.Input(limit), safetext.Input(bare))
		}
		switch t[0] {
		case '!':
			for n := range names {
				delete(chosen, n)
			}
		case '&':
			for n := range chosen {
				if !names[n] {
					delete(chosen, n)
				}
			}
		default:
			for n := range names {
				chosen[n] = true
			}
		}
	}
	return chosen, nil
}

// hostPortRE is a single name:port, which Ansible does not split.
var hostPortRE = regexp.MustCompile(`^[^:\[\]]+:[0-9]+$`)

// patternRE is Ansible's fallback splitter on ':' that keeps [x:y] whole.
var patternRE = regexp.MustCompile(`(?:[^\s:\[\]]|\[[^\]]*\])+`)

// splitPattern follows Ansible's split_host_pattern: a pattern with commas
// is split on them only; otherwise ':' separates terms, except in a single
// name:port or an IPv6 address.
func splitPattern(p string) []string {
	var parts []string
	switch {
	case strings.Contains(p, ","):
		parts = strings.Split(p, ",")
	case !strings.Contains(p, ":") || hostPortRE.MatchString(p) || strings.Count(p, ":") >= 2 && !strings.ContainsAny(p, "!&~@*?[") && strings.Trim(p, "0123456789abcdefABCDEF:") == "":
		parts = []string{p}
	default:
		parts = patternRE.FindAllString(p, -1)
	}
	var out []string
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// subscriptRE is Ansible's PATTERN_WITH_SUBSCRIPT: group[0], group[1:3].
var subscriptRE = regexp.MustCompile(`^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$`)

// match returns the node names one term matches, following Ansible's
// _enumerate_matches: groups whose name matches contribute their members;
// node names are matched too when no group matched or the term is a
// pattern rather than a plain word.
func (inv *Inventory) match(term string) (map[string]bool, error) {
	names := map[string]bool{}
	if term == "all" {
		for _, n := range inv.Nodes {
			names[n.Name] = true
		}
		return names, nil
	}
	if term[0] != '~' && subscriptRE.MatchString(term) {
		return nil, remedy.Errorf(remedy.Limit, "%v: %q: Ansible reads a trailing [N] or [N:M] as a subscript (the Nth host of a group), which es-service-tokens does not support; name the nodes, or write the range as a pattern such as es-[12]*", remedy.Limit, safetext.Input(term))
	}
	re, err := termRegexp(term)
	if err != nil {
		return nil, remedy.Errorf(remedy.Limit, "%v: bad pattern %q: %v", remedy.Limit, safetext.Input(term), err)
	}
	groupMatched := false
	for g, members := range inv.Groups {
		if re.MatchString(g) {
			groupMatched = true
			for _, m := range members {
				names[m] = true
			}
		}
	}
	if !groupMatched || term[0] == '~' || strings.ContainsAny(term, ".?*[") {
		for _, n := range inv.Nodes {
			if re.MatchString(n.Name) {
				names[n.Name] = true
			}
		}
	}
	return names, nil
}

// termRegexp compiles a term as Ansible does: ~regex is matched at the
// start of a name (Python's re.match), anything else is an fnmatch pattern
// matched against the whole name.
func termRegexp(term string) (*regexp.Regexp, error) {
	if term[0] == '~' {
		return regexp.Compile(`^(?:` + term[1:] + `)`)
	}
	return regexp.Compile(`^(?s:` + fnmatchTranslate(term) + `)$`)
}

// fnmatchTranslate is Python's fnmatch.translate, which Ansible uses: Go's
// path.Match differs ([!x] negation, no backslash escapes), and a limit
// must select the same nodes as in Ansible.
func fnmatchTranslate(pat string) string {
	var b strings.Builder
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(pat) && pat[j] == '!' {
				j++
			}
			if j < len(pat) && pat[j] == ']' {
				j++
			}
			for j < len(pat) && pat[j] != ']' {
				j++
			}
			if j >= len(pat) {
				b.WriteString(`\[`)
				continue
			}
			class := pat[i+1 : j]
			i = j
			class = strings.ReplaceAll(class, `\`, `\\`)
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			} else if strings.HasPrefix(class, "^") {
				class = `\` + class
			}
			b.WriteString("[" + class + "]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}
