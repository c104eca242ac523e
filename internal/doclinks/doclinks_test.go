package doclinks

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// root is the repository's top directory, seen from this package's.
const root = "../.."

// maxReadmeLines is issue 17's bound: the README introduces; docs/ explains.
const maxReadmeLines = 300

// pages lists README.md and every docs/*.md, relative to root.
func pages(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md found (%v)", err)
	}
	out := []string{"README.md"}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

func read(t *testing.T, page string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, page))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// prose is page without its fenced code blocks and inline code spans,
// where brackets and parentheses are code, not links.
func prose(md string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			out = append(out, "")
			continue
		}
		if fenced {
			out = append(out, "")
			continue
		}
		out = append(out, inlineCode.ReplaceAllString(line, "``"))
	}
	return out
}

var (
	inlineCode = regexp.MustCompile("`[^`]*`")
	link       = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading    = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	notSlug    = regexp.MustCompile(`[^\p{L}\p{N} _-]`)
)

// anchors are the #fragments GitHub gives page's headings: lower case,
// punctuation dropped, spaces to hyphens, "-1", "-2"... for repeats.
func anchors(md string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	fenced := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
		}
		m := heading.FindStringSubmatch(line)
		if fenced || m == nil {
			continue
		}
		slug := strings.ReplaceAll(notSlug.ReplaceAllString(strings.ToLower(m[1]), ""), " ", "-")
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

type ref struct {
	page   string // where the link is, relative to root
	line   int
	target string // as written
}

// links are the relative links of page: web and mail addresses are not
// this test's business.
func links(page, md string) []ref {
	var out []ref
	for i, line := range prose(md) {
		for _, m := range link.FindAllStringSubmatch(line, -1) {
			u, err := url.Parse(m[1])
			if err == nil && (u.Scheme != "" || strings.HasPrefix(m[1], "//")) {
				continue
			}
			out = append(out, ref{page, i + 1, m[1]})
		}
	}
	return out
}

// resolve checks one link: its file exists (inside the repository) and its
// anchor, if any, is a heading of the .md it names.
func resolve(t *testing.T, r ref) {
	t.Helper()
	path, frag, _ := strings.Cut(r.target, "#")
	file := r.page
	if path != "" {
		file = filepath.ToSlash(filepath.Join(filepath.Dir(r.page), path))
		if strings.HasPrefix(file, "../") {
			t.Errorf("%s:%d: %s leaves the repository", r.page, r.line, r.target)
			return
		}
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			t.Errorf("%s:%d: %s: no such file or directory (%s)", r.page, r.line, r.target, file)
			return
		}
	}
	if frag == "" {
		return
	}
	if !strings.HasSuffix(file, ".md") {
		t.Errorf("%s:%d: %s: an anchor into a file that is not Markdown", r.page, r.line, r.target)
		return
	}
	if !anchors(read(t, file))[frag] {
		t.Errorf("%s:%d: %s: %s has no heading with anchor #%s", r.page, r.line, r.target, file, frag)
	}
}

func TestRelativeLinksResolve(t *testing.T) {
	n := 0
	for _, page := range pages(t) {
		for _, r := range links(page, read(t, page)) {
			resolve(t, r)
			n++
		}
	}
	if n < 20 {
		t.Fatalf("found only %d relative links: the link pattern no longer matches the docs", n)
	}
}

func TestEveryDocsPageIsLinkedFromTheReadme(t *testing.T) {
	linked := map[string]bool{}
	for _, r := range links("README.md", read(t, "README.md")) {
		path, _, _ := strings.Cut(r.target, "#")
		linked[filepath.ToSlash(filepath.Clean(path))] = true
	}
	for _, page := range pages(t)[1:] {
		if !linked[page] {
			t.Errorf("%s is not linked from README.md: a newcomer cannot find it", page)
		}
	}
}

func TestReadmeStaysShort(t *testing.T) {
	n := strings.Count(read(t, "README.md"), "\n")
	if n > maxReadmeLines {
		t.Errorf("README.md has %d lines, more than %d: move reference material to docs/", n, maxReadmeLines)
	}
}

// The anchors GitHub makes for headings this repository uses.
func TestAnchorsAsGitHubMakesThem(t *testing.T) {
	md := "# Selecting nodes with `--limit`\n## Differences from Elasticsearch's CLI\n" +
		"### ssh_config\n## Node backups (opt-in)\n```\n# not a heading\n```\n## Tests\n## Tests\n"
	got := anchors(md)
	for _, want := range []string{"selecting-nodes-with---limit", "differences-from-elasticsearchs-cli",
		"ssh_config", "node-backups-opt-in", "tests", "tests-1"} {
		if !got[want] {
			t.Errorf("no anchor #%s in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment inside a code block was taken for a heading")
	}
}

// Links inside code are code; links to the web are not checked here.
func TestLinksSkipCodeAndWebAddresses(t *testing.T) {
	md := "see [a](docs/a.md#x) and `[b](nope.md)`\n```\n[c](nope.md)\n```\n[d](https://example.com) [e](#local)\n"
	var got []string
	for _, r := range links("README.md", md) {
		got = append(got, r.target)
	}
	if strings.Join(got, " ") != "docs/a.md#x #local" {
		t.Errorf("links = %q", got)
	}
}
