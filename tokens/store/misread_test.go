package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// A file whose token Elasticsearch would key under another name than the
// one shown is refused, with its line, before anything is written.
func TestMisreadFileIsNeverRewritten(t *testing.T) {
	for name, c := range map[string]struct {
		data string
		line int
		msg  string
	}{
		"bom":   {"\ufeffelastic/kibana/a:" + hash + "\n", 1, ":1: the file starts with a UTF-8 byte order mark, which Elasticsearch reads as part of the first token name: save the file without it"},
		"space": {"elastic/kibana/a:" + hash + "\nelastic/kibana/b :" + hash + "\n", 2, `:2: token "elastic/kibana/b ": the name ends with a space`},
	} {
		path := filepath.Join(t.TempDir(), "service_tokens")
		os.WriteFile(path, []byte(c.data), 0o640)
		called := false
		_, err := Update(path, func(*tokens.File) error { called = true; return nil })
		var me *MisreadError
		if !errors.As(err, &me) || me.Misread.Line != c.line || !strings.HasPrefix(err.Error(), path+c.msg) {
			t.Fatalf("%s: err = %v, want MisreadError %q", name, err, path+c.msg)
		}
		got, _ := os.ReadFile(path)
		if called || string(got) != c.data {
			t.Fatalf("%s: file was changed (fn called: %v)", name, called)
		}
		if _, err := Load(path); !errors.As(err, &me) {
			t.Fatalf("%s: Load: %v", name, err)
		}
	}
}
