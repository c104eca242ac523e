package libtext

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// words are other code's messages that only this package may match.
var words = []string{
	"unable to authenticate", "no common algorithm", "fingerprint mismatch",
	"HTTP response to HTTPS", "does not look like a TLS handshake",
	"command not found", "parse error",
}

// The words are matched in one function, in one file: a string literal
// holding one of them anywhere else in the shipped code is a second place
// that a library upgrade would silently break. The test harnesses
// (internal/testkit) are left out: they speak others' words (estest answers
// as Elasticsearch does), they do not read them.
func TestLibraryWordsLiveOnlyHere(t *testing.T) {
	root := "../.."
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "testkit" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.ToSlash(path) == root+"/internal/libtext/libtext.go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		n++
		ast.Inspect(f, func(node ast.Node) bool {
			lit, ok := node.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			for _, w := range words {
				if strings.Contains(s, w) {
					t.Errorf("%s: %q matches another library's words outside internal/libtext: use libtext.Of", fset.Position(lit.Pos()), w)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("read only %d Go files under %s: the walk no longer sees the module", n, root)
	}
}
