package layout

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/es-service-tokens/es-service-tokens"

// rule: no package under dir may depend, directly or not, on any of
// forbidden (import paths; a trailing "/" means the whole tree).
type rule struct {
	dir       string // own("x/"); "" is every package outside examples/
	forbidden []string
	why       string
}

// own is a path inside this module.
func own(p string) string { return module + "/" + p }

var rules = []rule{
	{own("tokens/"), []string{own("inventory/"), own("sync/"), own("cmd/"), "net", "golang.org/x/crypto/ssh", "github.com/pkg/sftp"},
		"tokens: no transport, no hosts (tokens/doc.go)"},
	{own("inventory/"), []string{own("sync/"), own("cmd/"), "net", "golang.org/x/crypto/ssh", "github.com/pkg/sftp"},
		"inventory: pure data, connects nowhere (inventory/doc.go)"},
	{own("sync/"), []string{own("cmd/"), "github.com/urfave/cli/v2", "golang.org/x/term"},
		"sync: no CLI (sync/doc.go)"},
	{own("internal/"), []string{own("cmd/"), "github.com/urfave/cli/v2"},
		"internal: helpers and harnesses sit below the CLI (internal/doc.go)"},
	{own("cmd/"), []string{own("internal/testkit/"), own("internal/bench")},
		"cmd: no test harness in the shipped binary (cmd/doc.go)"},
	{own("cmd/es-service-tokens/internal/output"), []string{"github.com/urfave/cli/v2", "golang.org/x/term"},
		"output renders reports; the command line is package main's (cmd/doc.go)"},
	{"", []string{own("examples/")},
		"examples use the project, never the other way round (examples/doc.go)"},
}

// graph maps an import path to its direct imports.
type graph map[string][]string

// loadGraph lists every package of the module and everything it depends
// on, test files excluded: the rules are about what ships.
func loadGraph(t *testing.T) (graph, []string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	g := graph{}
	var own []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		g[f[0]] = f[1:]
		if strings.HasPrefix(f[0], module+"/") {
			own = append(own, f[0])
		}
	}
	return g, own
}

// matches reports whether path is pattern, or lies in its tree when
// pattern ends in "/".
func matches(path, pattern string) bool {
	if tree, ok := strings.CutSuffix(pattern, "/"); ok {
		return path == tree || strings.HasPrefix(path, pattern)
	}
	return path == pattern
}

func inScope(pkg string, r rule) bool {
	if r.dir == "" {
		return !matches(pkg, own("examples/"))
	}
	return matches(pkg, r.dir)
}

// violations returns, for each package that breaks a rule, the shortest
// import chain from it to the forbidden package.
func violations(g graph, pkgs []string, rules []rule) []string {
	var out []string
	for _, r := range rules {
		for _, p := range pkgs {
			if !inScope(p, r) {
				continue
			}
			if chain := findChain(g, p, r.forbidden); chain != nil {
				out = append(out, r.why+": "+strings.Join(chain, " -> "))
			}
		}
	}
	return out
}

// findChain searches breadth-first from start for a forbidden package.
func findChain(g graph, start string, forbidden []string) []string {
	prev := map[string]string{start: ""}
	queue := []string{start}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, f := range forbidden {
			if p != start && matches(p, f) {
				var chain []string
				for q := p; q != ""; q = prev[q] {
					chain = append([]string{strings.TrimPrefix(q, module+"/")}, chain...)
				}
				return chain
			}
		}
		for _, next := range g[p] {
			if _, seen := prev[next]; !seen {
				prev[next] = p
				queue = append(queue, next)
			}
		}
	}
	return nil
}

func TestImportRules(t *testing.T) {
	g, pkgs := loadGraph(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages of the module: %v", len(pkgs), pkgs)
	}
	for _, v := range violations(g, pkgs, rules) {
		t.Error(v)
	}
}

// The check itself must catch a broken rule, directly or through another
// package, and name the chain.
func TestViolationsFindsIndirectImports(t *testing.T) {
	m := own
	g := graph{
		m("tokens/store"):    {m("internal/helper"), "os"},
		m("internal/helper"): {"net"},
		"net":                {"os"},
		m("inventory"):       {"os"},
		m("examples/demo"):   {m("inventory")},
		m("sync/push"):       {m("examples/demo")},
	}
	pkgs := []string{m("tokens/store"), m("internal/helper"), m("inventory"), m("examples/demo"), m("sync/push")}
	got := strings.Join(violations(g, pkgs, rules), "\n")
	for _, want := range []string{
		"tokens: no transport, no hosts (tokens/doc.go): tokens/store -> internal/helper -> net",
		"examples use the project, never the other way round (examples/doc.go): sync/push -> examples/demo",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("violations missed\n%s\ngot:\n%s", want, got)
		}
	}
	if strings.Contains(got, "inventory:") {
		t.Errorf("inventory imports only os, yet:\n%s", got)
	}
	if n := strings.Count(got, "\n") + 1; n != 2 {
		t.Errorf("%d violations, want 2:\n%s", n, got)
	}
}
