package main

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
)

// appFlagNames are every option the app defines, global or a command's, by
// each of its names.
func appFlagNames() map[string]bool {
	app := (&tool{}).app()
	names := map[string]bool{}
	add := func(flags []cli.Flag) {
		for _, f := range flags {
			for _, n := range f.Names() {
				names[n] = true
			}
		}
	}
	add(app.Flags)
	for _, c := range app.Commands {
		add(c.Flags)
	}
	return names
}

// Every option a library can name is phrased as one of the app's flags,
// so no message sends the user to an option that does not exist.
func TestFlagWordsAreFlags(t *testing.T) {
	names := appFlagNames()
	for _, k := range remedy.Kinds() {
		w := output.FlagWords[k]
		if !strings.HasPrefix(w, "--") || !names[strings.TrimPrefix(w, "--")] {
			t.Errorf("remedy kind %v is output.Phrased %q, which is not a flag of the app", k, w)
		}
	}
}

// otherPrograms are command lines of other programs that libraries run
// (sync/deliver runs Kibana's keystore tool): their options are theirs,
// not the app's, and are taken out of a line before it is searched.
var otherPrograms = []string{
	"add --stdin --force", // kibana-keystore add
	`[]string{"--vault-id", label} // Ansible's client-script protocol`, // inventory/ansible's vault password client scripts
}

// flagWordsIn lists the lines of the module's library code (every
// non-test .go file outside cmd/ and testdata/, except package main:
// examples/demo and internal/bench run the binary as a user would) that
// hold `--` and one of names. Comments count: a library that documents a
// flag knows the command line.
func flagWordsIn(t *testing.T, root string, names map[string]bool) []string {
	t.Helper()
	var alts []string
	for n := range names {
		alts = append(alts, regexp.QuoteMeta(n))
	}
	sort.Slice(alts, func(i, j int) bool { return len(alts[i]) > len(alts[j]) })
	re := regexp.MustCompile(`--(` + strings.Join(alts, "|") + `)([^A-Za-z0-9_-]|$)`)
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "cmd" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.PackageClauseOnly); err == nil && f.Name.Name == "main" {
			return nil
		}
		for i, line := range strings.Split(string(src), "\n") {
			ours := line
			for _, o := range otherPrograms {
				ours = strings.ReplaceAll(ours, o, "")
			}
			if m := re.FindString(ours); m != "" {
				found = append(found, fmt.Sprintf("%s:%d: %s", rel, i+1, strings.TrimSpace(line)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// No library names a flag: it names the option with a remedy.Kind, and
// cmd phrases it (output.FlagWords). The names are the app's own flags.
func TestNoFlagNamesInLibraries(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	names := appFlagNames()
	if !names["force"] || !names["limit"] || len(names) < 20 {
		t.Fatalf("the app's flags were not found: %v", names)
	}
	for _, f := range flagWordsIn(t, root, names) {
		t.Errorf("%s: a library names a flag; write the option as a remedy.Kind (internal/remedy) and let cmd output.Phrase it", f)
	}
}

// The scan finds a flag in code and in comments, and leaves alone a
// longer word, another program's option, package main and tests.
func TestFlagWordsInFindsThem(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sync/x/x.go", "package x\n\n// use --force\nvar a = \"give --limit=x\"\nvar b = \"--forced --mount --timeouts\"\nvar k = \"kibana-keystore add --stdin --force s\"\n")
	write("sync/x/x_test.go", "package x\n\nvar c = \"--force\"\n")
	write("examples/demo/main.go", "package main\n\nvar d = \"--force\"\n")
	write("cmd/tool/main.go", "package tool\n\nvar e = \"--force\"\n")
	write("sync/x/testdata/y.go", "package y\n\nvar f = \"--force\"\n")
	got := flagWordsIn(t, root, map[string]bool{"force": true, "limit": true, "timeout": true})
	want := []string{`sync/x/x.go:3: // use --force`, `sync/x/x.go:4: var a = "give --limit=x"`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
