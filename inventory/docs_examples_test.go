package inventory

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The docs' inventory examples are inventories: every ```yaml block of
// README.md and docs/*.md with a top-level nodes: key (or all:, Ansible's)
// loads, so that an example cannot drift from the parser (a renamed or
// removed key fails here). Files an example names relative to it (a CA, an API key file)
// are made empty beside it.
func TestDocsInventoryExamplesLoad(t *testing.T) {
	pages, _ := filepath.Glob("../docs/*.md")
	pages = append(pages, "../README.md")
	block := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	native := regexp.MustCompile(`(?m)^nodes:`)
	ansible := regexp.MustCompile(`(?m)^all:`) // an Ansible YAML inventory
	relative := regexp.MustCompile(`(?m)^\s+(?:ca|api_key_file|password_file):\s+([^/~\s#][^\s#]*)`)
	n := 0
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range block.FindAllSubmatch(data, -1) {
			if !native.Match(m[1]) && !ansible.Match(m[1]) {
				continue
			}
			n++
			dir := t.TempDir()
			for _, f := range relative.FindAllSubmatch(m[1], -1) {
				if err := os.WriteFile(filepath.Join(dir, string(f[1])), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "cluster.yml")
			if err := os.WriteFile(path, m[1], 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, Options{SSHConfig: filepath.Join(dir, "none"), Home: dir, User: "alice", Getenv: func(string) string { return "" }})
			if err != nil {
				t.Errorf("%s, YAML example %d: %v", page, i+1, err)
			}
		}
	}
	if n < 3 {
		t.Fatalf("found %d inventory examples in the docs: the pattern no longer matches them", n)
	}
}
